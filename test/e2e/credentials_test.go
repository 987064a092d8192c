package e2e

// Issue 24 §2: credentials only where they belong. A recording proxy in front of the fleet's real CNCF
// distribution registry, on plain HTTP at loopback (go-containerregistry falls back to plain HTTP for
// such a registry), proves that the registry credentials never travel over plain HTTP without
// --plain-http, and reach the registry they were given for when it is asked for. The secret forms of
// §2 (a PEM private key under tls.key, --db-password VALUE and mysql -pSECRET in a captured command line,
// a ',' in a --set password, --registry user:password@host) are planted and never show in any output or
// archive; the scanner (zz_secrets_test.go) looks for each of them in every capture too.

import (
	"archive/zip"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The canaries of issue 24 §2, one per form.
const (
	plantedPEMKeyBody    = `MIIEvQIBADANBgkqhkiG9w0BAQEFAASCPEMCanary24Body` // the body of a PEM private key under tls.key
	plantedDbPasswordArg = `DbArg-Canary-Pw24`                               // --db-password VALUE in a container's args
	plantedMySQLShortPw  = `MyShort-Canary-Pw24`                             // mysql -p<it> in a container's command
	plantedSetCommaPiece = `SetComma-Canary-Pw24`                            // --set mysql.rootPwd=ab,<it>
	plantedUserinfoPw    = `Userinfo-Canary-Pw24`                            // --registry robot:<it>@host
	plantedFlagPassword  = `FlagPw-Canary-Pw24`                              // upgrade --db-password <it>
)

// issue24Canaries are this file's canaries, for the scanner.
func issue24Canaries() []string {
	return []string{plantedPEMKeyBody, plantedDbPasswordArg, plantedMySQLShortPw, plantedSetCommaPiece, plantedUserinfoPw, plantedFlagPassword}
}

// authRecorder is a reverse proxy to the fleet's registry that records every request and its
// Authorization header.
type authRecorder struct {
	mu    sync.Mutex
	reqs  int
	auths []string
}

func (a *authRecorder) seen() (int, []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.reqs, append([]string(nil), a.auths...)
}

// recordingProxy serves the fleet's registry on plain HTTP at a loopback port of its own: a registry of
// another address, and one go-containerregistry would talk plain HTTP to.
func recordingProxy(t *testing.T, reg offlineRegistry) (string, *authRecorder) {
	t.Helper()
	pem, err := os.ReadFile(reg.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	target := &url.URL{Scheme: "https", Host: reg.Host}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host // the registry's Location headers then point back at the proxy
			pr.SetXForwarded()
		},
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
	}
	rec := &authRecorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.reqs++
		if a := r.Header.Get("Authorization"); a != "" {
			rec.auths = append(rec.auths, a)
		}
		rec.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), rec
}

// pushWithPassword runs images push with the password on stdin.
func pushWithPassword(t *testing.T, password string, args ...string) Result {
	t.Helper()
	script := `printf '%s\n' "$SKOALA_STDIN" | "$0" "$@"`
	all := append([]string{"-c", script, fleet.Skoala, "images", "push", "--registry-username", "skoala", "--registry-password-stdin"}, args...)
	return Run(t, append(fleet.BaseEnv(t), "SKOALA_STDIN="+password), 2*time.Minute, "sh", all...)
}

