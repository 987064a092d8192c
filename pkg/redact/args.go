package redact

import (
	"strings"
)

// ArgSecrets lists the secrets a command line gives (each of 3 bytes or more): the value of every
// password-like flag (--db-password VALUE, --db-password=VALUE), every password-like key of a --set,
// --set-string or --set-literal argument (with the comma-separated pieces a password with a comma splits
// into: helm then quotes a piece as a key name, "key \"cd\" has no value"), and the passwords of DSNs,
// URLs and user:password@host arguments. Main scrubs them from everything the command prints, so that
// a message that quotes a piece of an argument, in any words, shows none of it.
func ArgSecrets(args []string) []string {
	var out []string
	add := func(s string) {
		if len(s) >= shortest && s != Mask {
			out = append(out, s)
		}
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		for _, pw := range passwordsIn(a) {
			add(pw)
		}
		for _, sp := range userinfoSpans(a) {
			add(a[sp.i:sp.j])
		}
		if !strings.HasPrefix(a, "-") || a == "--" {
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !hasVal && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			val, hasVal = args[i+1], isValueFlag(name)
		}
		if !hasVal {
			continue
		}
		switch {
		case name == "set" || name == "set-string" || name == "set-literal" || name == "set-file" || name == "set-json":
			for _, s := range setSecrets(val) {
				add(s)
			}
		case IsSensitiveKey(name):
			add(val)
		}
	}
	return out
}

// isValueFlag reports whether a flag given without '=' takes the next argument as its value: the --set
// family and password-like flags (a password-like boolean flag such as --registry-password-stdin names a
// source, IsSensitiveKey says no).
func isValueFlag(name string) bool {
	return strings.HasPrefix(name, "set") || IsSensitiveKey(name)
}

// setSecrets lists the values of password-like keys of a --set argument, whole and in the pieces helm's
// parser splits it into at unescaped commas.
func setSecrets(arg string) []string {
	var out []string
	pieces := splitUnescaped(arg, ',')
	for i := 0; i < len(pieces); i++ {
		k, v, ok := strings.Cut(pieces[i], "=")
		if !ok || !IsSensitiveKey(k) {
			continue
		}
		whole := []string{v}
		out = append(out, v, strings.ReplaceAll(v, `\,`, ","))
		for _, p := range strings.Split(v, `\,`) {
			out = append(out, p)
		}
		for i+1 < len(pieces) && !strings.Contains(pieces[i+1], "=") {
			i++
			out = append(out, pieces[i])
			whole = append(whole, pieces[i])
		}
		out = append(out, strings.Join(whole, ","))
	}
	return out
}

func splitUnescaped(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
