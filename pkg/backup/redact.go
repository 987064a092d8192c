package backup

import (
	"github.com/skoala-dev/kubectl-skoala/pkg/dsn"
	"github.com/skoala-dev/kubectl-skoala/pkg/redact"
)

// RedactValues returns a copy of v safe to share: every string that parses as a DSN has its password
// masked (whatever characters the password holds), then redact.Values masks sensitive keys and the DSNs
// it recognises itself.
func RedactValues(v map[string]any) map[string]any {
	out, _ := maskDSNs(v).(map[string]any)
	return redact.Values(out)
}

func maskDSNs(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = maskDSNs(x)
		}
		return m
	case []any:
		l := make([]any, len(t))
		for i, x := range t {
			l[i] = maskDSNs(x)
		}
		return l
	case string:
		if d, err := dsn.Parse(t); err == nil && d.Password != "" {
			return d.String()
		}
		return t
	}
	return v
}
