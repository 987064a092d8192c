package e2e

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// The DCE access token and a marker of the kubeconfig the fake kpanda API serves: neither may appear in
// any output (zz_secrets_test.go scans for them).
const (
	kpandaDCEToken         = "dce-AccessKey-c4n4ry-7Rq2"
	kpandaKubeconfigMarker = "kpanda-kubeconfig-c4n4ry-user"
)

// kpandaCluster is a Cluster object of the fixture CRD (test/kpanda), with only public fields.
func kpandaCluster(name, idField, uid string, host bool, status map[string]any) string {
	labels := map[string]string{}
	if host {
		labels["cluster-role.kpanda.io/host"] = ""
	}
	if status == nil {
		status = map[string]any{"phase": "Running", "kubernetesVersion": "v1.37.2"}
	}
	if uid != "" {
		status[idField] = uid
	}
	obj := map[string]any{
		"apiVersion": "cluster.kpanda.io/v1alpha1", "kind": "Cluster",
		"metadata": map[string]any{"name": name, "labels": labels},
		"spec":     map[string]any{"provider": "GENERIC", "roles": []string{"CLUSTER_ROLE_WORKER"}},
		"status":   status,
	}
	b, _ := json.Marshal(obj)
	return string(b)
}

func kubeSystemUID(t *testing.T, kubeContext string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ns, err := clientFor(t, kubeContext).CoreV1().Namespaces().Get(ctx, "kube-system", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return string(ns.UID)
}

// kubectlApply applies a manifest to a context of the fleet.
func kubectlApply(t *testing.T, kubeContext, manifest string) {
	t.Helper()
	cmd := exec.Command("kubectl", "--context", kubeContext, "apply", "-f", "-")
	cmd.Env = fleet.BaseEnv(t)
	cmd.Stdin = strings.NewReader(manifest)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kubectl apply on %s: %v\n%s", kubeContext, err, out)
	}
}

// editedKubeconfig writes a copy of the fleet's kubeconfig changed by edit.
func editedKubeconfig(t *testing.T, name string, edit func(*clientcmdapi.Config)) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(fleet.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	edit(cfg)
	p := filepath.Join(t.TempDir(), name)
	if err := clientcmd.WriteToFile(*cfg, p); err != nil {
		t.Fatal(err)
	}
	return p
}

// fakeKpandaAPI serves the two paths of the kpanda OpenAPI on loopback: the cluster list, and
// GET /apis/kpanda.io/v1alpha1/clusters/{cluster}/kubeconfig answered with {"kubeConfigString": ...}, for a
// request with the bearer token only. It counts the kubeconfig requests.
func fakeKpandaAPI(t *testing.T, kubeconfigs map[string]string) (string, *atomic.Int64) {
	t.Helper()
	var served atomic.Int64
	mux := http.NewServeMux()
	authorized := func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("Authorization") != "Bearer "+kpandaDCEToken {
			http.Error(w, `{"code":16,"message":"unauthenticated"}`, http.StatusUnauthorized)
			return false
		}
		return true
	}
	mux.HandleFunc("GET /apis/kpanda.io/v1alpha1/clusters", func(w http.ResponseWriter, r *http.Request) {
		if !authorized(w, r) {
			return
		}
		var items []map[string]any
		for name := range kubeconfigs {
			items = append(items, map[string]any{"metadata": map[string]any{"name": name}})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"items": items, "pagination": map[string]any{"total": len(items)}})
	})
	mux.HandleFunc("GET /apis/kpanda.io/v1alpha1/clusters/{cluster}/kubeconfig", func(w http.ResponseWriter, r *http.Request) {
		if !authorized(w, r) {
			return
		}
		kc, ok := kubeconfigs[r.PathValue("cluster")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		served.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]string{"kubeConfigString": kc})
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + l.Addr().String(), &served
}

