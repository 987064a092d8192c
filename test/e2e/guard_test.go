package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Issue 24 §1: one operation per release, whoever runs it (docs/safety.md, "Other operations on a release").

// liveHelmUpgrade starts a real 'helm upgrade --wait' of skoala in ns whose new hive pod can never schedule
// (a nodeSelector no kwok node has, as TestUpgradeRefusesPendingRelease holds one) and returns once the
// release is pending-upgrade, with the helm process still waiting; exited reports whether it has exited.
// The process is killed at the end of the test.
func liveHelmUpgrade(t *testing.T, ns string) (exited func() bool) {
	t.Helper()
	cmd := exec.Command(filepath.Join(fleet.BinDir, "helm3"), "upgrade", "skoala", "skoala-release/skoala", "--version", "0.33.2",
		"--kube-context", "global", "-n", ns, "--reuse-values", "--set", `hive.nodeSelector.skoala\.fixture/never=yes`, "--wait", "--timeout", "5m")
	cmd.Env = fleet.BaseEnv(t)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	exited = func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for helmStatus(t, "global", ns, "skoala").Info.Status != "pending-upgrade" {
		if exited() {
			t.Fatalf("helm upgrade exited before the release went pending-upgrade:\n%s", out.String())
		}
		if time.Now().After(deadline) {
			t.Fatalf("helm upgrade never went pending-upgrade in 2m:\n%s", out.String())
		}
		time.Sleep(300 * time.Millisecond)
	}
	return exited
}

// TestRollbackRefusesBesideLiveHelm: a 'helm upgrade --wait' still running (from CI, a UI, another host)
// holds skoala pending-upgrade; 'kubectl skoala rollback' refuses it as upgrade does (exit 3, naming the
// pending revision, when it started, and --force) and changes nothing: no backup, no lock, the helm
// operation goes on.
func TestRollbackRefusesBesideLiveHelm(t *testing.T) {
	ns := freshNamespace(t, "rblive")
	installSkoala(t, "global", ns, "0.28.1")
	exited := liveHelmUpgrade(t, ns)
	backups := t.TempDir()
	r := Skoala(t, "rollback", "-n", ns, "--backup-dir", backups, "--timeout", "30s", "--yes")
	if r.Code != 3 {
		t.Fatalf("exit %d, want 3\n%s", r.Code, r)
	}
	out := r.Stdout + r.Stderr
	if !regexp.MustCompile(`revision 2 is pending-upgrade since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \([0-9hms]+ ago\)`).MatchString(out) || !strings.Contains(out, "--force") {
		t.Errorf("the refusal does not name the revision, when it started and --force:\n%s", r)
	}
	if st := helmStatus(t, "global", ns, "skoala"); st.Version != 2 || st.Info.Status != "pending-upgrade" {
		t.Errorf("the release changed: revision %d %s", st.Version, st.Info.Status)
	}
	if exited() {
		t.Errorf("the live helm upgrade ended: the rollback went beside it")
	}
	if files, _ := os.ReadDir(backups); len(files) != 0 {
		t.Errorf("a refused rollback wrote backups: %v", files)
	}
	if h := leaseHolder(t, ns); h != "" {
		t.Errorf("a refused rollback left a lock lease held by %q", h)
	}
}

// kpandaOperation installs the HelmApp CRD fixture (test/kpanda) on global, and a HelmApp named release in
// ns with a Job helm-operation-upgrade-<release>-x7k2p it owns whose pod can never schedule (so the Job
// stays active, as kpanda's runs while its helm works); it returns the Job's name.
func kpandaOperation(t *testing.T, ns, release string) string {
	t.Helper()
	MustKubectl(t, "--context", "global", "apply", "-f", filepath.Join(fleet.Root, "test", "kpanda", "helmapp-crd.yaml"))
	t.Cleanup(func() {
		_ = exec.Command("kubectl", "--kubeconfig", fleet.Kubeconfig, "--context", "global", "delete", "crd", "helmapps.helm.kpanda.io", "--wait=false", "--ignore-not-found").Run()
	})
	MustKubectl(t, "--context", "global", "wait", "--for=condition=Established", "crd/helmapps.helm.kpanda.io", "--timeout=30s")
	app := fmt.Sprintf(`{"apiVersion":"helm.kpanda.io/v1alpha1","kind":"HelmApp","metadata":{"name":%q,"namespace":%q}}`, release, ns)
	applyJSON(t, app)
	uid := strings.TrimSpace(MustKubectl(t, "--context", "global", "-n", ns, "get", "helmapp", release, "-o", "jsonpath={.metadata.uid}").Stdout)
	job := "helm-operation-upgrade-" + release + "-x7k2p"
	applyJSON(t, fmt.Sprintf(`{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":%q,"namespace":%q,
		"ownerReferences":[{"apiVersion":"helm.kpanda.io/v1alpha1","kind":"HelmApp","name":%q,"uid":%q}]},
		"spec":{"backoffLimit":0,"template":{"spec":{"restartPolicy":"Never","nodeSelector":{"skoala.fixture/never":"yes"},
		"containers":[{"name":"helm","image":"kpanda/kpanda-shell:v0.0.0","command":["helm-cmd"]}]}}}}`, job, ns, release, uid))
	return job
}

