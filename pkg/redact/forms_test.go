package redact

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const pemBody = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7Vb\nq3n0Ktl5bPemKeyLine2Zx9\n"

// Each form of issue 24 §2 that the redactor showed (in full or in part), in the ways output carries it.
func TestStringMasksEveryFormOfIssue24(t *testing.T) {
	pem := "-----BEGIN RSA PRIVATE KEY-----\n" + pemBody + "-----END RSA PRIVATE KEY-----"
	pemJSON, _ := json.Marshal(map[string]string{"tls.key": pem, "tls.crt": "cert"})
	for _, c := range []struct {
		name, in string
		secrets  []string
		keep     []string
	}{
		{"registry userinfo as a flag", "error: --registry admin:Reg-pw-9@reg.example:5000 refused", []string{"Reg-pw-9"}, []string{"admin:******@reg.example:5000"}},
		{"registry userinfo in YAML", "target:\n  containerRegistry: admin:Reg,pw@9@reg.example:5000/skoala\n", []string{"Reg,pw@9", "pw@9"}, []string{"reg.example:5000/skoala"}},
		{"registry userinfo quoted", `registry "admin:Reg-pw-9@10.0.0.1:5000": bad`, []string{"Reg-pw-9"}, nil},
		{"PEM key under tls.key in YAML", "data:\n  tls.key: |\n    " + strings.ReplaceAll(pem, "\n", "\n    ") + "\n  tls.crt: cert\n", []string{"MIIEvQ", "KeyLine2"}, []string{"BEGIN RSA PRIVATE KEY", "tls.crt: cert"}},
		{"PEM key in JSON", string(pemJSON), []string{"MIIEvQ", "KeyLine2"}, []string{`"tls.crt":"cert"`}},
		{"PEM key cut", "key: x\n-----BEGIN PRIVATE KEY-----\n" + pemBody[:30], []string{"MIIEvQ"}, nil},
		{"--db-password VALUE", `args: ["kubectl-skoala" "status" "--db-host" "db" "--db-password" "Db-pw-77"]`, []string{"Db-pw-77"}, []string{`"--db-host" "db"`}},
		{"--db-password VALUE shell", "kubectl skoala status --db-password Db-pw-77 --db-host db", []string{"Db-pw-77"}, []string{"--db-host db"}},
		{"--db-password VALUE in JSON args", `"args":["--db-password","Db-pw-77","--x"]`, []string{"Db-pw-77"}, nil},
		{"--db-password VALUE in a YAML list", "    args:\n    - --db-password\n    - Db-pw-77\n    - --x\n", []string{"Db-pw-77"}, nil},
		{"-pSECRET", `command: ["mysqldump", "-uroot", "-pMy-pw-55", "skoala"]`, []string{"My-pw-55"}, []string{"-uroot", "skoala"}},
		{"-pSECRET in a YAML list", "command:\n- mysql\n- -h\n- db\n- -pMy-pw-55\n", []string{"My-pw-55"}, nil},
		{"-pSECRET in a shell line", "sh -c 'mysql -uroot -pMy-pw-55 -e \"select 1\"'", []string{"My-pw-55"}, nil},
		{"--set password with an escaped comma", `--set global.password=ab\,Cd-pw-3,image.tag=v1`, []string{"Cd-pw-3"}, []string{"image.tag=v1"}},
		{"--set password with a comma", `--set-string mysql.rootPassword=ab,Cd-pw-3,other=v`, []string{"Cd-pw-3"}, []string{"other=v"}},
	} {
		out := String(c.in)
		for _, sec := range c.secrets {
			if strings.Contains(out, sec) {
				t.Errorf("%s: String(%q)\n = %q keeps %q", c.name, c.in, out, sec)
			}
		}
		for _, k := range c.keep {
			if !strings.Contains(out, k) {
				t.Errorf("%s: String(%q)\n = %q lost %q", c.name, c.in, out, k)
			}
		}
	}
	v := Values(map[string]any{"tls.key": pem, "cfg": "ca: x\n" + pem, "ssh-privatekey": "k"})
	b, _ := json.Marshal(v)
	if strings.Contains(string(b), "MIIEvQ") || strings.Contains(string(b), `"k"`) {
		t.Errorf("Values kept a private key: %s", b)
	}
}

// Plain text that names a flag, a digest or a key is no secret: nothing of it is masked.
func TestStringKeepsProseAndReferences(t *testing.T) {
	for _, s := range []string{
		"--db-host/--db-user need --db-password or --db-password-file",
		"check the user and password (--registry-username, --registry-password-stdin) or 'docker login reg'",
		"release.daocloud.io/skoala/hive:v0.28.1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"hive:v1@sha256:abcdef and git@github.com:org/repo",
		"kubectl -n skoala-system logs -p hive-0",
		"the tls.key of the secret is missing",
		"    - skip  2 checks not run, they need a check above that did not pass: Kubernetes version",
		"hint: is the API server up?\n    - skip  2 checks not run, they need a check above that did not pass: Kubernetes version",
		"  workspace-1 objects/secrets.json: forbidden (403): secrets is forbidden",
		"--set image.tag=v1,global.imageRegistry=r.example",
	} {
		if out := String(s); out != s {
			t.Errorf("String(%q)\n = %q, want it unchanged", s, out)
		}
	}
}

