package redact

import (
	"regexp"
	"strings"
)

// The forms of this file are secrets that are not the value of a key: a PEM private key, the userinfo of
// a registry given as user:password@host, the argument of a password flag given apart from it
// (--db-password VALUE), MySQL's -pPASSWORD, and the rest of a --set password that holds a comma.

// pemKey is the start of a PEM private key (RSA, EC, OpenSSH, PKCS#8, encrypted).
var pemKey = regexp.MustCompile(`-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----`)

// pemKeySpans finds the body of every PEM private key: from the end of its BEGIN line to its END line, or
// to the end of the text when the key is cut (a text that quotes half a key still shows none of it). The
// body may be indented (YAML), or JSON-escaped (\n): it is masked whole either way.
func pemKeySpans(s string) []span {
	var out []span
	for _, m := range pemKey.FindAllStringIndex(s, -1) {
		end := strings.Index(s[m[1]:], "-----END ")
		j := len(s)
		if end >= 0 {
			j = m[1] + end
		}
		if j > m[1] {
			out = append(out, span{m[1], j})
		}
	}
	return out
}

// userinfo is user:password@host[:port] with no scheme (a registry given as --registry user:pw@host, or
// a containerRegistry). The user holds no '/', ':' or '@'; the host is a DNS name or address with an
// optional port, followed by a path, a blank, a quote, a bracket or the end.
var userinfo = regexp.MustCompile(`(?:^|[\s"'=(\[,])([^\s/:@"'=(\[,]+):([^\s"'/][^\s"']*)@([A-Za-z0-9][A-Za-z0-9.\-]*(?::[0-9]+)?)(?:[/\s"',)\]]|$)`)

// userinfoSpans finds the password of every user:password@host. An image reference pinned by digest
// (hive:v1@sha256:...) and a MySQL DSN (@tcp(...)) are not credentials.
func userinfoSpans(s string) []span {
	var out []span
	for _, m := range userinfo.FindAllStringSubmatchIndex(s, -1) {
		host := strings.ToLower(s[m[6]:m[7]])
		if strings.HasPrefix(host, "sha256") || strings.HasPrefix(host, "sha512") || strings.HasPrefix(s[m[4]:m[5]], Mask) {
			continue
		}
		out = append(out, span{m[4], m[5]})
	}
	return out
}

// flagArg is a password-like flag whose value is the next argument: --db-password VALUE in a shell line,
// "--db-password" "VALUE" as Go's %q prints an argument list, "--db-password", "VALUE" in JSON, and
// "- --db-password" followed by "- VALUE" in a YAML list (a container's command or args).
// Groups: 1 the flag, 2 the value.
var flagArg = regexp.MustCompile(`(?:^|[\s"'\[,])(--?[A-Za-z][A-Za-z0-9_.\-]*)(?:"?[ \t]+"?|",[ \t]*"|"?,?[ \t]*\n[ \t]*-[ \t]+"?)` +
	`((?:\\.|[^\s"'\\,\]])+)`)

// proseWords follow a flag's name in a sentence ("give --db-password or --db-password-file"): they are
// not its value.
var proseWords = set("or", "and", "nor", "is", "are", "was", "to", "with", "without", "needs", "need", "flag", "given", "the", "a",
	"an", "of", "in", "on", "not", "but", "then", "if", "when", "must", "can", "cannot", "only", "also", "instead", "as", "for",
	"from", "says", "set", "unset", "takes", "reads", "wins", "overrides", "(the", "(a")

func flagArgSpans(s string) []span {
	var out []span
	for _, m := range flagArg.FindAllStringSubmatchIndex(s, -1) {
		flag, val := s[m[2]:m[3]], s[m[4]:m[5]]
		if strings.HasPrefix(val, "-") || strings.HasPrefix(val, Mask) || proseWords[strings.ToLower(val)] ||
			!IsSensitiveKey(strings.TrimLeft(flag, "-")) {
			continue
		}
		out = append(out, span{m[4], m[5]})
	}
	return out
}

// mysqlClient names a MySQL or MariaDB client whose -p takes the password glued to it.
var mysqlClient = regexp.MustCompile(`(?i)\b(mysql|mysqldump|mysqladmin|mysqlcheck|mysqlimport|mysqlsh|mariadb|mariadb-dump|mariadb-admin)\b`)

// mysqlShortPassword is -pPASSWORD as an argument of its own (a blank, a quote or a YAML list marker before).
var mysqlShortPassword = regexp.MustCompile(`(?:^|[\s"'\[,])-p((?:\\.|[^\s"'\\,\]])+)`)

// mysqlShortPasswordSpans finds -pPASSWORD in a text that runs a MySQL client (its command line, or a
// container spec whose command is one): elsewhere -p is another program's flag.
func mysqlShortPasswordSpans(s string) []span {
	if !mysqlClient.MatchString(s) {
		return nil
	}
	var out []span
	for _, m := range mysqlShortPassword.FindAllStringSubmatchIndex(s, -1) {
		if !strings.HasPrefix(s[m[2]:m[3]], Mask) {
			out = append(out, span{m[2], m[3]})
		}
	}
	return out
}

// setListEnd extends an unquoted key=value value that ends at a ',' (helm's --set list: a=1,b=2) over
// every following ",item" that is not itself a key=value: helm reads "password=ab,cd" as a password
// that the operator meant to hold a comma, so none of it may show.
func setListEnd(s string, j int) int {
	for j < len(s) && s[j] == ',' {
		k := j + 1
		for k < len(s) && !strings.ContainsRune(" \t\r\n,;\"'}])=", rune(s[k])) {
			k++
		}
		if k == j+1 || (k < len(s) && s[k] == '=') {
			return j
		}
		j = k
	}
	return j
}
