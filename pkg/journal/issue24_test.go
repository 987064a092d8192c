package journal

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// The tests of issue 24 §3 that use only the API the journal had before it: each fails on that code.

// A journal that does not decode is never overwritten: the next write keeps it under another name, as it
// was, and the new journal names it (issue 24 §3).
func TestCorruptJournalIsMovedAsideNotOverwritten(t *testing.T) {
	ctx := context.Background()
	garbage := "{not json: the journal someone edited by hand"
	c := fake.NewSimpleClientset(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: Name, Namespace: "skoala-system"}, Data: map[string]string{Key: garbage}})
	now := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	s := &Store{Client: c, Namespace: "skoala-system", Now: func() time.Time { return now }}
	if _, err := s.List(ctx); err == nil || !strings.Contains(err.Error(), "does not decode") {
		t.Fatalf("List of a corrupt journal: %v", err)
	}
	if err := s.Begin(ctx, Run{ID: "r1", Kind: KindUpgrade, Started: now}); err != nil {
		t.Fatal(err)
	}
	cms, _ := c.CoreV1().ConfigMaps("skoala-system").List(ctx, metav1.ListOptions{})
	kept := ""
	for _, cm := range cms.Items {
		if cm.Name != Name && cm.Data[Key] == garbage {
			kept = cm.Name
		}
	}
	if kept != Name+"-corrupt-20261202-010000" {
		t.Fatalf("the corrupt journal is not kept under another name: %+v", cms.Items)
	}
	runs, err := s.List(ctx)
	if err != nil || len(runs) != 1 || runs[0].ID != "r1" {
		t.Fatalf("the new journal: %+v %v", runs, err)
	}
	cm, _ := c.CoreV1().ConfigMaps("skoala-system").Get(ctx, Name, metav1.GetOptions{})
	if !strings.Contains(cm.Data[Key], kept) {
		t.Errorf("the new journal does not name the kept one: %s", cm.Data[Key])
	}
	// A second write does not move the (now good) journal again.
	if err := s.Begin(ctx, Run{ID: "r2", Kind: KindUpgrade, Started: now}); err != nil {
		t.Fatal(err)
	}
	if cms, _ := c.CoreV1().ConfigMaps("skoala-system").List(ctx, metav1.ListOptions{}); len(cms.Items) != 2 {
		t.Errorf("%d ConfigMaps, want the journal and the kept one", len(cms.Items))
	}
}

// bigRun is an upgrade of n releases, each with realistic steps and backup paths.
func bigRun(i, n int, at time.Time) Run {
	run := Run{ID: fmt.Sprintf("r%02d", i), Kind: KindUpgrade, Who: "system:serviceaccount:ops:deployer", Host: "jump-host-01.example", Tool: "v0.9.0",
		Started: at, Finished: at.Add(time.Hour), Target: "0.57.2", Outcome: "upgraded"}
	for k := 0; k < n; k++ {
		ctx := fmt.Sprintf("workspace-%03d", k)
		run.Releases = append(run.Releases, Release{Context: ctx, Role: "workspace", Release: "skoala-init", Chart: "skoala-init",
			FromRevision: 7, FromVersion: "0.56.1", FromStatus: "deployed", ToRevision: 8, ToVersion: "0.57.2", Outcome: "upgraded",
			Steps:  []string{"backup", "admission-jobs", "crds:charts/contour-provisioner/crds/higress.gen.yaml,charts/sentinel/crds/sentinel.gen.yaml", "helm", "verify"},
			Backup: "/home/operator/.config/kubectl-skoala/backups/" + ctx + "_skoala-system_skoala-init_r7_skoala-init-0.56.1_20261202T010203Z.yaml"})
	}
	return run
}

// 20 runs of 85 releases pass the 1 MiB a ConfigMap holds: the journal stays under its budget, the
// newest runs are kept (issue 24 §3).
func TestJournalStaysUnderItsBudget(t *testing.T) {
	ctx := context.Background()
	c := fake.NewSimpleClientset()
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	s := &Store{Client: c, Namespace: "skoala-system", Now: func() time.Time { return at }}
	for i := 0; i < 21; i++ {
		if err := s.Begin(ctx, bigRun(i, 85, at.Add(time.Duration(i)*time.Hour))); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	cm, _ := c.CoreV1().ConfigMaps("skoala-system").Get(ctx, Name, metav1.GetOptions{})
	if n := len(cm.Data[Key]); n > 800<<10 {
		t.Fatalf("the journal is %d bytes: over its budget (a ConfigMap holds 1 MiB)", n)
	}
	runs, err := s.List(ctx)
	if err != nil || len(runs) < 2 || runs[0].ID != "r20" || runs[1].ID != "r19" {
		t.Fatalf("the newest runs are not kept: %d runs %v", len(runs), err)
	}
}

// Two writers whose clocks disagree: the run begun last is the newest, whatever its clock says.
func TestJournalOrdersBySequenceNotClock(t *testing.T) {
	ctx := context.Background()
	c := fake.NewSimpleClientset()
	at := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	a := &Store{Client: c, Namespace: "skoala-system", Now: func() time.Time { return at }}
	b := &Store{Client: c, Namespace: "skoala-system", Now: func() time.Time { return at.Add(-time.Hour) }} // its clock is an hour late
	if err := a.Begin(ctx, Run{ID: NewID(at), Kind: KindUpgrade, Started: at}); err != nil {
		t.Fatal(err)
	}
	second := NewID(at.Add(-time.Hour))
	if err := b.Begin(ctx, Run{ID: second, Kind: KindUpgrade, Started: at.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if last, err := a.Last(ctx); err != nil || last.ID != second {
		t.Fatalf("the newest run is %+v, want %s (begun last)", last, second)
	}
	if u := LastUndoable(mustList(t, a)); u == nil || u.ID != second {
		t.Errorf("LastUndoable %+v, want %s", u, second)
	}
}

func mustList(t *testing.T, s *Store) []Run {
	t.Helper()
	runs, err := s.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return runs
}
