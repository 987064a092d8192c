package upgrade

import (
	"strings"
	"testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/journal"
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
