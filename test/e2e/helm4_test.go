package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The plugin is built on the Helm 4 SDK and shares release records with the helm 3 and helm 4 CLIs. These
// tests run the real CLIs of both around it.

// helmCLI runs helm3 or helm4 (the real CLIs of .cache/bin) with the fleet's environment.
func helmCLI(t testing.TB, helm string, args ...string) Result {
	t.Helper()
	return Run(t, nil, 5*time.Minute, filepath.Join(fleet.BinDir, helm), args...)
}

func mustHelmCLI(t testing.TB, helm string, args ...string) Result {
	t.Helper()
	r := helmCLI(t, helm, args...)
	if r.Code != 0 {
		t.Fatalf("%s failed:\n%s", helm, r)
	}
	return r
}

// historyEntry is one revision of helm history -o json.
type historyEntry struct {
	Revision    int    `json:"revision"`
	Status      string `json:"status"`
	Chart       string `json:"chart"`
	AppVersion  string `json:"app_version"`
	Description string `json:"description"`
}

// sameUnderBothCLIs checks that helm 3 and helm 4 print the same history and the same computed values of a
// release, and that the plugin's status agrees with them on the newest revision; it returns that revision.
func sameUnderBothCLIs(t *testing.T, step, kubeContext, ns, release string, status func() Result) historyEntry {
	t.Helper()
	var hist [2][]historyEntry
	var vals [2]any
	for i, helm := range []string{"helm3", "helm4"} {
		h := mustHelmCLI(t, helm, "history", release, "--kube-context", kubeContext, "-n", ns, "-o", "json")
		if err := json.Unmarshal([]byte(h.Stdout), &hist[i]); err != nil || len(hist[i]) == 0 {
			t.Fatalf("%s: %s history: %v\n%s", step, helm, err, h)
		}
		v := mustHelmCLI(t, helm, "get", "values", release, "-a", "--kube-context", kubeContext, "-n", ns, "-o", "json")
		if err := json.Unmarshal([]byte(v.Stdout), &vals[i]); err != nil {
			t.Fatalf("%s: %s get values: %v\n%s", step, helm, err, v)
		}
	}
	h3, _ := json.Marshal(hist[0])
	h4, _ := json.Marshal(hist[1])
	if !bytes.Equal(h3, h4) {
		t.Errorf("%s: helm 3 and helm 4 read different histories:\nhelm3 %s\nhelm4 %s", step, h3, h4)
	}
	v3, _ := json.Marshal(vals[0])
	v4, _ := json.Marshal(vals[1])
	if !bytes.Equal(v3, v4) {
		t.Errorf("%s: helm 3 and helm 4 read different values (get values -a)", step)
	}
	last := hist[0][len(hist[0])-1]
	r := status()
	if r.Code != 0 {
		t.Fatalf("%s: status exit %d\n%s", step, r.Code, r)
	}
	s := parseStatus(t, r)
	found := false
	for _, c := range s.Clusters {
		if c.Context != kubeContext {
			continue
		}
		for _, rel := range c.Releases {
			if rel.Name != release {
				continue
			}
			found = true
			if rel.Revision != last.Revision || rel.Status != last.Status || release+"-"+rel.Version != last.Chart || rel.AppVersion != last.AppVersion {
				t.Errorf("%s: status says revision %d %s %s-%s app %s; helm history says %d %s %s app %s", step,
					rel.Revision, rel.Status, release, rel.Version, rel.AppVersion, last.Revision, last.Status, last.Chart, last.AppVersion)
			}
		}
	}
	if !found {
		t.Errorf("%s: status does not show %s/%s:\n%s", step, kubeContext, release, r.Stdout)
	}
	return last
}

// applyMethod is the apply_method of a revision's record ("" for a record helm 3 wrote).
func applyMethod(t *testing.T, kubeContext, ns, release string, revision int) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := clientFor(t, kubeContext).CoreV1().Secrets(ns).Get(ctx, fmt.Sprintf("sh.helm.release.v1.%s.v%d", release, revision), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gz, err := base64.StdEncoding.DecodeString(string(s.Data["release"]))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		ApplyMethod string `json:"apply_method"`
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	return rec.ApplyMethod
}

func noConflict(t *testing.T, r Result) {
	t.Helper()
	if r.Code != 0 || strings.Contains(strings.ToLower(r.Stdout+r.Stderr), "conflict") {
		t.Fatalf("exit %d or a conflict:\n%s", r.Code, r)
	}
}

