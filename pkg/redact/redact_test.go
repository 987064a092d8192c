package redact

import (
	"encoding/json"
	"strings"
	"testing"
)

func values() map[string]any {
	return map[string]any{
		"hive": map[string]any{
			"configMap": map[string]any{
				"database": []any{map[string]any{"driver": "mysql", "dsn": "skoala:s3cr3t-pw@tcp(db:3306)/skoala?charset=utf8"}},
			},
			"image": map[string]any{"tag": "v0.28.1"},
		},
		"global": map[string]any{"imageRegistry": "r.example", "registryPassword": "hunter22", "apiToken": "tok-123456"},
		"plain":  "keep me",
	}
}

func TestValuesMasksSecretsAndKeepsTheRest(t *testing.T) {
	in := values()
	out := Values(in)
	b, _ := json.Marshal(out)
	s := string(b)
	for _, secret := range []string{"s3cr3t-pw", "hunter22", "tok-123456"} {
		if strings.Contains(s, secret) {
			t.Errorf("redacted values still contain %q: %s", secret, s)
		}
	}
	for _, keep := range []string{"keep me", "v0.28.1", "r.example", "skoala:******@tcp(db:3306)/skoala"} {
		if !strings.Contains(s, keep) {
			t.Errorf("redacted values lost %q: %s", keep, s)
		}
	}
	orig, _ := json.Marshal(in)
	if !strings.Contains(string(orig), "s3cr3t-pw") {
		t.Error("Values changed its input")
	}
}

func TestSecretsAndScrub(t *testing.T) {
	secs := Secrets(values())
	text := "error: could not connect with s3cr3t-pw, hunter22 and tok-123456"
	out := Scrub(text, secs)
	for _, secret := range []string{"s3cr3t-pw", "hunter22", "tok-123456"} {
		if strings.Contains(out, secret) {
			t.Errorf("Scrub left %q in %q", secret, out)
		}
	}
}

func FuzzValues(f *testing.F) {
	f.Add("password", "hunter22", "dsn", "u:pw123@tcp(h:1)/d")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		in := map[string]any{k1: v1, "nested": map[string]any{k2: v2, "list": []any{map[string]any{k1: v1}}}}
		out := Values(in)
		b, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		if IsSensitiveKey(k1) && len(v1) >= 4 && !strings.Contains(Mask(), v1) && strings.Contains(string(b), `"`+jsonEsc(v1)+`"`) {
			t.Fatalf("value of sensitive key %q kept: %s", k1, b)
		}
	})
}

func Mask() string { return "******" }

func jsonEsc(s string) string {
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), `"`)
}

func TestValuesMasksADSNPasswordWithSpecialCharacters(t *testing.T) {
	in := map[string]any{"hive": map[string]any{"configMap": map[string]any{"database": []any{
		map[string]any{"dsn": "skoala:Pa$$w0rd:@/?&=x@tcp(db:3306)/skoala?charset=utf8"}}}}}
	b, _ := json.Marshal(Values(in))
	if strings.Contains(string(b), "Pa$$w0rd") || !strings.Contains(string(b), "skoala:******@tcp(db:3306)") {
		t.Fatalf("redacted: %s", b)
	}
}