func TestImagesRegistryCredentialsNeverOverPlainHTTPUnlessAsked(t *testing.T) {
	reg := fleetRegistry(t)
	proxy, rec := recordingProxy(t, reg)
	target := proxy + "/" + runPrefix(t, "plainhttp")
	bundle := reg.bundle("amd64", "skoala-init", "0.57.2")

	t.Run("without --plain-http: one error line with a hint, exit 1, no request at all", func(t *testing.T) {
		r := pushWithPassword(t, reg.Password, "--bundle", bundle, "--registry", target)
		if r.Code != 1 {
			t.Fatalf("exit %d, want 1\n%s", r.Code, r)
		}
		if strings.Count(r.Stderr, "error: ") != 1 || !strings.Contains(r.Stderr, "does not answer over HTTPS") ||
			!strings.Contains(r.Stderr, "hint: ") || !strings.Contains(r.Stderr, "--plain-http") {
			t.Errorf("want one error line and a hint naming --plain-http\n%s", r)
		}
		if n, auths := rec.seen(); n != 0 {
			t.Fatalf("%d requests reached the plain-HTTP registry (Authorization %q)", n, auths)
		}
	})
	t.Run("with --plain-http: the push works and the registry receives the credentials given for it", func(t *testing.T) {
		r := pushWithPassword(t, reg.Password, "--bundle", bundle, "--registry", target, "--plain-http", "-o", "json")
		if r.Code != 0 {
			t.Fatalf("exit %d, want 0\n%s", r.Code, r)
		}
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte("skoala:"+reg.Password))
		n, auths := rec.seen()
		found := false
		for _, a := range auths {
			found = found || a == want
		}
		if n == 0 || !found {
			t.Fatalf("the registry saw %d requests and no Basic credentials of user skoala", n)
		}
		if strings.Contains(r.Stdout+r.Stderr, reg.Password) {
			t.Errorf("the password was printed\n%s", r)
		}
	})
}

func TestRedactSecretFormsOfIssue24NeverShow(t *testing.T) {
	ns := Namespace(t, "redact24")
	MustKubectl(t, "--context", "global", "create", "namespace", ns)
	pemKey := "-----BEGIN PRIVATE KEY-----\n" + plantedPEMKeyBody + "\nAnotherLineOfTheKey\n-----END PRIVATE KEY-----\n"
	objs := fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata: {name: tls-material, namespace: %[1]s}
data:
  tls.crt: "not a secret"
  tls.key: %[2]q
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db-client, namespace: %[1]s}
spec:
  replicas: 1
  selector: {matchLabels: {app: db-client}}
  template:
    metadata: {labels: {app: db-client}}
    spec:
      nodeName: kwok-node-0
      containers:
      - name: dump
        image: release.daocloud.io/library/mysql:8
        command: ["mysqldump", "-uroot", "-p%[3]s", "skoala"]
        args: ["--db-password", %[4]q, "--db-host", "mysql"]
`, ns, pemKey, plantedMySQLShortPw, plantedDbPasswordArg)
	dir := t.TempDir()
	MustKubectl(t, "--context", "global", "apply", "-f", writeFile(t, dir, "objs.yaml", objs, 0o600))

	zipPath := filepath.Join(dir, "b.zip")
	runs := [][]string{
		{"bundle", "-n", ns, "--logs", "-f", zipPath, "--timeout", "30s"},
		{"images", "push", "--bundle", "skoala_0.57.2.bundle.tar", "--registry", "robot:" + plantedUserinfoPw + "@127.0.0.1:1"},
		{"images", "load-config", "--bundle-dir", dir, "--registry", "robot:" + plantedUserinfoPw + "@127.0.0.1:1"},
		{"upgrade", "-n", ns, "--version", "0.33.2", "--dry-run", "--set", "mysql.rootPwd=ab," + plantedSetCommaPiece},
		{"upgrade", "-n", ns, "--version", "0.33.2", "--dry-run", "--db-host", "127.0.0.1:1", "--db-user", "u", "--db-password", plantedFlagPassword, "--timeout", "5s"},
	}
	for _, args := range runs {
		r := Skoala(t, args...)
		if r.Code != 0 && r.Code != 1 && r.Code != 2 && r.Code != 3 {
			t.Fatalf("exit %d\n%s", r.Code, r)
		}
		for _, s := range issue24Canaries() {
			if strings.Contains(r.Stdout+r.Stderr, s) {
				t.Errorf("%v shows the canary %s\n%s", args[:2], mask(s), r)
			}
		}
		if args[1] == "push" && (r.Code != 2 || !strings.Contains(r.Stderr, "robot:******@127.0.0.1:1")) {
			t.Errorf("credentials in --registry: exit %d, want 2 and the address shown masked\n%s", r.Code, r)
		}
	}

	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	pods := false
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		pods = pods || strings.Contains(string(b), "mysqldump")
		for _, s := range issue24Canaries() {
			if strings.Contains(string(b), s) {
				t.Errorf("the bundle's %s holds the canary %s", f.Name, mask(s))
			}
		}
	}
	if !pods {
		t.Fatalf("the bundle holds no Deployment or Pod with the mysqldump command: the forms were not exercised")
	}
}
