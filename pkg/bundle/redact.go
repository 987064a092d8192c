package bundle

import (
	"regexp"
	"strings"

	"github.com/skoala-dev/kubectl-skoala/pkg/dsn"
	"github.com/skoala-dev/kubectl-skoala/pkg/redact"
)

// redactAll is the one place where the bundle calls the redactor: every values tree, ConfigMap, object and
// text (logs, reports) goes through it before it is written. v is a map[string]any (values, objects) or a
// string (text); secrets are strings known to be secret (the passwords found in the fleet's values), masked
// wherever they appear in text. When pkg/redact gains new forms, this function is the one line to change.
func redactAll(v any, secrets []string) any {
	switch t := v.(type) {
	case map[string]any:
		return maskExtra(redact.Values(t), "")
	case string:
		return maskURLCredentials(redact.Scrub(t, secrets))
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

// urlCredentials finds scheme://user:password@ in text (repository and registry URLs, URL-style DSNs).
var urlCredentials = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@"'` + "`" + `]*):([^/\s@"'` + "`" + `]+)@`)

func maskURLCredentials(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return urlCredentials.ReplaceAllString(s, "${1}:"+dsn.Mask+"@")
}

// extraSensitive are keys the values redactor (pkg/redact at the time of writing) does not treat as secret
// but a support bundle must: registry auth strings and docker configs.
var extraSensitive = regexp.MustCompile(`(?i)^(auth|\.?dockerconfigjson|\.?dockercfg|pass|pwd|passphrase)$`)

// maskExtra masks, on top of redact.Values: URL credentials in every string, the keys of extraSensitive,
// and the value of every name/value pair whose name is sensitive (a container's env: DB_PASSWORD=...).
func maskExtra(v any, key string) any {
	switch t := v.(type) {
	case map[string]any:
		if n, ok := t["name"].(string); ok && (redact.IsSensitiveKey(n) || extraSensitive.MatchString(n)) {
			if val, ok := t["value"]; ok && val != nil && val != "" {
				t["value"] = dsn.Mask
			}
		}
		for k, x := range t {
			t[k] = maskExtra(x, k)
		}
		return t
	case []any:
		for i, x := range t {
			t[i] = maskExtra(x, key)
		}
		return t
	case string:
		if key != "" && t != "" && extraSensitive.MatchString(key) {
			return dsn.Mask
		}
		return maskURLCredentials(redact.String(t))
	}
	return v
}
