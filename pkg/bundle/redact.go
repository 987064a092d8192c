package bundle

import "github.com/skoala-dev/kubectl-skoala/pkg/redact"

// redactAll is the one place where the bundle calls the redactor: every values tree, ConfigMap, object and
// text (logs, reports) goes through it before it is written. v is a map[string]any (values, objects) or a
// string (text); secrets are strings known to be secret (the passwords found in the fleet's values), masked
// wherever they appear in text. When pkg/redact gains new forms, this function is the one line to change.
func redactAll(v any, secrets []string) any {
	switch t := v.(type) {
	case map[string]any:
		return maskEnv(redact.Values(t))
	case string:
		return redact.Scrub(t, secrets)
	}
	return v
}

// redactValues is redactAll for a values tree.
func redactValues(v map[string]any) map[string]any {
	out, _ := redactAll(v, nil).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	return out
}

// redactText is redactAll for text.
func redactText(s string, secrets []string) string { return redactAll(s, secrets).(string) }

// secretsOf lists the secret strings of a values tree (to scrub them from every text of the bundle).
func secretsOf(v map[string]any) []string { return redact.Secrets(v) }

// maskEnv masks, on top of redact.Values, the value of every name/value pair whose name is sensitive (a
// container's env: DB_PASSWORD=...), and runs every string through redact.String.
func maskEnv(v any) any {
	switch t := v.(type) {
	case map[string]any:
		if n, ok := t["name"].(string); ok && redact.IsSensitiveKey(n) {
			if val, ok := t["value"]; ok && val != nil && val != "" {
				t["value"] = redact.Mask
			}
		}
		for k, x := range t {
			t[k] = maskEnv(x)
		}
		return t
	case []any:
		for i, x := range t {
			t[i] = maskEnv(x)
		}
		return t
	case string:
		return redact.String(t)
	}
	return v
}
