// Package redact is the one redactor every output path goes through: it masks the secrets a text, a Helm
// values tree or an error may hold, in every form the plugin meets them.
//
// The forms (each masked to Mask, or to a keyed digest by a Hasher):
//
//   - MySQL DSNs (go-sql-driver syntax), in a value of their own or in text:
//     user:<password>@tcp(host:port)/db, user:<password>@unix(/sock)/db;
//   - URL credentials of any scheme: scheme://user:<password>@host..., URL-style DSNs
//     (kingbase://, postgres://, mysql://), repository and proxy URLs;
//   - the value of every password-like key (see IsSensitiveKey), in a values tree and in text written as
//     key: value, key=value, "key": "value" (YAML, JSON, --set, logfmt);
//   - HTTP credentials: Authorization: Bearer|Basic <token>, and JSON Web Tokens wherever they are;
//   - registry credentials: docker config "auths" entries (their auth, password and identitytoken keys).
//
// API: String masks a text, Values a values tree (a deep copy), Error an error (its message and hint),
// Secrets lists the secret strings of a values tree and Scrub masks those (and every form above) in a text.
// A Hasher does the same with a keyed digest instead of the mask, for diffs.
package redact

import (
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Mask replaces a secret in output.
const Mask = "******"

// shortest is the length from which a known secret string is replaced in free text by Scrub: shorter ones
// are words of any sentence ("the", "to"), which no message can avoid.
const shortest = 3

// maskFunc turns a secret into what output shows instead.
type maskFunc func(secret string) string

func constMask(string) string { return Mask }

// String returns s with every secret form of the package documentation masked.
func String(s string) string { return maskText(s, constMask) }

// Values returns a deep copy of v with every secret masked. The input is not changed.
func Values(v map[string]any) map[string]any { return maskValues(v, constMask) }

// Scrub returns s with every one of secrets (each of 3 bytes or more), and every form String masks, masked.
func Scrub(s string, secrets []string) string { return scrubWith(s, secrets, constMask) }

// Error returns err with its message (and exit hint, when its chain has one) masked; nil stays nil. The
// result unwraps to err, so errors.Is and errors.As see the same chain.
func Error(err error) error {
	if err == nil {
		return nil
	}
	return &maskedError{err: err, msg: String(err.Error())}
}

type maskedError struct {
	err error
	msg string
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }

func scrubWith(s string, secrets []string, mask maskFunc) string {
	for _, sec := range secrets {
		if len(sec) >= shortest && sec != Mask {
			s = strings.ReplaceAll(s, sec, mask(sec))
		}
	}
	return maskText(s, mask)
}

// Secrets collects the secret strings found in v (the values of sensitive keys, the passwords of DSNs and
// URLs), so that a caller can scrub them from any text it is about to print (a Helm message that quotes
// a value).
func Secrets(v map[string]any) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if len(s) >= shortest && !seen[s] && s != Mask {
			seen[s] = true
			out = append(out, s)
		}
	}
	var rec func(x any, sensitive bool)
	rec = func(x any, sensitive bool) {
		switch t := x.(type) {
		case map[string]any:
			for k, y := range t {
				rec(y, sensitive || IsSensitiveKey(k))
			}
		case []any:
			for _, y := range t {
				rec(y, sensitive)
			}
		case string:
			if sensitive {
				add(t)
			}
			for _, pw := range passwordsIn(t) {
				add(pw)
			}
		}
	}
	rec(v, false)
	return out
}

func maskValues(v map[string]any, mask maskFunc) map[string]any {
	out, _ := walk(v, false, mask).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	return out
}

// walk copies v; sensitive says a key above names secret material: every string or number below it is
// masked (maps and lists are walked, booleans and nulls kept, so a redacted copy keeps its shape).
func walk(v any, sensitive bool, mask maskFunc) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = walk(x, sensitive || IsSensitiveKey(k), mask)
		}
		return m
	case []any:
		l := make([]any, len(t))
		secretArg := argListSecrets(t)
		for i, x := range t {
			if s, ok := x.(string); ok && secretArg[i] && s != "" {
				l[i] = mask(s)
				continue
			}
			l[i] = walk(x, sensitive, mask)
		}
		return l
	case string:
		if sensitive && t != "" {
			return mask(t)
		}
		return maskValueString(t, mask)
	case nil, bool:
		return t
	default: // numbers
		if sensitive {
			return mask(toString(t))
		}
		return t
	}
}

