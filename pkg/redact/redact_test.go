package redact

import (
	"encoding/json"
	"errors"
	"fmt"
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
		"global":   map[string]any{"imageRegistry": "r.example", "registryPassword": "hunter22", "apiToken": "tok-123456"},
		"kingbase": map[string]any{"url": "kingbase://system:K1ngb4se-pw@kb.example:54321/skoala", "rootPwd": "r00t-pw-0"},
		"plain":    "keep me",
	}
}

func TestValuesMasksSecretsAndKeepsTheRest(t *testing.T) {
	in := values()
	out := Values(in)
	b, _ := json.Marshal(out)
	s := string(b)
	for _, secret := range []string{"s3cr3t-pw", "hunter22", "tok-123456", "K1ngb4se-pw", "r00t-pw-0"} {
		if strings.Contains(s, secret) {
			t.Errorf("redacted values still contain %q: %s", secret, s)
		}
	}
	for _, keep := range []string{"keep me", "v0.28.1", "r.example", "skoala:******@tcp(db:3306)/skoala?charset=utf8", "kingbase://system:******@kb.example:54321/skoala"} {
		if !strings.Contains(s, keep) {
			t.Errorf("redacted values lost %q: %s", keep, s)
		}
	}
	orig, _ := json.Marshal(in)
	if !strings.Contains(string(orig), "s3cr3t-pw") {
		t.Error("Values changed its input")
	}
}

func TestValuesKeepsShapeUnderSensitiveKeys(t *testing.T) {
	in := map[string]any{
		"auth":   map[string]any{"enabled": true, "rootPassword": "hunter22", "port": 3306, "list": []any{"pw-in-list"}},
		"dbPass": 123456, "secretName": "my-secret", "authEnabled": true, "passthrough": "keep",
		".dockerconfigjson": "eyJhdXRocyI6e319",
	}
	b, _ := json.Marshal(Values(in))
	s := string(b)
	for _, want := range []string{`"enabled":true`, `"secretName":"my-secret"`, `"authEnabled":true`, `"passthrough":"keep"`, `"dbPass":"******"`, `"port":"******"`, `"list":["******"]`, `".dockerconfigjson":"******"`} {
		if !strings.Contains(s, want) {
			t.Errorf("want %s in %s", want, s)
		}
	}
}

func TestValuesMasksADSNPasswordWithSpecialCharacters(t *testing.T) {
	in := map[string]any{"hive": map[string]any{"configMap": map[string]any{"database": []any{
		map[string]any{"dsn": "skoala:Pa$$w0rd:@/?&=x@tcp(db:3306)/skoala?charset=utf8"},
		map[string]any{"other": "skoala:pa ss'w\"d@tcp(db:3306)/skoala"}}}}}
	b, _ := json.Marshal(Values(in))
	if strings.Contains(string(b), "Pa$$w0rd") || strings.Contains(string(b), "w\\\"d") || !strings.Contains(string(b), "skoala:******@tcp(db:3306)") {
		t.Fatalf("redacted: %s", b)
	}
}

func TestIsSensitiveKey(t *testing.T) {
	for k, want := range map[string]bool{
		"password": true, "rootPwd": true, "pass": true, "dbPass": true, "auth": true, "accessKey": true, "secretKey": true,
		"apiKey": true, "api_key": true, "secret": true, "token": true, "rootpassword": true, "DB_PASSWORD": true, "--db-password": true,
		"identitytoken": true, ".dockerconfigjson": true, "clientSecret": true, "htpasswd": true, "imagePullCredentials": true,
		"secretName": false, "existingSecret": true, "passwordKeyRef": false, "authEnabled": false, "passthrough": false, "bypass": false,
		"author": false, "key": false, "username": false, "dsn": false, "image": false, "tokenFile": false, "compass": false, "HELM_DRIVER": false,
	} {
		if got := IsSensitiveKey(k); got != want {
			t.Errorf("IsSensitiveKey(%q) = %v, want %v (words %q)", k, got, want, splitWords(k))
		}
	}
}