// secretGoldens are the goldens of runs that were given a secret (the diff of values holding passwords):
// there a mask is the point. Every other golden is the output of a run given no secret.
var secretGoldens = map[string]bool{
	"pkg/cmd/upgrade/testdata/diff.txt":       true,
	"pkg/cmd/upgrade/testdata/diff-color.txt": true,
}

// TestNoMaskInTheGoldensOfRunsGivenNoSecret reads every golden file under pkg/**/testdata: each is what a
// verb or renderer prints, and the command's writer passes it through String. A run given no secret must
// come out of the redactor unchanged (no "******" where there was no secret); a run given secrets must
// come out unchanged too (its secrets are masked already, and nothing else is).
func TestNoMaskInTheGoldensOfRunsGivenNoSecret(t *testing.T) {
	root := filepath.Join("..", "..")
	n := 0
	err := filepath.WalkDir(filepath.Join(root, "pkg"), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "fuzz" {
				return filepath.SkipDir // fuzz corpora are inputs, not output
			}
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if !strings.Contains(rel, "/testdata/") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		s := string(b)
		if !secretGoldens[rel] && strings.Contains(s, Mask) {
			t.Errorf("%s holds %q but its run was given no secret", rel, Mask)
		}
		if out := String(s); out != s {
			ol, nl := strings.Split(s, "\n"), strings.Split(out, "\n")
			for i := range ol {
				if i < len(nl) && ol[i] != nl[i] {
					t.Errorf("%s:%d: the redactor changes a line of output that holds no secret:\n  %q\n  %q", rel, i+1, ol[i], nl[i])
					break
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Fatalf("read only %d golden files under pkg/**/testdata", n)
	}
}

// A --set password with a comma: helm's parser quotes the piece after the comma as a key name, in words
// the redactor cannot read as a secret; the command line's secrets are scrubbed from all output.
func TestArgSecretsScrubWhatTheCommandLineGives(t *testing.T) {
	args := []string{"upgrade", "-n", "x", "--set", "mysql.rootPwd=ab,Cd-pw-77", "--set-string=global.password=ef\\,Gh-pw-88,image.tag=v1",
		"--db-password", "Db-pw-99", "--token=Tok-pw-11", "--registry", "admin:Reg-pw-22@r.example:5000", "--registry-password-stdin", "--bundle", "b.tar",
		"--db-dsn", "u:Dsn-pw-33@tcp(h:3306)/d"}
	secrets := ArgSecrets(args)
	var b strings.Builder
	w := ScrubWriter(&b, secrets)
	for _, msg := range []string{
		`error: parsing --set mysql.rootPwd: key "Cd-pw-77" has no value`,
		"value Gh-pw-88 and ef,Gh-pw-88", "Db-pw-99 Tok-pw-11 Reg-pw-22 Dsn-pw-33",
	} {
		_, _ = w.Write([]byte(msg + "\n"))
	}
	for _, sec := range []string{"Cd-pw-77", "Gh-pw-88", "Db-pw-99", "Tok-pw-11", "Reg-pw-22", "Dsn-pw-33"} {
		if strings.Contains(b.String(), sec) {
			t.Errorf("the output shows %q:\n%s", sec, b.String())
		}
	}
	for _, keep := range []string{"b.tar", "v1", "admin", "x"} {
		for _, s := range secrets {
			if s == keep {
				t.Errorf("ArgSecrets lists %q, which is no secret: %q", keep, secrets)
			}
		}
	}
}

// In a values tree (a container's command and args, as the bundle writes pods), the argument after a
// password flag and MySQL's -pPASSWORD are masked element by element.
func TestValuesMasksCommandLineArguments(t *testing.T) {
	v := Values(map[string]any{"spec": map[string]any{"containers": []any{map[string]any{
		"command": []any{"mysqldump", "-uroot", "-pMy-pw-55", "-h", "db"},
		"args":    []any{"--db-password", "Db-pw-77", "--port", "3306", "--db-host", "db"},
	}}}})
	b, _ := json.Marshal(v)
	for _, sec := range []string{"My-pw-55", "Db-pw-77"} {
		if strings.Contains(string(b), sec) {
			t.Errorf("Values kept %q: %s", sec, b)
		}
	}
	for _, keep := range []string{`"-uroot"`, `"3306"`, `"--db-host","db"`} {
		if !strings.Contains(string(b), keep) {
			t.Errorf("Values lost %s: %s", keep, b)
		}
	}
}