func applyJSON(t *testing.T, doc string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "obj.json")
	if err := os.WriteFile(f, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	MustKubectl(t, "--context", "global", "apply", "-f", f)
}

// TestKpandaOperationRefusesUpgradeAndRollback: while kpanda's own Helm operation (a Job owned by a
// HelmApp) runs on skoala, upgrade and rollback refuse before any change, naming the Job, even with
// --force; doctor reports it and status says a HelmApp manages the release (and a cluster without the
// HelmApp CRD is no error).
func TestKpandaOperationRefusesUpgradeAndRollback(t *testing.T) {
	ns := freshNamespace(t, "kpanda")
	installSkoala(t, "global", ns, "0.28.1")
	MustHelm(t, "upgrade", "skoala", "skoala-release/skoala", "--version", "0.28.1", "--reuse-values", "--kube-context", "global", "-n", ns)
	job := kpandaOperation(t, ns, "skoala")
	backups := t.TempDir()

	up := Skoala(t, "upgrade", "-n", ns, "--version", "0.33.2", "--backup-dir", backups, "--timeout", "30s", "--yes", "--force")
	rb := Skoala(t, "rollback", "-n", ns, "--context", "global", "--release", "skoala", "--to-revision", "1", "--backup-dir", backups, "--timeout", "30s", "--yes", "--force")
	for _, r := range []Result{up, rb} {
		if r.Code != 3 || !strings.Contains(r.Stdout+r.Stderr, "Job "+ns+"/"+job) || !strings.Contains(r.Stdout+r.Stderr, "HelmApp skoala") {
			t.Errorf("exit %d, want 3 naming Job %s and its HelmApp\n%s", r.Code, job, r)
		}
	}
	unchanged(t, ns, backups, "a refused run")

	d := parseDoctor(t, Skoala(t, "doctor", "-n", ns, "--category", "control-plane", "-o", "json"))
	if c := d.check(t, "control-plane.kpanda-operations", "global"); c.Status != "fail" || !strings.Contains(c.Message, job) {
		t.Errorf("doctor does not report the kpanda operation: %+v", c)
	}

	st := Skoala(t, "status", "-n", ns, "-w", "workspace-1", "-o", "json")
	var rep struct {
		Clusters []struct {
			Context  string `json:"context"`
			Releases []struct {
				HelmApp string `json:"helmApp"`
			} `json:"releases"`
		} `json:"clusters"`
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(st.Stdout), &rep); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, st)
	}
	for _, c := range rep.Clusters {
		want := map[string]string{"global": "skoala", "workspace-1": ""}[c.Context]
		if len(c.Releases) != 1 || c.Releases[0].HelmApp != want {
			t.Errorf("status of %s: %+v, want helmApp %q", c.Context, c.Releases, want)
		}
	}
	if strings.Contains(strings.Join(rep.Warnings, "\n"), "HelmApps") {
		t.Errorf("a cluster without the HelmApp CRD is reported: %v", rep.Warnings)
	}
	if tbl := Skoala(t, "status", "-n", ns); !strings.Contains(tbl.Stdout, "also managed by HelmApp skoala") {
		t.Errorf("the status table does not say the HelmApp manages it:\n%s", tbl)
	}

	// Once kpanda's operation is over, the same rollback runs; but first, as an account that may only read
	// (hack/rbac/readonly.yaml), it is refused before any change, naming a right it lacks (issue 24 §3:
	// rollback checks its rights before the first change, as upgrade does).
	MustKubectl(t, "--context", "global", "-n", ns, "delete", "job", job, "--wait=true", "--timeout=60s")
	applyRBAC(t, "readonly.yaml", []string{"global"}, ns, ns, ns)
	ro := []string{"KUBECONFIG=" + serviceAccountKubeconfig(t, ns, "kubectl-skoala-readonly", []string{"global"})}
	r := SkoalaEnv(t, ro, "rollback", "-n", ns, "--context", "global", "--release", "skoala", "--to-revision", "1", "--backup-dir", backups, "--timeout", "30s", "--yes")
	if r.Code != 3 || !regexp.MustCompile(`rollback would fail: cannot \w+ `).MatchString(r.Stdout+r.Stderr) || !strings.Contains(r.Stderr, "kubectl auth can-i") {
		t.Errorf("a read-only rollback: exit %d, want 3 naming a right it lacks\n%s", r.Code, r)
	}
	unchanged(t, ns, backups, "the read-only rollback")
	if r := Run(t, nil, 3*time.Minute, fleet.Skoala, "rollback", "-n", ns, "--context", "global", "--release", "skoala", "--to-revision", "1", "--backup-dir", backups, "--timeout", "2m", "--yes"); r.Code != 0 {
		t.Errorf("the rollback after the Job ended: exit %d\n%s", r.Code, r)
	}
}

