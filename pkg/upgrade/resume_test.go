package upgrade

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/journal"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

func resumeWork(ctx string, rev int, status, version, to, action string) *work {
	return &work{plan: &ReleasePlan{Context: ctx, Release: "skoala-init", To: to, Action: action},
		last: &helmsdk.Release{Revision: rev, Status: status, ChartVersion: version}}
}

// --resume checks by revision what the run already did: the revision it left is done, a release it
// upgraded that moved since is refused (never upgraded twice), the rest is planned as usual.
func TestResumeDoneByRevision(t *testing.T) {
	run := &journal.Run{ID: "r1", Kind: journal.KindUpgrade, Target: "0.57.2", Outcome: journal.OutcomePaused, Releases: []journal.Release{
		{Context: "workspace-1", Release: "skoala-init", FromRevision: 1, ToRevision: 2, Outcome: OutcomeUpgraded},
		{Context: "workspace-2", Release: "skoala-init", FromRevision: 1, ToRevision: 2, Outcome: OutcomeUpgraded},
		{Context: "workspace-3", Release: "skoala-init", FromRevision: 1, Outcome: OutcomeNotStarted},
	}}
	ws := []*work{
		resumeWork("workspace-1", 2, "deployed", "0.57.2", "0.57.2", ActionUpgrade), // at the run's revision (with --force it would upgrade)
		resumeWork("workspace-2", 3, "deployed", "0.57.1", "0.57.2", ActionUpgrade), // rolled back since
		resumeWork("workspace-3", 1, "deployed", "0.57.1", "0.57.2", ActionUpgrade),
	}
	resumeDone(Config{Name: "kubectl skoala"}, run, ws)
	if p := ws[0].plan; p.Action != ActionUpToDate || !strings.Contains(p.Reason, "done by run r1 (revision 2)") {
		t.Errorf("workspace-1: %s %q", p.Action, p.Reason)
	}
	if p := ws[1].plan; p.Action != ActionRefused || !strings.Contains(p.Reason, "never upgraded twice") {
		t.Errorf("workspace-2: %s %q", p.Action, p.Reason)
	}
	if p := ws[2].plan; p.Action != ActionUpgrade {
		t.Errorf("workspace-3: %s", p.Action)
	}
}

// --resume refuses a plan whose target is no longer the run's.
func TestResumeRefusesAnotherTarget(t *testing.T) {
	run := &journal.Run{ID: "r1", Target: "0.57.2"}
	if err := resumeTarget(Config{}, run, []*work{resumeWork("global", 2, "deployed", "0.57.2", "0.57.2", ActionUpToDate)}); err != nil {
		t.Errorf("same target refused: %v", err)
	}
	err := resumeTarget(Config{}, run, []*work{resumeWork("workspace-2", 1, "deployed", "0.57.1", "0.58.0", ActionUpgrade)})
	if err == nil || !strings.Contains(err.Error(), "the run went to 0.57.2, this plan to 0.58.0") {
		t.Errorf("err %v", err)
	}
}

func TestLastResumable(t *testing.T) {
	runs := []journal.Run{{ID: "rb", Kind: journal.KindRollback, Outcome: "rolled-back"}, {ID: "p", Kind: journal.KindUpgrade, Outcome: journal.OutcomePaused}}
	if r := journal.LastResumable(runs); r == nil || r.ID != "p" {
		t.Errorf("got %+v", r)
	}
	runs = append([]journal.Run{{ID: "new", Kind: journal.KindUpgrade, Outcome: OutcomeUpgraded}}, runs...)
	if r := journal.LastResumable(runs); r != nil {
		t.Errorf("an older run behind a finished one: %+v", r)
	}
}

// A resumed run goes where the run went: without --version (or --to-latest-patch, or --chart) the run's
// target is the plan's version, not the newest in the repository; a --version given is kept (and checked
// against the run by resumeTarget).
func TestResumeDefaultsToTheRunsTarget(t *testing.T) {
	cs := fake.NewClientset()
	store := &journal.Store{Client: cs, Namespace: testNS}
	if err := store.Begin(context.Background(), journal.Run{ID: "r1", Kind: journal.KindUpgrade, Target: "0.35.0", Outcome: journal.OutcomePaused}); err != nil {
		t.Fatal(err)
	}
	ws := []*work{{target: fleet.Target{Context: "global", Role: fleet.RoleControlPlane, Release: "skoala"}, cluster: &kube.Cluster{Context: "global", Client: cs}}}
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Resume: ResumeLatest}, "0.35.0"},
		{Config{Resume: "r1"}, "0.35.0"},
		{Config{Resume: "r1", Version: "0.57.2"}, "0.57.2"},
		{Config{Resume: "r1", ToLatestPatch: true}, ""},
		{Config{Resume: "r1", Charts: []string{"skoala-0.57.2.tgz"}}, ""},
	} {
		cfg := tc.cfg
		cfg.Namespace, cfg.RequestTimeout = testNS, 10*time.Second
		run, err := resumed(context.Background(), &cfg, ws)
		if err != nil || run == nil || run.ID != "r1" || cfg.Version != tc.want {
			t.Errorf("%+v: run %v, err %v, version %q, want %q", tc.cfg, run, err, cfg.Version, tc.want)
		}
	}
}
