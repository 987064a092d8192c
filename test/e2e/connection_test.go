package e2e

// Connection settings and deadlines (issue 12 §4, §5): helm's connection flags reach the plugin, and with
// no timeout flag a black-holed API server cannot hold a verb.

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
)

// TestHelmPluginConnectionSettings: `helm --kube-apiserver URL --kube-token T --kube-ca-file CA skoala
// status` reads the server named (global, where the release is), not the kubeconfig's current context
// (workspace-1, where it is not), with helm 3 and helm 4.
func TestHelmPluginConnectionSettings(t *testing.T) {
	ensureRepoBinary(t)
	ns := Namespace(t, "conn")
	plantRelease(t, "global", ns, "skoala", helmRecord(t, `{"name":"skoala","namespace":"`+ns+`","version":1,`+
		`"info":{"status":"deployed","first_deployed":"2026-01-01T00:00:00Z","last_deployed":"2026-01-01T00:00:00Z"},`+
		`"chart":{"metadata":{"name":"skoala","version":"0.28.1","appVersion":"0.28.1","apiVersion":"v2"}},"config":{}}`))

	raw, err := clientcmd.LoadFromFile(fleet.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	global := raw.Clusters[raw.Contexts["global"].Cluster]
	ca := writeFile(t, t.TempDir(), "global-ca.crt", string(global.CertificateAuthorityData), 0o600)
	// A kubeconfig whose current context is another fleet cluster.
	r := MustKubectl(t, "config", "view", "--raw", "--flatten")
	kc := writeFile(t, t.TempDir(), "kubeconfig", regexp.MustCompile(`(?m)^current-context: .*$`).ReplaceAllString(r.Stdout, "current-context: workspace-1"), 0o600)

	for _, helm := range []string{"helm3", "helm4"} {
		t.Run(helm, func(t *testing.T) {
			s := newHelmSandbox(t, helm)
			s.mustRun(t, "plugin", "install", fleet.Root)
			env := []string{"KUBECONFIG=" + kc}
			status := func(args ...string) (installed bool, r Result) {
				r = s.run(t, env, args...)
				var st struct {
					Clusters []struct {
						Context  string `json:"context"`
						Releases []struct {
							Installed bool   `json:"installed"`
							Version   string `json:"version"`
						} `json:"releases"`
					} `json:"clusters"`
				}
				if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil || len(st.Clusters) == 0 || len(st.Clusters[0].Releases) == 0 {
					t.Fatalf("helm %v: no status JSON (%v):\n%s", args, err, r)
				}
				rel := st.Clusters[0].Releases[0]
				return rel.Installed && rel.Version == "0.28.1", r
			}
			if found, r := status("skoala", "status", "-n", ns, "-o", "json"); found {
				t.Fatalf("the fixture is wrong: the current context (workspace-1) has the release:\n%s", r)
			}
			for _, args := range [][]string{
				{"--kube-apiserver", global.Server, "--kube-token", fleet.Env["SKOALA_TOKEN_ADMIN"], "--kube-ca-file", ca, "skoala", "status", "-n", ns, "-o", "json"},
				// helm takes the argument after a bare --kube-insecure-skip-tls-verify as its value (its
				// plugin argument split lists the flag among those with values): the plugin gets its
				// arguments back from helm's command line. (Before a flag, as in `status
				// --kube-insecure-skip-tls-verify -o json`, helm itself fails on the flag it took: no plugin runs.)
				{"--kube-apiserver=" + global.Server, "--kube-token=" + fleet.Env["SKOALA_TOKEN_ADMIN"], "--kube-insecure-skip-tls-verify", "skoala", "status", "-n", ns, "-o", "json"},
				{"--kube-apiserver=" + global.Server, "--kube-token=" + fleet.Env["SKOALA_TOKEN_ADMIN"], "skoala", "--kube-insecure-skip-tls-verify", "status", "-n", ns, "-o", "json"},
				{"--kube-apiserver=" + global.Server, "--kube-token=" + fleet.Env["SKOALA_TOKEN_ADMIN"], "--kube-insecure-skip-tls-verify=true", "skoala", "status", "-n", ns, "-o", "json"},
			} {
				if found, r := status(args...); !found {
					t.Fatalf("helm %v read another server than the one named:\n%s", args, r)
				}
			}
			// The token is the one helm passed: nobody's token cannot read the release.
			r := s.run(t, env, "--kube-apiserver", global.Server, "--kube-token", fleet.Env["SKOALA_TOKEN_NOBODY"], "--kube-ca-file", ca, "skoala", "status", "-n", ns)
			if r.Code == 0 || !strings.Contains(r.Stdout+r.Stderr, "forbidden") {
				t.Fatalf("with --kube-token of user nobody: want a forbidden error:\n%s", r)
			}
		})
	}
}

// TestBlackHoledServerWithoutTimeoutFlags: a server that accepts connections and never answers, in a
// kubeconfig context, with no --request-timeout or --timeout: status and upgrade --dry-run each end within
// 90 s with exit 1 and one error line; doctor within 90 s with its finding (exit 3, the contract of
// doctor for a cluster that does not answer, as TestBadInputMatrix has it with --request-timeout). Over
// http:// (the request is sent, no answer comes: only a request deadline ends it) and https:// (the TLS
// handshake never completes).
func TestBlackHoledServerWithoutTimeoutFlags(t *testing.T) {
	dir := t.TempDir()
	hole := blackHole(t)
	for _, scheme := range []string{"http", "https"} {
		kc := kubeconfigFor(t, dir, "kubeconfig-blackhole-"+scheme, scheme+"://"+hole)
		env := withEnv(fleet.BaseEnv(t), "KUBECONFIG="+kc)
		for _, args := range [][]string{
			{"status"},
			{"doctor"},
			{"upgrade", "--dry-run", "--backup-dir", filepath.Join(dir, "b")},
		} {
			t.Run(scheme+" "+strings.Join(args, " "), func(t *testing.T) {
				start := time.Now()
				r := Run(t, env, 3*time.Minute, fleet.Skoala, args...)
				took := time.Since(start)
				if took > 90*time.Second {
					t.Errorf("took %s, want at most 90s", took.Round(time.Second))
				}
				if args[0] == "doctor" {
					if r.Code != 3 || !strings.Contains(r.Stdout, "[lonely]") || !strings.Contains(r.Stdout, "✗ fail") {
						t.Fatalf("want exit 3 and a failed check of context lonely (%s):\n%s", took.Round(time.Second), r)
					}
					return
				}
				errLines := 0
				for _, l := range strings.Split(r.Stderr, "\n") {
					if strings.HasPrefix(l, "error: ") {
						errLines++
					}
				}
				if r.Code != 1 || errLines != 1 || strings.TrimSpace(r.Stdout) != "" {
					t.Fatalf("want exit 1, one error line and nothing on stdout (%s):\n%s", took.Round(time.Second), r)
				}
			})
		}
	}
}
