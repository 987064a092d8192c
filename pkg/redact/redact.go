// Package redact masks secrets in Helm values: every key named like password, secret, token (or
// credential, apikey) and the password of every DSN, wherever they are in the tree.
package redact

import (
	"regexp"
	"strings"

	"github.com/skoala-dev/kubectl-skoala/pkg/dsn"
)

var sensitiveKey = regexp.MustCompile(`(?i)(passw(or)?d|passwd|secret|token|credential|api[-_]?key|private[-_]?key)`)

// IsSensitiveKey reports whether a values key names secret material.
func IsSensitiveKey(k string) bool { return sensitiveKey.MatchString(k) }

// Values returns a deep copy of v with secrets masked. The input is not changed.
func Values(v map[string]any) map[string]any {
	out, _ := walk(v, "").(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	return out
}

func walk(v any, key string) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = walk(x, k)
		}
		return m
	case []any:
		l := make([]any, len(t))
		for i, x := range t {
			l[i] = walk(x, key)
		}
		return l
	case string:
		if key != "" && IsSensitiveKey(key) && t != "" {
			return dsn.Mask
		}
		if strings.EqualFold(key, "dsn") || strings.Contains(t, "@tcp(") || strings.Contains(t, "@unix(") {
			if d, err := dsn.Parse(t); err == nil {
				if d.Password == "" {
					return t
				}
				return d.String()
			}
			return dsn.MaskInString(t)
		}
		return t
	default:
		if key != "" && IsSensitiveKey(key) && t != nil {
			if _, isMap := t.(map[string]any); !isMap {
				return dsn.Mask
			}
		}
		return t
	}
}

// Secrets collects the secret strings found in v (passwords of DSNs, values of sensitive keys), so that a
// caller can scrub them from any text it is about to print.
func Secrets(v map[string]any) []string {
	var out []string
	var rec func(x any, key string)
	rec = func(x any, key string) {
		switch t := x.(type) {
		case map[string]any:
			for k, y := range t {
				rec(y, k)
			}
		case []any:
			for _, y := range t {
				rec(y, key)
			}
		case string:
			if key != "" && IsSensitiveKey(key) && len(t) >= 3 {
				out = append(out, t)
			}
			if d, err := dsn.Parse(t); err == nil && len(d.Password) >= 3 {
				out = append(out, d.Password)
			}
		}
	}
	rec(v, "")
	return out
}

// Scrub replaces every secret of secrets found in s by the mask, and masks DSN passwords.
func Scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, dsn.Mask)
		}
	}
	return dsn.MaskInString(s)
}
