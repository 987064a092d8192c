package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
)

const upgradeLease = "kubectl-skoala-upgrade.skoala"

// leaseHolder is the holder identity of the upgrade lock of skoala in ns on global ("" when none).
func leaseHolder(t *testing.T, ns string) string {
	t.Helper()
	r := Kubectl(t, "--context", "global", "-n", ns, "get", "lease", upgradeLease, "-o", "jsonpath={.spec.holderIdentity}", "--ignore-not-found")
	if r.Code != 0 {
		t.Fatalf("reading the lock lease:\n%s", r)
	}
	return strings.TrimSpace(r.Stdout)
}

// TestUpgradeLockOneAtATime starts a second upgrade of a release while the first waits in Helm's --wait:
// the second is refused naming the holder (it watched the Lease being renewed), the first keeps its
// lock, and the first one's exit removes its Lease.
func TestUpgradeLockOneAtATime(t *testing.T) {
	ns := freshNamespace(t, "uplock")
	installSkoala(t, "global", ns, "0.28.1")
	var second Result
	var holder string
	first := runUntil(t, []string{"upgrade", "-n", ns, "--version", "0.33.2", "--set", "resources.requests.cpu=5000",
		"--timeout", "3m", "--backup-dir", t.TempDir(), "--yes", "--force"},
		regexp.MustCompile(`v0\.33\.2 \(\d+ pods? Pending`), func(c *exec.Cmd) {
			second = Run(t, nil, 3*time.Minute, fleet.Skoala, "upgrade", "-n", ns, "--version", "0.33.2",
				"--timeout", "1m", "--backup-dir", t.TempDir(), "--yes", "--force")
			holder = leaseHolder(t, ns)
			if !strings.Contains(holder, fmt.Sprintf("/pid-%d/", c.Process.Pid)) {
				t.Errorf("the lock lease names %q, not the first upgrade (pid %d)", holder, c.Process.Pid)
			}
			_ = c.Process.Signal(syscall.SIGINT)
		})
	if second.Code != 3 || !strings.Contains(second.Stdout+second.Stderr, "holds the lock lease "+ns+"/"+upgradeLease) {
		t.Errorf("the second upgrade: exit %d, want 3 and a refusal naming the lock\n%s", second.Code, second)
	}
	if first.Code != 130 {
		t.Errorf("the first upgrade exited %d, want 130 (interrupted)\n%s", first.Code, first)
	}
	// Exactly one ran: revision 2 is the first's upgrade, 3 its atomic rollback, nothing else.
	if rev, st := newestRevision(t, "global", ns, "skoala"); rev != 3 || st != "deployed" {
		t.Errorf("newest revision %d %s, want 3 deployed (the first's rollback)", rev, st)
	}
	if h := leaseHolder(t, ns); h != "" {
		t.Errorf("the lock lease is left behind, held by %q", h)
	}
}

// TestUpgradeResumeUndoesKilledRevision kills an upgrade with SIGKILL while it waits for pods that can
// never schedule (a nodeSelector no kwok node has), with a ConfigMap only that revision has; the rerun
// without them resumes: the release goes back to its deployed revision first, so neither the
// nodeSelector keys nor the ConfigMap remain.
func TestUpgradeResumeUndoesKilledRevision(t *testing.T) {
	ns := freshNamespace(t, "upkill")
	installSkoala(t, "global", ns, "0.28.1")
	backups := t.TempDir()
	first := runUntil(t, []string{"upgrade", "-n", ns, "--version", "0.33.2",
		"--set", `hive.nodeSelector.skoala\.fixture/never=yes`, "--set", `hive.nodeSelector.skoala\.fixture/zone=nowhere`,
		"--set", "hive.extraConfigMap.only-in-the-killed-revision=yes",
		"--timeout", "3m", "--backup-dir", backups, "--yes", "--force"},
		regexp.MustCompile(`hive .*v0\.33\.2 .*\(\d+ pods? Pending`), func(c *exec.Cmd) { _ = c.Process.Signal(syscall.SIGKILL) })
	if first.Code != -1 {
		t.Fatalf("exit %d, want death by SIGKILL\n%s", first.Code, first)
	}
	if rev, st := newestRevision(t, "global", ns, "skoala"); rev != 2 || st != "pending-upgrade" {
		t.Fatalf("after SIGKILL: revision %d %s, want 2 pending-upgrade", rev, st)
	}
	second := Run(t, nil, 5*time.Minute, fleet.Skoala, "upgrade", "-n", ns, "--version", "0.33.2",
		"--timeout", "2m", "--backup-dir", backups, "--yes", "--force")
	if second.Code != 0 {
		t.Fatalf("the resume exited %d, want 0\n%s", second.Code, second)
	}
	if !strings.Contains(second.Stderr, "rolled back to revision 1") {
		t.Errorf("the resume did not go back to the deployed revision first:\n%s", second.Stderr)
	}
	sel := MustKubectl(t, "--context", "global", "-n", ns, "get", "deployment", "hive", "-o", "jsonpath={.spec.template.spec.nodeSelector}")
	if strings.Contains(sel.Stdout, "skoala.fixture") {
		t.Errorf("the killed revision's nodeSelector keys remain on the Deployment: %s", sel.Stdout)
	}
	if cm := Kubectl(t, "--context", "global", "-n", ns, "get", "configmap", "hive-extra", "--ignore-not-found", "-o", "name"); strings.TrimSpace(cm.Stdout) != "" {
		t.Errorf("the ConfigMap only the killed revision added remains: %s", cm.Stdout)
	}
	h := MustHelm(t, "history", "skoala", "--kube-context", "global", "-n", ns, "-o", "json")
	for _, want := range []string{`"revision":2,`, `"status":"failed"`, `"description":"Rollback to 1"`} {
		if !strings.Contains(h.Stdout, want) {
			t.Errorf("history lacks %s:\n%s", want, h.Stdout)
		}
	}
	if rev, st := newestRevision(t, "global", ns, "skoala"); rev != 4 || st != "deployed" {
		t.Errorf("at the end: revision %d %s, want 4 deployed (2 failed, 3 the rollback, 4 the upgrade)", rev, st)
	}
	if l := leaseHolder(t, ns); l != "" {
		t.Errorf("the lock lease is left behind, held by %q", l)
	}
}

