package cmd

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

// The rollback verb's journal guards of issue 24 §3, through the command (each fails on the code before).

func kubeSystem(uid string) k8sruntime.Object {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-system", UID: types.UID(uid)}}
}

// journalCM is the journal ConfigMap with raw as its document.
func journalCM(raw string) k8sruntime.Object {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kubectl-skoala-journal", Namespace: ns}, Data: map[string]string{"runs.json": raw}}
}

// renamedFleet is upgradedFleet's clusters as another operator's kubeconfig names them (dce-global,
// dce-ws1), with a journal written from the first operator's (global, workspace-1) that recorded the
// clusters' identities.
func renamedFleet(t *testing.T) *fakeClusters {
	raw := `{"schema":"skoala.journal/v1","runs":[{"id":"20261201T090000Z-abc123","kind":"upgrade","who":"admin","started":"2026-12-01T09:00:00Z",` +
		`"updated":"2026-12-01T09:04:00Z","finished":"2026-12-01T09:04:00Z","target":"0.57.2","outcome":"upgraded","releases":[` +
		`{"context":"global","cluster":{"server":"https://10.6.0.1:6443","kubeSystemUID":"uid-global"},"role":"control-plane","release":"skoala","chart":"skoala","fromRevision":1,"fromVersion":"0.28.1","toRevision":2,"toVersion":"0.57.2","outcome":"upgraded"},` +
		`{"context":"workspace-1","cluster":{"server":"https://10.6.1.1:6443","kubeSystemUID":"uid-ws1"},"role":"workspace","release":"skoala-init","chart":"skoala-init","fromRevision":1,"fromVersion":"0.28.1","toRevision":2,"toVersion":"0.57.2","outcome":"upgraded"}]}]}`
	return &fakeClusters{current: "dce-global", clusters: map[string]*kube.Cluster{
		"dce-global": cluster("dce-global", append(revisions("skoala", "skoala", "hive", "0.28.1", "0.57.2"), kubeSystem("uid-global"), journalCM(raw))...),
		"dce-ws1":    cluster("dce-ws1", append(revisions("skoala-init", "skoala-init", "skoala-agent", "0.28.1", "0.57.2"), kubeSystem("uid-ws1"))...),
	}}
}

func TestRollbackMatchesTheJournalByClusterIdentity(t *testing.T) {
	out, errOut, code := runCmd(t, context.Background(), cmdTestCase{args: []string{"rollback", "-w", "dce-ws1", "--dry-run", "--backup-dir", "/backups", "-o", "json"}, clusters: renamedFleet(t)})
	var rep struct {
		Run      string `json:"run"`
		Outcome  string `json:"outcome"`
		Releases []struct {
			Context, Action string
		} `json:"releases"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 {
		t.Fatalf("exit %d %v\n%s%s", code, err, out, errOut)
	}
	got := []string{}
	for _, r := range rep.Releases {
		got = append(got, r.Context+":"+r.Action)
	}
	if rep.Run != "20261201T090000Z-abc123" || rep.Outcome != "dry-run" || strings.Join(got, " ") != "dce-ws1:rollback dce-global:rollback" {
		t.Errorf("the run recorded under other context names is not undone: run %q outcome %q %v", rep.Run, rep.Outcome, got)
	}
}

func TestRollbackOfAJournalThatDoesNotDecode(t *testing.T) {
	f := upgradedFleet(t)
	c := f.clusters["global"].Client
	if err := c.CoreV1().ConfigMaps(ns).Delete(context.Background(), "kubectl-skoala-journal", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	garbage := `{"schema":"skoala.journal/v1","runs":[{"id":"2026`
	if _, err := c.CoreV1().ConfigMaps(ns).Create(context.Background(), journalCM(garbage).(*corev1.ConfigMap), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runCmd(t, context.Background(), cmdTestCase{args: []string{"rollback", "-w", "workspace-1", "--backup-dir", "/backups", "--yes"}, clusters: f})
	if code != 1 || !strings.Contains(errOut, "does not decode") {
		t.Fatalf("exit %d, want 1 naming the journal\n%s", code, errOut)
	}
	for _, w := range []string{"--run", "--to-revision", "--from-backup"} {
		if !strings.Contains(errOut, w) {
			t.Errorf("the error does not name %s:\n%s", w, errOut)
		}
	}
	if lines := strings.Split(strings.TrimSpace(errOut), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "error: ") || !strings.HasPrefix(lines[1], "hint: ") {
		t.Errorf("want one error line and one hint line:\n%s", errOut)
	}
	cm, _ := c.CoreV1().ConfigMaps(ns).Get(context.Background(), "kubectl-skoala-journal", metav1.GetOptions{})
	if cm.Data["runs.json"] != garbage {
		t.Errorf("the corrupt journal changed: %q", cm.Data["runs.json"])
	}
}
