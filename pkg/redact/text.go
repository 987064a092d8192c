package redact

import (
	"regexp"
	"sort"
	"strings"
)

// span is a secret's byte range in a text.
type span struct{ i, j int }

// maskText masks, in order, MySQL DSN passwords, URL passwords, HTTP credentials and JWTs, and the values of
// password-like keys. Each pass leaves what an earlier one masked alone (a value that starts with Mask).
func maskText(s string, mask maskFunc) string {
	for _, find := range []func(string) []span{pemKeySpans, mysqlPasswordsInTextSpans, urlPasswordSpans, userinfoSpans, httpCredentialSpans,
		keyValueSpans, flagArgSpans, mysqlShortPasswordSpans} {
		if sp := find(s); len(sp) > 0 {
			s = replaceSpans(s, sp, mask)
		}
	}
	return s
}

// replaceSpans replaces each span of s (sorted, non-overlapping once merged) by mask of its text.
func replaceSpans(s string, sp []span, mask maskFunc) string {
	sort.Slice(sp, func(a, b int) bool { return sp[a].i < sp[b].i })
	var b strings.Builder
	last := 0
	for _, x := range sp {
		if x.i < last || x.j <= x.i {
			continue
		}
		if strings.HasPrefix(s[x.i:x.j], Mask) {
			continue
		}
		b.WriteString(s[last:x.i])
		b.WriteString(mask(s[x.i:x.j]))
		last = x.j
	}
	b.WriteString(s[last:])
	return b.String()
}

// mysqlPasswordsInTextSpans finds the password of every DSN-looking user:password@tcp(...) or @unix(...)
// in s. The DSN starts after the last blank or quote before the address (and after a key= prefix); its
// password runs from the first ':' after the user to the '@' of the address, so it may itself contain ':',
// '@', '=', '/' or '?'.
func mysqlPasswordsInTextSpans(s string) []span {
	var out []span
	off := 0
	for {
		at := firstAddr(s[off:])
		if at < 0 {
			return out
		}
		at += off
		head := s[:at]
		start := max(strings.LastIndexAny(head, " \t\n\"'`,;")+1, off)
		seg := head[start:]
		if c := strings.Index(seg, ":"); c >= 0 {
			if e := strings.LastIndex(seg[:c], "="); e >= 0 {
				start += e + 1
				seg = head[start:]
			}
		}
		if c := strings.Index(seg, ":"); c >= 0 && start+c+1 < at {
			out = append(out, span{start + c + 1, at})
		}
		off = at + 1
	}
}

func firstAddr(s string) int {
	t := strings.Index(s, "@tcp(")
	u := strings.Index(s, "@unix(")
	switch {
	case t < 0:
		return u
	case u < 0:
		return t
	case t < u:
		return t
	}
	return u
}

var urlScheme = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.\-]*://`)

// urlPasswordSpans finds the password of every scheme://user:password@host in s. The URL ends at a blank,
// a quote or an angle bracket; the password runs from the first ':' after the user to the URL's last '@'
// (so it may hold '@' or '/'; a user never holds '/', '?' or '#').
func urlPasswordSpans(s string) []span {
	var out []span
	for _, m := range urlScheme.FindAllStringIndex(s, -1) {
		rest := s[m[1]:]
		end := strings.IndexAny(rest, " \t\r\n\"'`<>")
		if end < 0 {
			end = len(rest)
		}
		tok := rest[:end]
		at := strings.LastIndex(tok, "@")
		if at <= 0 {
			continue
		}
		colon := strings.Index(tok[:at], ":")
		if colon < 0 || colon+1 >= at || strings.ContainsAny(tok[:colon], "/?#") {
			continue
		}
		out = append(out, span{m[1] + colon + 1, m[1] + at})
	}
	return out
}

// httpCredential is an Authorization header's credentials or a bearer token, and a JSON Web Token anywhere.
var httpCredential = regexp.MustCompile(`(?i)(?:authorization["']?\s*[:=]\s*["']?(?:bearer|basic|token)\s+|authorization["']?\s*[:=]\s*["']?)([^\s"'\\]+)` +
	`|\bbearer\s+([A-Za-z0-9._~+/=\-]{6,})|\b(eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*)`)

func httpCredentialSpans(s string) []span {
	var out []span
	for _, m := range httpCredential.FindAllStringSubmatchIndex(s, -1) {
		for g := 1; g <= 3; g++ {
			if m[2*g] >= 0 {
				out = append(out, span{m[2*g], m[2*g+1]})
			}
		}
	}
	return out
}

// keyValue is key: value, key=value, "key": "value" (also JSON-escaped inside a JSON string) and --key=value.
// Groups: 1 the key's opening quote, 2 the key, 3 the separator, 4 the value.
var keyValue = regexp.MustCompile(`(?:^|[^A-Za-z0-9_.\-\\])(\\?["'])?(-{0,2}[A-Za-z][A-Za-z0-9_.\-]*)(?:\\?["'])?[ \t]*([:=])[ \t]*` +
	`(\\"(?:[^"\\]|\\[^"])*\\"|"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|(?:\\,|[^\s,;"'}\])])+)`)

// structural reports whether an unquoted "key:" at i starts a structure (YAML, a diff of it): only
// indentation, list and diff markers are before it on its line. "did not pass: Kubernetes version" is
// prose, not a key; "key=value" and quoted keys are always structure.
func structural(s string, i int) bool {
	line := s[strings.LastIndexByte(s[:i], '\n')+1 : i]
	return strings.Trim(line, " \t+-#>|") == ""
}

// notAValue are the tokens after a key that start a structure, not a value.
var notAValue = map[string]bool{"|": true, "|-": true, "|+": true, ">": true, ">-": true, ">+": true, "{": true, "[": true, "{}": true, "[]": true,
	"null": true, "~": true, "bearer": true, "basic": true, "true": true, "false": true, `""`: true, "''": true, `\"\"`: true}

func keyValueSpans(s string) []span {
	var out []span
	for off := 0; off < len(s); {
		m := keyValue.FindStringSubmatchIndex(s[off:])
		if m == nil {
			break
		}
		for i := range m {
			if m[i] >= 0 { // -1 is a group that did not take part (an unquoted key): it stays -1
				m[i] += off
			}
		}
		key := s[m[4]:m[5]]
		vi, vj := m[8], m[9]
		val := s[vi:vj]
		quoted := m[2] >= 0
		if notAValue[strings.ToLower(val)] || !IsSensitiveKey(strings.TrimLeft(key, "-")) ||
			(!quoted && s[m[6]] == ':' && !structural(s, m[4])) {
			off = vi // the value may itself be a key (error: password: x)
			continue
		}
		if s[m[6]] == '=' && !strings.ContainsAny(val[:1], `"'\\`) {
			vj = setListEnd(s, vj) // --set a.password=ab\,cd or ab,cd: the password runs to the next key=
		}
		off = vj
		// The span is inside the quotes.
		switch {
		case strings.HasPrefix(val, `\"`) && len(val) >= 4:
			vi, vj = vi+2, vj-2
		case (val[0] == '"' || val[0] == '\'') && len(val) >= 2:
			vi, vj = vi+1, vj-1
		}
		if vj > vi {
			out = append(out, span{vi, vj})
		}
	}
	return out
}