// TestRollbackMatchesHelm is the differential test of helmsdk.Rollback (what a resume runs first) against
// the real helm 3 CLI: the same release in two namespaces, upgraded with keys and an object revision 1
// does not have, then 'helm rollback skoala 1' in one and helmsdk.Rollback(..., 1) in the other: the new
// revisions have the same status, description, values and manifest, and neither cluster keeps what only
// revision 2 added.
func TestRollbackMatchesHelm(t *testing.T) {
	nsHelm, nsSDK := freshNamespace(t, "rbhelm"), freshNamespace(t, "rbsdk")
	for _, ns := range []string{nsHelm, nsSDK} {
		installSkoala(t, "global", ns, "0.28.1")
		MustHelm(t, "upgrade", "skoala", "skoala-release/skoala", "--version", "0.33.2", "--kube-context", "global", "-n", ns,
			"--reuse-values", "--set", `hive.nodeSelector.skoala\.fixture/zone=a`, "--set", "hive.extraConfigMap.k=v")
	}
	MustHelm(t, "rollback", "skoala", "1", "--kube-context", "global", "-n", nsHelm)
	flags := genericclioptions.NewConfigFlags(true)
	kubeconfig, kubeContext := fleet.Kubeconfig, "global"
	flags.KubeConfig, flags.Context, flags.Namespace = &kubeconfig, &kubeContext, &nsSDK
	hc, err := helmsdk.NewClient(flags, nsSDK, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := hc.Rollback(context.Background(), "skoala", 1, helmsdk.RollbackOptions{Timeout: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if rel.Revision != 3 || rel.Status != "deployed" {
		t.Errorf("helmsdk.Rollback made revision %d %s, want 3 deployed", rel.Revision, rel.Status)
	}
	get := func(ns string, what ...string) string {
		r := MustHelm(t, append(append([]string{"get"}, what...), "skoala", "--revision", "3", "--kube-context", "global", "-n", ns)...)
		return strings.ReplaceAll(r.Stdout, ns, "NS")
	}
	for _, what := range [][]string{{"values", "-o", "json"}, {"values", "--all", "-o", "json"}, {"manifest"}} {
		if a, b := get(nsHelm, what...), get(nsSDK, what...); a != b {
			t.Errorf("helm get %s differs:\nhelm rollback:\n%s\nhelmsdk.Rollback:\n%s", strings.Join(what, " "), a, b)
		}
	}
	hist := func(ns string) string {
		r := MustHelm(t, "history", "skoala", "--kube-context", "global", "-n", ns, "-o", "json")
		return regexp.MustCompile(`"updated":"[^"]*"`).ReplaceAllString(r.Stdout, "")
	}
	if a, b := hist(nsHelm), hist(nsSDK); a != b {
		t.Errorf("histories differ:\nhelm rollback:\n%s\nhelmsdk.Rollback:\n%s", a, b)
	}
	for _, ns := range []string{nsHelm, nsSDK} {
		sel := MustKubectl(t, "--context", "global", "-n", ns, "get", "deployment", "hive", "-o", "jsonpath={.spec.template.spec.nodeSelector}")
		cm := Kubectl(t, "--context", "global", "-n", ns, "get", "configmap", "hive-extra", "--ignore-not-found", "-o", "name")
		if strings.Contains(sel.Stdout, "skoala.fixture") || strings.TrimSpace(cm.Stdout) != "" {
			t.Errorf("%s keeps what only revision 2 added: nodeSelector %q, %q", ns, sel.Stdout, cm.Stdout)
		}
	}
}