// unchanged checks that skoala in ns is still at revision 2, deployed, with no backup in backups and no
// lock lease left: what refused did changed nothing.
func unchanged(t *testing.T, ns, backups, refused string) {
	t.Helper()
	if st := helmStatus(t, "global", ns, "skoala"); st.Version != 2 || st.Info.Status != "deployed" {
		t.Errorf("%s changed the release: revision %d %s", refused, st.Version, st.Info.Status)
	}
	if files, _ := os.ReadDir(backups); len(files) != 0 {
		t.Errorf("%s wrote backups: %v", refused, files)
	}
	if h := leaseHolder(t, ns); h != "" {
		t.Errorf("%s left a lock lease held by %q", refused, h)
	}
}

// TestLockHolderInAnotherPIDNamespace: an upgrade runs in its own PID namespace (unshare --pid, as a
// container would) on this very host, so its Lease names this hostname and a PID that runs nothing here;
// it renews the Lease while its helm waits. A second upgrade from the host must not take the Lease over
// as if its holder were a dead local process: it watches it, sees it renewed, and is refused (exit 3),
// leaving the holder's lock and release alone.
func TestLockHolderInAnotherPIDNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test needs root (unshare --pid --mount-proc); the e2e suite runs as root")
	}
	ns := freshNamespace(t, "lockns")
	installSkoala(t, "global", ns, "0.28.1")
	// The holder: the plugin itself, PID 3999999 in a new PID namespace (never a PID of this host: pid_max
	// is far below it), upgrading to values whose pods never become ready.
	script := `echo 3999998 > /proc/sys/kernel/ns_last_pid || exit 1; "$0" "$@" & wait $!`
	args := append([]string{"--pid", "--fork", "--mount-proc", "--kill-child", "sh", "-c", script, fleet.Skoala,
		"upgrade", "-n", ns, "--version", "0.33.2", "--timeout", "3m", "--backup-dir", t.TempDir(), "--yes", "--force"}, neverReady...)
	holder := exec.Command("unshare", args...)
	holder.Env = fleet.BaseEnv(t)
	var out lockedBuffer
	holder.Stdout, holder.Stderr = &out, &out
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = holder.Wait(); close(done) }()
	t.Cleanup(func() { _ = holder.Process.Signal(syscall.SIGKILL); <-done })
	deadline := time.Now().Add(2 * time.Minute)
	for helmStatus(t, "global", ns, "skoala").Info.Status != "pending-upgrade" {
		select {
		case <-done:
			t.Fatalf("the holder exited before its helm wait:\n%s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the holder never went pending-upgrade:\n%s", out.String())
		}
		time.Sleep(300 * time.Millisecond)
	}
	held := leaseHolder(t, ns)
	host, _ := os.Hostname()
	if !strings.Contains(held, "@"+host+"/pid-3999999/") {
		t.Fatalf("the lease is not held by the holder in its PID namespace (pid 3999999 on %s): %q\n%s", host, held, out.String())
	}

	second := Run(t, nil, 3*time.Minute, fleet.Skoala, "upgrade", "-n", ns, "--version", "0.33.2", "--timeout", "30s", "--backup-dir", t.TempDir(), "--yes", "--force")
	if second.Code != 3 || !strings.Contains(second.Stdout+second.Stderr, "holds the lock lease") {
		t.Errorf("the second upgrade: exit %d, want 3 refused by the live lock\n%s", second.Code, second)
	}
	if h := leaseHolder(t, ns); h != held {
		t.Errorf("the lease was taken over: held by %q, was %q", h, held)
	}
	if st := helmStatus(t, "global", ns, "skoala"); st.Version != 2 || st.Info.Status != "pending-upgrade" {
		t.Errorf("the holder's revision was touched: revision %d %s", st.Version, st.Info.Status)
	}
	select {
	case <-done:
		t.Errorf("the holder ended while the second upgrade ran:\n%s", out.String())
	default:
	}
}