// TestHelmMixedHistory: helm 3, the plugin and helm 4 take turns on one release; after every step both
// CLIs read the same history and values, and the plugin's status agrees with them.
func TestHelmMixedHistory(t *testing.T) {
	ensureRepoBinary(t)
	ns := freshNamespace(t, "mixed")
	status := func() Result { return Skoala(t, "status", "-n", ns, "-o", "json") }

	installSkoala(t, "global", ns, "0.28.1", "--set", "hive.extraConfigMap.user=u1")
	sameUnderBothCLIs(t, "helm 3 install", "global", ns, "skoala", status)

	up := Run(t, nil, 4*time.Minute, fleet.Skoala, "upgrade", "-n", ns, "--version", "0.33.2", "--backup-dir", t.TempDir(), "--timeout", "2m", "--yes")
	if up.Code != 0 {
		t.Fatalf("kubectl skoala upgrade exit %d\n%s", up.Code, up)
	}
	plugin := sameUnderBothCLIs(t, "kubectl skoala upgrade", "global", ns, "skoala", status)
	if plugin.Revision != 2 || plugin.Chart != "skoala-0.33.2" {
		t.Fatalf("the plugin's upgrade is revision %d %s", plugin.Revision, plugin.Chart)
	}
	if m := applyMethod(t, "global", ns, "skoala", plugin.Revision); m != "csa" {
		t.Errorf("the plugin's revision records apply_method %q, want csa", m)
	}

	noConflict(t, helmCLI(t, "helm3", "upgrade", "skoala", "skoala-release/skoala", "--version", "0.33.2", "--kube-context", "global", "-n", ns,
		"--reuse-values", "--set", "hive.extraConfigMap.user=u3", "--wait", "--timeout", "2m"))
	sameUnderBothCLIs(t, "helm 3 upgrade --reuse-values", "global", ns, "skoala", status)

	rb := Run(t, nil, 4*time.Minute, fleet.Skoala, "rollback", "-n", ns, "--release", "skoala", "--context", "global",
		"--to-revision", fmt.Sprint(plugin.Revision), "--backup-dir", t.TempDir(), "--timeout", "2m", "--yes")
	if rb.Code != 0 {
		t.Fatalf("kubectl skoala rollback exit %d\n%s", rb.Code, rb)
	}
	back := sameUnderBothCLIs(t, "kubectl skoala rollback --to-revision", "global", ns, "skoala", status)
	if back.Revision != 4 || back.Status != "deployed" {
		t.Errorf("after the rollback: revision %d %s, want 4 deployed", back.Revision, back.Status)
	}
	if v := dig(helmValues(t, "global", ns, "skoala", false), "hive", "extraConfigMap", "user"); v != "u1" {
		t.Errorf("after the rollback to the plugin's revision, hive.extraConfigMap.user is %v, want u1", v)
	}

	noConflict(t, helmCLI(t, "helm4", "upgrade", "skoala", "skoala-release/skoala", "--version", "0.33.2", "--kube-context", "global", "-n", ns,
		"--reuse-values", "--set", "hive.extraConfigMap.user=u5", "--wait", "--timeout", "2m"))
	h4 := sameUnderBothCLIs(t, "helm 4 upgrade", "global", ns, "skoala", status)
	if h4.Revision != 5 {
		t.Errorf("helm 4's upgrade is revision %d, want 5", h4.Revision)
	}

	want := Skoala(t, "status", "-n", ns, "-o", "json")
	for _, helm := range []string{"helm4", "helm3"} {
		s := newHelmSandbox(t, helm)
		s.mustRun(t, "plugin", "install", fleet.Root)
		sameUnderBothCLIs(t, "helm skoala status under "+helm, "global", ns, "skoala", func() Result {
			return s.run(t, nil, "skoala", "status", "-n", ns, "-o", "json")
		})
		got := s.mustRun(t, "skoala", "status", "-n", ns, "-o", "json")
		if a, b := parseStatus(t, got), parseStatus(t, want); len(a.Clusters) != len(b.Clusters) {
			t.Errorf("helm skoala status under %s shows %d clusters, kubectl skoala %d", helm, len(a.Clusters), len(b.Clusters))
		}
	}
}

// helm4DebugDSN is the DSN of the --debug canary (the secret scanner plants its password: user:<pw>@tcp().
const (
	plantedDebugDSNPassword = "H4lmDebug-Canary-Pw"
	helm4DebugDSN           = "skoala:" + plantedDebugDSNPassword + "@tcp(mysql.canary.svc:3306)/skoala?charset=utf8"
)