// TestKpandaFleet runs --fleet kpanda against a global cluster holding the fixture CRD of DCE's cluster
// registry and Cluster objects for workspace-1, workspace-2 (the other spelling, kubeSystemId) and
// workspace-9, a cluster no context reaches (the fleet has global and workspace-1..3; this test reads
// global, workspace-1 and workspace-2). The kpanda API path reaches workspace-2 from a kubeconfig without its context.
func TestKpandaFleet(t *testing.T) {
	if len(fleet.Clusters) < 3 {
		t.Fatalf("this test needs the fleet of CLUSTERS=3 (global, workspace-1, workspace-2), got %v", fleet.Clusters)
	}
	ns := Namespace(t, "kp")
	crd := filepath.Join(fleet.Root, "test", "kpanda", "clusters.cluster.kpanda.io.yaml")
	MustKubectl(t, "--context", "global", "apply", "-f", crd)
	t.Cleanup(func() {
		_ = exec.Command("kubectl", "--kubeconfig", fleet.Kubeconfig, "--context", "global", "delete", "-f", crd, "--ignore-not-found", "--wait=false").Run()
		_ = exec.Command("kubectl", "--kubeconfig", fleet.Kubeconfig, "--context", "global", "delete", "namespace", "kpanda-system", "--ignore-not-found", "--wait=false").Run()
	})
	MustKubectl(t, "--context", "global", "wait", "--for", "condition=established", "--timeout", "30s", "crd/clusters.cluster.kpanda.io")
	uid := map[string]string{}
	for _, c := range []string{"global", "workspace-1", "workspace-2"} {
		uid[c] = kubeSystemUID(t, c)
	}
	uid["workspace-9"] = "00000000-0000-4000-8000-000000000003" // registered, but no context reaches it
	kubectlApply(t, "global", strings.Join([]string{
		kpandaCluster("kpanda-global-cluster", "kubeSystemID", uid["global"], true, nil),
		kpandaCluster("workspace-1", "kubeSystemID", uid["workspace-1"], false, nil),
		kpandaCluster("workspace-2", "kubeSystemId", uid["workspace-2"], false, map[string]any{"conditions": []any{map[string]any{"type": "Running", "status": "True"}}}),
		kpandaCluster("workspace-9", "kubeSystemID", uid["workspace-9"], false, nil),
	}, "\n"))
	installFleet(t, ns, "0.28.1", map[string]string{"workspace-1": "0.28.0"})

	// An operator's kubeconfig without workspace-2's context, and a working kubeconfig of workspace-2 (as
	// the kpanda API hands it out), also kept in a Secret of kpanda-system as kpanda keeps one: never used.
	noWS2 := editedKubeconfig(t, "kubeconfig-no-ws2", func(c *clientcmdapi.Config) { delete(c.Contexts, "workspace-2") })
	env := []string{"KUBECONFIG=" + noWS2}
	ws2Config := editedKubeconfig(t, "kubeconfig-ws2", func(c *clientcmdapi.Config) {
		for name := range c.Contexts {
			if name != "workspace-2" {
				delete(c.Contexts, name)
			}
		}
		ctx := c.Contexts["workspace-2"]
		c.AuthInfos[kpandaKubeconfigMarker] = c.AuthInfos[ctx.AuthInfo]
		ctx.AuthInfo = kpandaKubeconfigMarker
		c.CurrentContext = "workspace-2"
	})
	ws2, err := os.ReadFile(ws2Config)
	if err != nil {
		t.Fatal(err)
	}
	MustKubectl(t, "--context", "global", "create", "namespace", "kpanda-system")
	MustKubectl(t, "--context", "global", "-n", "kpanda-system", "create", "secret", "generic", "workspace-2-secret", "--from-file=kubeconfig="+ws2Config)

	t.Run("status reports both workspaces and the cluster without a context as no credential, exit 3", func(t *testing.T) {
		r := Skoala(t, "status", "--fleet", "kpanda", "-n", ns, "-o", "json", "--timeout", "20s")
		if r.Code != 3 {
			t.Fatalf("exit %d, want 3\n%s", r.Code, r)
		}
		s := parseStatus(t, r)
		if len(s.Clusters) != 4 {
			t.Fatalf("%d clusters, want global and 3 registered\n%s", len(s.Clusters), r.Stdout)
		}
		got := map[string]int{}
		for i, c := range s.Clusters {
			got[c.Registered] = i
		}
		w1, w2, w3 := s.Clusters[got["workspace-1"]], s.Clusters[got["workspace-2"]], s.Clusters[got["workspace-9"]]
		if !w1.Reachable || w1.Context != "workspace-1" || w1.Releases[0].Version != "0.28.0" {
			t.Errorf("workspace-1: %+v", w1)
		}
		if !w2.Reachable || w2.Releases[0].Status != "no skoala-init" {
			t.Errorf("workspace-2 (kubeSystemId spelling, no skoala-init): %+v", w2)
		}
		if w3.Reachable || !strings.HasPrefix(w3.Error, "no credential (no context of the kubeconfig reaches kube-system UID "+uid["workspace-9"]) || !strings.Contains(w3.Hint, "--dce-token-file") {
			t.Errorf("workspace-9 (no context): %+v", w3)
		}
		doc := Skoala(t, "doctor", "--fleet", "kpanda", "-n", ns, "--timeout", "30s")
		if doc.Code != 3 || !strings.Contains(doc.Stdout, "registered cluster workspace-9: no credential (no context of the kubeconfig reaches") {
			t.Errorf("doctor: exit %d, want 3 and workspace-9's reason\n%s", doc.Code, doc)
		}
		// Without workspace-2's context, the working kubeconfig in kpanda-system's Secret is not used.
		table := SkoalaEnv(t, env, "status", "--fleet", "kpanda", "-n", ns, "--timeout", "20s")
		if table.Code != 3 || !strings.Contains(table.Stdout, "unreachable: no credential (no context of the kubeconfig reaches kube-system UID "+uid["workspace-2"]) {
			t.Errorf("table without workspace-2's context: exit %d\n%s", table.Code, table)
		}
	})

	t.Run("with the last run's guess, each workspace's identity GET and reads go in one round", func(t *testing.T) {
		home := t.TempDir()
		reqlog := filepath.Join(home, "requests.log")
		henv := []string{"HOME=" + home, "XDG_CACHE_HOME=" + filepath.Join(home, "cache"), "SKOALA_REQUEST_LOG=" + reqlog}
		first := SkoalaEnv(t, henv, "status", "--fleet", "kpanda", "-n", ns, "-o", "json", "--timeout", "20s")
		firstLog := readFileT(t, reqlog)
		_ = os.Remove(reqlog)
		second := SkoalaEnv(t, henv, "status", "--fleet", "kpanda", "-n", ns, "-o", "json", "--timeout", "20s")
		secondLog := readFileT(t, reqlog)
		if first.Code != 3 || second.Code != 3 || first.Stdout != second.Stdout {
			t.Fatalf("the run with a guess differs from the run without one\nfirst: %s\nsecond: %s", first, second)
		}
		// Without a guess: the reads follow the identity GET. With it: the release records of workspace-1
		// are asked for before the identity GET is answered.
		idEnd, readStart := requestTimes(t, firstLog, "workspace-1", ns)
		if readStart < idEnd {
			t.Errorf("without a guess the reads did not wait for the identity (%.1f < %.1f ms):\n%s", readStart, idEnd, firstLog)
		}
		idEnd, readStart = requestTimes(t, secondLog, "workspace-1", ns)
		if readStart >= idEnd {
			t.Errorf("with the guess the reads waited for the identity (%.1f >= %.1f ms): two rounds\n%s", readStart, idEnd, secondLog)
		}
		guesses, _ := filepath.Glob(filepath.Join(home, "cache", "kubectl-skoala", "kpanda-*.json"))
		if len(guesses) != 1 {
			t.Fatalf("guess files %v", guesses)
		}
		// A guess that no longer holds (workspace-1's cluster at workspace-2's context) is read, never shown.
		stale := `{"schema":"skoala.kpanda-guess/v1","controlPlane":"global","targets":[{"context":"global","role":"control-plane","release":"skoala"},` +
			`{"context":"workspace-2","role":"workspace","release":"skoala-init","registered":"workspace-1"}]}`
		if err := os.WriteFile(guesses[0], []byte(stale), 0o600); err != nil {
			t.Fatal(err)
		}
		third := SkoalaEnv(t, henv, "status", "--fleet", "kpanda", "-n", ns, "-o", "json", "--timeout", "20s")
		if third.Stdout != first.Stdout {
			t.Errorf("a stale guess changed the report\nwant: %s\ngot: %s", first.Stdout, third)
		}
	})

	t.Run("a Cluster whose kubeSystemID matches no context is caught", func(t *testing.T) {
		kubectlApply(t, "global", kpandaCluster("ghost-cluster", "kubeSystemID", "00000000-0000-4000-8000-00000000beef", false, nil))
		defer MustKubectl(t, "--context", "global", "delete", "clusters.cluster.kpanda.io", "ghost-cluster")
		r := Skoala(t, "status", "--fleet", "kpanda", "-n", ns, "-o", "json", "--timeout", "20s")
		s := parseStatus(t, r)
		found := false
		for _, c := range s.Clusters {
			if c.Registered == "ghost-cluster" {
				found = !c.Reachable && strings.Contains(c.Error, "no credential")
			}
		}
		if r.Code != 3 || !found {
			t.Errorf("exit %d, ghost-cluster reported as no credential: %v\n%s", r.Code, found, r)
		}
	})

	renamed := editedKubeconfig(t, "kubeconfig-renamed", func(c *clientcmdapi.Config) {
		// workspace-2's context now points at workspace-1's API server.
		ctx := *c.Contexts["workspace-1"]
		c.Contexts["workspace-2"] = &ctx
	})
	t.Run("a context renamed to another cluster's name is refused, and upgrade changes nothing", func(t *testing.T) {
		renv := []string{"KUBECONFIG=" + renamed}
		before := helmStatus(t, "workspace-1", ns, "skoala-init").Version
		st := SkoalaEnv(t, renv, "status", "--fleet", "kpanda", "-n", ns, "--timeout", "20s")
		want := `context "workspace-2" is named like registered cluster "workspace-2" but reaches registered cluster "workspace-1"`
		if st.Code != 3 || !strings.Contains(st.Stderr, want) {
			t.Errorf("status: exit %d, want 3 and %q\n%s", st.Code, want, st)
		}
		for _, args := range [][]string{
			{"upgrade", "--fleet", "kpanda", "--yes", "-n", ns, "--version", "0.28.1", "--timeout", "30s"},
			{"upgrade", "-w", "workspace-2", "--yes", "-n", ns, "--version", "0.28.1", "--timeout", "30s"},
		} {
			up := SkoalaEnv(t, renv, args...)
			if up.Code != 3 || !strings.Contains(up.Stderr, want) || !strings.Contains(up.Stderr, "nothing was") {
				t.Errorf("%v: exit %d, want 3 and the mismatch\n%s", args[:3], up.Code, up)
			}
		}
		if after := helmStatus(t, "workspace-1", ns, "skoala-init").Version; after != before {
			t.Errorf("workspace-1's skoala-init went from revision %d to %d", before, after)
		}
	})

	t.Run("upgrade refuses to leave a registered cluster behind", func(t *testing.T) {
		r := Skoala(t, "upgrade", "--fleet", "kpanda", "--dry-run", "-n", ns, "--version", "0.28.1", "--timeout", "30s")
		if r.Code != 3 || !strings.Contains(r.Stderr, "workspace-9 (no credential) cannot be reached") || !strings.Contains(r.Stderr, "--skip-unreachable") {
			t.Errorf("exit %d, want 3 naming workspace-9\n%s", r.Code, r)
		}
		r = Skoala(t, "upgrade", "--fleet", "kpanda", "--skip-unreachable", "--dry-run", "-n", ns, "--version", "0.28.1", "--timeout", "30s")
		if r.Code != 0 || !strings.Contains(r.Stdout, "skipped workspace-9 (--skip-unreachable): no credential (no context") || !strings.Contains(r.Stdout, "no skoala-init on registered cluster workspace-2") {
			t.Errorf("--skip-unreachable: exit %d, want 0 and the skipped cluster in the plan\n%s", r.Code, r)
		}
	})

	t.Run("--dce-token-file reaches the cluster without a context through the kpanda API", func(t *testing.T) {
		url, served := fakeKpandaAPI(t, map[string]string{"workspace-2": string(ws2)})
		tok := filepath.Join(t.TempDir(), "dce-token")
		if err := os.WriteFile(tok, []byte(kpandaDCEToken+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := SkoalaEnv(t, env, "status", "--fleet", "kpanda", "-n", ns, "-o", "json", "--timeout", "20s", "--dce-url", url, "--dce-token-file", tok)
		s := parseStatus(t, r)
		ok, w3 := false, ""
		for _, c := range s.Clusters {
			switch c.Registered {
			case "workspace-2":
				ok = c.Reachable && c.Context == "workspace-2" && c.Releases[0].Status == "no skoala-init"
			case "workspace-9":
				w3 = c.Error
			}
		}
		// workspace-9 (the API does not know it either) still makes it exit 3.
		if r.Code != 3 || !ok || served.Load() != 1 || !strings.Contains(w3, "the kpanda API answered 404") {
			t.Errorf("exit %d, workspace-2 reached: %v, kubeconfigs served %d (want 1), workspace-9: %q\n%s", r.Code, ok, served.Load(), w3, r)
		}
		bad := filepath.Join(t.TempDir(), "bad-token")
		_ = os.WriteFile(bad, []byte("wrong\n"), 0o600)
		r = SkoalaEnv(t, env, "status", "--fleet", "kpanda", "-n", ns, "-o", "json", "--timeout", "20s", "--dce-url", url, "--dce-token-file", bad)
		if r.Code != 3 || !strings.Contains(r.Stdout, "the kpanda API answered 401") {
			t.Errorf("a wrong token: exit %d\n%s", r.Code, r)
		}
		for _, out := range []string{r.Stdout, r.Stderr} {
			if strings.Contains(out, kpandaKubeconfigMarker) || strings.Contains(out, kpandaDCEToken) {
				t.Errorf("the token or the kubeconfig is printed:\n%s", r)
			}
		}
		u := SkoalaEnv(t, env, "status", "--fleet", "kpanda", "--dce-url", strings.Replace(url, "127.0.0.1", "example.com", 1), "--dce-token-file", tok)
		if u.Code != 2 || !strings.Contains(u.Stderr, "plain http to a non-loopback address") {
			t.Errorf("plain http elsewhere: exit %d\n%s", u.Code, u)
		}
	})

	t.Run("an identity with no right on Secrets in kpanda-system runs status --fleet kpanda", func(t *testing.T) {
		insightNS, mysqlNS := Namespace(t, "kpi"), Namespace(t, "kpm")
		clusters := []string{"global", "workspace-1", "workspace-2"}
		applyRBAC(t, "readonly.yaml", clusters, ns, insightNS, mysqlNS)
		sa := serviceAccountKubeconfig(t, ns, "kubectl-skoala-readonly", clusters)
		can := Run(t, nil, time.Minute, "kubectl", "--kubeconfig", sa, "--context", "global", "-n", "kpanda-system", "auth", "can-i", "get", "secrets")
		if strings.TrimSpace(can.Stdout) != "no" {
			t.Fatalf("the account may read Secrets in kpanda-system:\n%s", can)
		}
		r := SkoalaEnv(t, []string{"KUBECONFIG=" + sa}, "status", "--fleet", "kpanda", "-n", ns, "-o", "json", "--timeout", "20s")
		s := parseStatus(t, r)
		reached := 0
		for _, c := range s.Clusters {
			if c.Reachable {
				reached++
			}
		}
		if r.Code != 3 || reached != 3 {
			t.Errorf("exit %d (want 3: workspace-9 has no credential), %d clusters read (want 3)\n%s", r.Code, reached, r)
		}
	})
}

func readFileT(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// requestTimes reads a SKOALA_REQUEST_LOG: on context kctx, when the identity GET (namespace kube-system)
// was answered and when the list of the release records of namespace ns was sent (ms since the start).
func requestTimes(t *testing.T, log, kctx, ns string) (identityEnd, readStart float64) {
	t.Helper()
	identityEnd, readStart = -1, -1
	for _, line := range strings.Split(log, "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 6 || f[0] != kctx || f[1] != "GET" {
			continue
		}
		start, err1 := strconv.ParseFloat(f[4], 64)
		dur, err2 := strconv.ParseFloat(f[5], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("request log line %q", line)
		}
		switch path, _, _ := strings.Cut(f[2], "?"); path {
		case "/api/v1/namespaces/kube-system":
			identityEnd = start + dur
		case "/api/v1/namespaces/" + ns + "/secrets":
			readStart = start
		}
	}
	if identityEnd < 0 || readStart < 0 {
		t.Fatalf("no identity GET or release read of %s in the request log:\n%s", kctx, log)
	}
	return identityEnd, readStart
}
