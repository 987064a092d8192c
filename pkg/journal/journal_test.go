package journal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestBeginUpdateListBounded(t *testing.T) {
	ctx := context.Background()
	c := fake.NewSimpleClientset()
	now := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	s := &Store{Client: c, Namespace: "skoala-system", Max: 3, Now: func() time.Time { return now }}
	if runs, err := s.List(ctx); err != nil || len(runs) != 0 {
		t.Fatalf("empty journal: %v %v", runs, err)
	}
	for i := 0; i < 5; i++ {
		run := Run{ID: fmt.Sprintf("r%d", i), Kind: KindUpgrade, Who: "admin", Started: now.Add(time.Duration(i) * time.Minute), Target: "0.57.2",
			Releases: []Release{{Context: "global", Release: "skoala", FromRevision: 1, FromVersion: "0.28.1", Outcome: "not-started"}}}
		if err := s.Begin(ctx, run); err != nil {
			t.Fatal(err)
		}
	}
	runs, err := s.List(ctx)
	if err != nil || len(runs) != 3 || runs[0].ID != "r4" || runs[2].ID != "r2" {
		t.Fatalf("bounded list: %+v %v", runs, err)
	}
	if runs[0].Outcome != OutcomeRunning || runs[0].Done() {
		t.Errorf("a begun run is running: %+v", runs[0])
	}
	err = s.Update(ctx, "r4", func(r *Run) {
		r.Releases[0].ToRevision, r.Releases[0].ToVersion, r.Releases[0].Outcome = 2, "0.57.2", "upgraded"
		r.Releases[0].Steps = []string{"helm", "values:hive.configMap.database[0].dsn"}
		r.Message = "failed: dial skoala:s3cr3t@tcp(db:3306)/skoala"
		r.Outcome, r.Finished = "upgraded", now
	})
	if err != nil {
		t.Fatal(err)
	}
	last, _ := s.Last(ctx)
	if !last.Done() || !last.Releases[0].Changed() || strings.Contains(last.Message, "s3cr3t") {
		t.Errorf("updated run: %+v", last)
	}
	if err := s.Update(ctx, "r0", func(*Run) {}); err == nil || !strings.Contains(err.Error(), "no run r0") {
		t.Errorf("updating a dropped run: %v", err)
	}
	cm, _ := c.CoreV1().ConfigMaps("skoala-system").Get(ctx, Name, metav1.GetOptions{})
	if !strings.Contains(cm.Data[Key], SchemaVersion) {
		t.Errorf("document: %s", cm.Data[Key])
	}
	if got := last.Summary(); !strings.Contains(got, "upgrade r4 to 0.57.2 by admin, 2026-12-02 01:04 UTC: upgraded") {
		t.Errorf("summary %q", got)
	}
}

func TestLastUndoableSkipsRollbacksAndUndone(t *testing.T) {
	runs := []Run{
		{ID: "c", Kind: KindRollback, Undoes: "b"},
		{ID: "b", Kind: KindUpgrade, UndoneBy: "c"},
		{ID: "a", Kind: KindUpgrade},
	}
	if got := LastUndoable(runs); got == nil || got.ID != "a" {
		t.Fatalf("LastUndoable = %+v, want a", got)
	}
	if LastUndoable(runs[:2]) != nil {
		t.Error("nothing left to undo")
	}
	if ByID(runs, "b") == nil || ByID(runs, "z") != nil {
		t.Error("ByID")
	}
}

func TestHalf(t *testing.T) {
	run := &Run{Kind: KindUpgrade, Target: "0.57.2", Releases: []Release{{Context: "global", Release: "skoala"}, {Context: "workspace-1", Release: "skoala-init"}}}
	at, behind := Half(run, []Installed{{"global", "skoala", "0.57.2"}, {"workspace-1", "skoala-init", "0.28.1"}, {"workspace-2", "skoala-init", "0.28.1"}})
	if fmt.Sprint(at, behind) != "[global] [workspace-1]" {
		t.Errorf("half: %v %v", at, behind)
	}
	if at, _ := Half(run, []Installed{{"global", "skoala", "0.57.2"}, {"workspace-1", "skoala-init", "0.57.2"}}); at != nil {
		t.Errorf("whole fleet at target is not half: %v", at)
	}
	run.UndoneBy = "x"
	if at, _ := Half(run, []Installed{{"global", "skoala", "0.57.2"}, {"workspace-1", "skoala-init", "0.28.1"}}); at != nil {
		t.Error("an undone run is not in effect")
	}
}

func TestJournalCompactsThenEvictsThenRefuses(t *testing.T) {
	ctx := context.Background()
	c := fake.NewSimpleClientset()
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	s := &Store{Client: c, Namespace: "skoala-system", Budget: 40 << 10, Now: func() time.Time { return at }}
	old := bigRun(0, 60, at)
	for k := 1; k < 60; k++ { // the old run changed only its first release
		old.Releases[k].ToRevision, old.Releases[k].ToVersion, old.Releases[k].Outcome = 0, "", "up-to-date"
	}
	if err := s.Begin(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := s.Begin(ctx, bigRun(1, 40, at)); err != nil {
		t.Fatal(err)
	}
	runs, _ := s.List(ctx)
	if len(runs) != 2 || len(runs[1].Releases) != 1 || runs[1].Compacted != 59 || len(runs[0].Releases) != 40 {
		t.Fatalf("the old run's passive releases are not compacted: %d runs", len(runs))
	}
	if err := s.Begin(ctx, bigRun(2, 50, at)); err != nil {
		t.Fatal(err)
	}
	if runs, _ = s.List(ctx); len(runs) != 1 || runs[0].ID != "r02" {
		t.Fatalf("the oldest runs are not evicted: %d runs", len(runs))
	}
	var tb *TooBigError
	if err := s.Begin(ctx, bigRun(3, 500, at)); !errors.As(err, &tb) {
		t.Fatalf("a run that cannot fit: %v", err)
	}
	if runs, _ = s.List(ctx); len(runs) != 1 || runs[0].ID != "r02" {
		t.Errorf("a refused run changed the journal: %d runs", len(runs))
	}
}

func TestReleaseMatchesByIdentityThenContext(t *testing.T) {
	uid := ClusterIdentity{Server: "https://10.0.0.1:6443", KubeSystemUID: "uid-1"}
	run := &Run{Releases: []Release{
		{Context: "global", Release: "skoala", Cluster: &ClusterIdentity{Server: "https://vip:6443", KubeSystemUID: "uid-1"}},
		{Context: "workspace-1", Release: "skoala-init"}, // written before identities were recorded
	}}
	if r := run.FindOn(uid, "dce-prod-global", "skoala"); r == nil {
		t.Error("the same cluster under another context name does not match")
	}
	if r := run.FindOn(ClusterIdentity{KubeSystemUID: "uid-2"}, "global", "skoala"); r != nil {
		t.Error("another cluster under the same context name matches")
	}
	if r := run.FindOn(ClusterIdentity{}, "global", "skoala"); r == nil {
		t.Error("an unknown identity does not fall back to the context name")
	}
	if r := run.FindOn(ClusterIdentity{KubeSystemUID: "uid-9"}, "workspace-1", "skoala-init"); r == nil {
		t.Error("an old run without identity does not fall back to the context name")
	}
}