func TestString(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"dial skoala:pw-1234@tcp(db:3306)/skoala: refused", "dial skoala:******@tcp(db:3306)/skoala: refused"},
		{"dsn=skoala:p:w@x@unix(/s)/d", "dsn=skoala:******@unix(/s)/d"},
		{"kingbase://system:K1ng@b4se@kb:54321/db?sslmode=disable", "kingbase://system:******@kb:54321/db?sslmode=disable"},
		{`repository skoala (http://robot:Regi5try-pw@127.0.0.1:8080/charts)`, `repository skoala (http://robot:******@127.0.0.1:8080/charts)`},
		{`"url":"postgres://u:pg-secret@h/db"`, `"url":"postgres://u:******@h/db"`},
		{"http://127.0.0.1:8080/a and https://u@host/x", "http://127.0.0.1:8080/a and https://u@host/x"},
		{"rootPwd: hunter22\nimage: x", "rootPwd: ******\nimage: x"},
		{`{"auths":{"r.example":{"username":"robot","password":"pw-1","auth":"cm9ib3Q6cHctMQ=="}}}`, `{"auths":{"r.example":{"username":"robot","password":"******","auth":"******"}}}`},
		{`{\"password\":\"esc-pw\"}`, `{\"password\":\"******\"}`},
		{"--set-string global.password=hunter22,a=b", "--set-string global.password=******,a=b"},
		{"Authorization: Bearer abc.def-ghi", "Authorization: Bearer ******"},
		{"token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln x", "token ******"[:6] + "****** x"},
		{"password: ******", "password: ******"},
		{"auth:\n  enabled: true\nsecretName: foo\npassword: |\n", "auth:\n  enabled: true\nsecretName: foo\npassword: |\n"},
		{"set HELM_DRIVER=secret and run again", "set HELM_DRIVER=secret and run again"},
		{"the basic check is ok", "the basic check is ok"},
		{"2 checks not run, they need a check above that did not pass: Kubernetes version", "2 checks not run, they need a check above that did not pass: Kubernetes version"},
		{"+  rootPwd: hunter22\n-  - auth: x", "+  rootPwd: ******\n-  - auth: ******"},
	} {
		if got := String(c.in); got != c.want {
			t.Errorf("String(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

func TestSecretsAndScrub(t *testing.T) {
	secs := Secrets(values())
	text := "error: could not connect with s3cr3t-pw, hunter22, K1ngb4se-pw, r00t-pw-0 and tok-123456"
	out := Scrub(text, secs)
	for _, secret := range []string{"s3cr3t-pw", "hunter22", "tok-123456", "K1ngb4se-pw", "r00t-pw-0"} {
		if strings.Contains(out, secret) {
			t.Errorf("Scrub left %q in %q", secret, out)
		}
	}
}

func TestErrorMasksAndUnwraps(t *testing.T) {
	base := errors.New("base")
	err := fmt.Errorf("get http://u:repo-pw@h/index.yaml: %w", base)
	r := Error(err)
	if strings.Contains(r.Error(), "repo-pw") || !errors.Is(r, base) {
		t.Fatalf("Error: %q, Is(base) %v", r, errors.Is(r, base))
	}
	if Error(nil) != nil {
		t.Fatal("Error(nil) is not nil")
	}
}

func TestHasherIsKeyedAndStable(t *testing.T) {
	a, b := NewHasher(), NewHasher()
	if a.Sum("hunter22") != a.Sum("hunter22") {
		t.Fatal("one hasher gives two digests for one secret")
	}
	if a.Sum("hunter22") == a.Sum("hunter23") {
		t.Fatal("two secrets, one digest")
	}
	if a.Sum("hunter22") == b.Sum("hunter22") {
		t.Fatal("two hashers (two runs) give one digest: the key is not per run")
	}
	if !strings.HasPrefix(a.Sum("x"), Mask) {
		t.Fatalf("digest %q does not start with the mask", a.Sum("x"))
	}
	v := a.Values(map[string]any{"password": "hunter22", "dsn": "u:hunter22@tcp(h:1)/d"})
	b2, _ := json.Marshal(v)
	if strings.Contains(string(b2), "hunter22") || strings.Count(string(b2), a.Sum("hunter22")) != 2 {
		t.Fatalf("Hasher.Values: %s", b2)
	}
	if s := a.String("rootPwd: hunter22"); s != "rootPwd: "+a.Sum("hunter22") {
		t.Fatalf("Hasher.String: %q", s)
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
		if IsSensitiveKey(k1) && len(v1) >= 4 && !strings.Contains(Mask, v1) && strings.Contains(string(b), `"`+jsonEsc(v1)+`"`) {
			t.Fatalf("value of sensitive key %q kept: %s", k1, b)
		}
	})
}

func jsonEsc(s string) string {
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), `"`)
}

// FuzzString plants a password in each form String masks and checks that none survives.
func FuzzString(f *testing.F) {
	f.Add("hunter22", "error: ")
	f.Add("p@ss:w/rd?x", "")
	f.Add("K1ng=b4se", "\n")
	f.Fuzz(func(t *testing.T, pw, prefix string) {
		if len(pw) < 4 || strings.ContainsAny(pw, " \t\r\n\"'`<>,;}])*\\@") || notAValue[pw] || !validText(pw) {
			return
		}
		if strings.ContainsAny(prefix, "\"'`\\") {
			prefix = ""
		}
		forms := []string{
			"kingbase://system:" + pw + "@kb.example:54321/db",
			"postgres://u:" + pw + "@h/db?sslmode=disable",
			"dial skoala:" + pw + "@tcp(db:3306)/skoala",
			"rootPwd: " + pw,
			"dbPass=" + pw,
			`{"auths":{"r":{"auth":"` + pw + `"}}}`,
			"Authorization: Bearer " + pw,
		}
		for i, form := range forms {
			sep := " "
			if i == 3 { // a key: value is a key at the start of a line (in prose "did not pass: x" is no key)
				sep = "\n  "
			}
			in := prefix + sep + form
			if strings.Contains(strings.Replace(in, pw, "", 1), pw) {
				continue // the password is also a part of the text around it
			}
			if out := String(in); strings.Contains(out, pw) {
				t.Fatalf("String(%q) = %q keeps the password", in, out)
			}
		}
	})
}

func validText(s string) bool {
	for _, r := range s {
		if r < 0x21 || r == 0x7f || r == 0xfffd {
			return false
		}
	}
	return true
}

func TestStringMasksMySQLDSNsWithSpecialPasswords(t *testing.T) {
	in := `dsn: "skoala:hunter2@tcp(db:3306)/skoala?charset=utf8" and root:toor@tcp(x:1)/y`
	if out := String(in); strings.Contains(out, "hunter2") || strings.Contains(out, "toor") || !strings.Contains(out, "skoala:"+Mask+"@tcp(db:3306)") {
		t.Fatalf("String = %q", out)
	}
	for _, pw := range []string{"Pa$$w0rd:@/?&=x", "a=b", "x@y:z", "p,w"} {
		for _, tmpl := range []string{"%s", "dsn=%s", "dsn: \"%s\"", "error: %s failed"} {
			full := "skoala:" + pw + "@tcp(db:3306)/skoala?charset=utf8"
			in := strings.Replace(tmpl, "%s", full, 1)
			if out := String(in); strings.Contains(out, pw) && pw != "p,w" {
				t.Errorf("String(%q) = %q keeps the password", in, out)
			}
		}
	}
}