// TestHelm4Readiness: a custom resource no controller ever fills the status of does not hold the release;
// a Deployment that never becomes ready is rolled back (--atomic), the release deployed at its old
// revision, and the --debug lines of that failure carry no value of the release; a release the plugin
// installed is then upgraded by the helm 3 and helm 4 CLIs without a field-manager conflict.
func TestHelm4Readiness(t *testing.T) {
	ensureRepoBinary(t)
	ns := freshNamespace(t, "h4ready")
	const ws = "workspace-1"

	// The control plane's release is helm 3's (the plugin installs only on a cluster it names, and an install of
	// skoala needs its database); skoala-init on the workspace is the plugin's.
	installSkoala(t, "global", ns, "0.33.2")
	in := Run(t, nil, 4*time.Minute, fleet.Skoala, "upgrade", "-n", ns, "-w", ws, "--install", "--version", "0.33.2",
		"--backup-dir", t.TempDir(), "--timeout", "2m", "--yes")
	if in.Code != 0 {
		t.Fatalf("kubectl skoala upgrade --install exit %d\n%s", in.Code, in)
	}
	if m := applyMethod(t, ws, ns, "skoala-init", 1); m != "csa" {
		t.Errorf("the plugin's install records apply_method %q, want csa", m)
	}

	t.Run("a custom resource without status reaches deployed within --timeout", func(t *testing.T) {
		start := time.Now()
		r := Run(t, nil, 3*time.Minute, fleet.Skoala, "upgrade", "-n", ns, "-w", ws, "--version", "0.35.0", "--set", "e2e.gateway=true",
			"--backup-dir", t.TempDir(), "--timeout", "60s", "--yes")
		if r.Code != 0 {
			t.Fatalf("exit %d\n%s", r.Code, r)
		}
		if d := time.Since(start); d > 55*time.Second {
			t.Errorf("the upgrade took %s: it waited on the Gateway's status", d)
		}
		gw := MustKubectl(t, "--context", ws, "-n", ns, "get", "gateways.gateway.networking.k8s.io", "skoala-e2e", "-o", "jsonpath={.status}")
		if strings.TrimSpace(gw.Stdout) != "" {
			t.Fatalf("the Gateway has a status (%s): the test would not show a status-less custom resource", gw.Stdout)
		}
		wantRelease(t, ws, ns, "skoala-init", "0.35.0")
	})

	t.Run("helm 3 then helm 4 upgrade the plugin's release without a field-manager conflict", func(t *testing.T) {
		noConflict(t, helmCLI(t, "helm3", "upgrade", "skoala-init", "skoala-release/skoala-init", "--version", "0.35.0", "--kube-context", ws, "-n", ns,
			"--reuse-values", "--set", "skoala-agent.podAnnotations.by=helm3", "--wait", "--timeout", "2m"))
		noConflict(t, helmCLI(t, "helm4", "upgrade", "skoala-init", "skoala-release/skoala-init", "--version", "0.35.0", "--kube-context", ws, "-n", ns,
			"--reuse-values", "--set", "skoala-agent.podAnnotations.by=helm4", "--wait", "--timeout", "2m"))
		st := helmStatus(t, ws, ns, "skoala-init")
		if st.Version != 4 || st.Info.Status != "deployed" {
			t.Errorf("after helm 3 and helm 4: revision %d %s, want 4 deployed", st.Version, st.Info.Status)
		}
		if m := applyMethod(t, ws, ns, "skoala-init", 4); m != "csa" {
			t.Errorf("helm 4's upgrade after the plugin records apply_method %q, want csa (it follows the record)", m)
		}
	})

	t.Run("a Deployment that never becomes ready is rolled back; --debug prints no value", func(t *testing.T) {
		r := Run(t, append(fleet.BaseEnv(t), "HELM_DEBUG=true"), 3*time.Minute, fleet.Skoala, "upgrade", "-n", ns, "-w", ws, "--version", "0.37.1",
			"--set", "skoala-agent.resources.requests.cpu=1000", "--set-string", "e2e.dsn="+helm4DebugDSN,
			"--backup-dir", t.TempDir(), "--timeout", "20s", "--yes")
		if r.Code == 0 {
			t.Fatalf("the never-ready upgrade succeeded:\n%s", r)
		}
		if !strings.Contains(r.Stderr, "helm: ") {
			t.Errorf("--debug printed no helm line:\n%s", r.Stderr)
		}
		if strings.Contains(r.Stdout+r.Stderr, plantedDebugDSNPassword) {
			t.Errorf("--debug printed the DSN's password")
		}
		st := helmStatus(t, ws, ns, "skoala-init")
		if st.Info.Status != "deployed" || st.Chart.Metadata.Version != "0.35.0" || st.Version != 6 {
			t.Errorf("after the rollback: revision %d %s %s, want 6 deployed 0.35.0", st.Version, st.Info.Status, st.Chart.Metadata.Version)
		}
		t.Logf("exit code of the rolled-back upgrade: %d", r.Code)
	})
}