// maskValueString masks a string that is a value of its own: a whole DSN or URL is read with the MySQL
// driver's own rule (the password runs to the last '@' before the last '/'), so that any character of
// the password is covered; anything else is masked as text.
func maskValueString(s string, mask maskFunc) string {
	if i, j, ok := mysqlPassword(s); ok {
		return s[:i] + mask(s[i:j]) + maskText(s[j:], mask)
	}
	return maskText(s, mask)
}

// passwordsIn lists the DSN and URL passwords of s.
func passwordsIn(s string) []string {
	var out []string
	if i, j, ok := mysqlPassword(s); ok {
		out = append(out, s[i:j])
	}
	for _, x := range append(urlPasswordSpans(s), mysqlPasswordsInTextSpans(s)...) {
		out = append(out, s[x.i:x.j])
	}
	return out
}

// mysqlNet is the part of a MySQL DSN between '@' and '/': net(addr), or a bare net name.
var mysqlNet = regexp.MustCompile(`^(tcp|tcp4|tcp6|unix|udp|[a-z0-9]+)\(.*\)$`)

// mysqlPassword finds the password of s read whole as a go-sql-driver DSN (mysql.ParseDSN's rule): the
// last '/' ends the address, the last '@' before it ends the password, which starts after the first ':'.
func mysqlPassword(s string) (i, j int, ok bool) {
	slash := strings.LastIndex(s, "/")
	if slash < 0 {
		return 0, 0, false
	}
	at := strings.LastIndex(s[:slash], "@")
	if at <= 0 || !mysqlNet.MatchString(s[at+1:slash]) {
		return 0, 0, false
	}
	colon := strings.Index(s[:at], ":")
	if colon < 0 || colon+1 == at || strings.ContainsAny(s[:colon], " \t\n/") {
		return 0, 0, false
	}
	return colon + 1, at, true
}

func toString(v any) string { return fmt.Sprint(v) }

// argListSecrets marks the elements of a list that are secret as arguments of a command line (a
// container's command and args): the one after a password-like flag (--db-password, VALUE) and MySQL's
// -pPASSWORD when the list runs a MySQL client.
func argListSecrets(l []any) map[int]bool {
	var out map[int]bool
	mark := func(i int) {
		if out == nil {
			out = map[int]bool{}
		}
		out[i] = true
	}
	mysql := false
	for _, x := range l {
		if s, ok := x.(string); ok && mysqlClient.MatchString(s) {
			mysql = true
		}
	}
	for i, x := range l {
		s, ok := x.(string)
		if !ok || !strings.HasPrefix(s, "-") {
			continue
		}
		if mysql && strings.HasPrefix(s, "-p") && len(s) > 2 && !strings.HasPrefix(s, "--") {
			mark(i)
			continue
		}
		if !strings.Contains(s, "=") && IsSensitiveKey(strings.TrimLeft(s, "-")) && i+1 < len(l) {
			if next, ok := l[i+1].(string); ok && !strings.HasPrefix(next, "-") {
				mark(i + 1)
			}
		}
	}
	return out
}

// ScrubWriter returns a writer that masks every Write with String, and every one of secrets (Scrub, such as
// those of the command line: ArgSecrets), before passing it to w: the command's stdout and stderr go through
// it, so no output path can skip the redactor. Each Write is masked on its own (the plugin writes whole
// lines, tables and documents), so a prompt with no newline shows at once. The writer keeps w's file
// descriptor (Fd), so terminal detection still sees a terminal.
func ScrubWriter(w io.Writer, secrets []string) io.Writer {
	if f, ok := w.(interface{ Fd() uintptr }); ok {
		return &fdWriter{writer{w, secrets}, f.Fd()}
	}
	return &writer{w, secrets}
}

type writer struct {
	w       io.Writer
	secrets []string
}

func (m *writer) Write(p []byte) (int, error) {
	s := string(p)
	if out := Scrub(s, m.secrets); out != s {
		if _, err := io.WriteString(m.w, out); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return m.w.Write(p)
}

type fdWriter struct {
	writer
	fd uintptr
}

// Fd is the file descriptor of the wrapped file.
func (f *fdWriter) Fd() uintptr { return f.fd }
