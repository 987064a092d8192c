package rollback

import (
	"strings"
	"testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/journal"
)

// The plan tests of issue 24 §3 that use only the API the plan had before it: each fails on that code.

// A run whose changed releases are not all among the targets is refused whole: undoing part of it would
// leave the fleet skewed and mark the run undone.
func TestPlanRefusesPartOfARun(t *testing.T) {
	st := fleetState()
	st.Runs[0].Releases[2].ToRevision, st.Runs[0].Releases[2].ToVersion, st.Runs[0].Releases[2].Outcome = 2, "0.57.2", "upgraded"
	st.Runs[0].Releases[1].Role, st.Runs[0].Releases[2].Role = "workspace", "workspace"
	st.Releases = st.Releases[:2] // the control plane and workspace-1: workspace-2 is not a target
	rep, err := Plan(cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != OutcomeRefused || !strings.Contains(rep.Message, "workspace-2/skoala-init") || !strings.Contains(rep.Hint, "-w workspace-1,workspace-2") {
		t.Fatalf("a rollback of part of a run: %s %q %q", rep.Outcome, rep.Message, rep.Hint)
	}
	// A release Helm's --atomic rolled back is not a change: leaving it out is fine.
	st = fleetState()
	st.Releases = st.Releases[:2]
	if rep, _ := Plan(cfg, st); rep.Outcome != OutcomePlanned {
		t.Errorf("the run's atomic rollback counted as a change: %s %s", rep.Outcome, rep.Message)
	}
}

// A rollback stopped half-way (workspace-1 rolled back, the control plane not) runs again and finishes
// what is left.
func TestPlanFinishesAHalfDoneRollback(t *testing.T) {
	st := fleetState()
	back := rev("skoala-init", "skoala-init", 3, "deployed", "0.28.1")
	back.Description = "Rollback to 1"
	st.Releases[1].History = append([]*helmsdk.Release{back}, st.Releases[1].History...)
	st.Releases[1].History[1].Status = "superseded"
	st.Runs = append([]journal.Run{{ID: "rb-1", Kind: journal.KindRollback, Undoes: "run-1", Outcome: "failed", Releases: []journal.Release{
		{Context: "workspace-1", Release: "skoala-init", FromRevision: 2, ToRevision: 3, Outcome: "rolled-back"},
		{Context: "global", Release: "skoala", FromRevision: 2, Outcome: "failed"},
	}}}, st.Runs...)
	rep, err := Plan(cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(rep); got != "workspace-2:none workspace-1:none global:rollback" || rep.Run != "run-1" || rep.Outcome != OutcomePlanned {
		t.Fatalf("the second rollback: %s %s %s", got, rep.Outcome, rep.Message)
	}
	if !strings.Contains(rep.Releases[1].Reason, "rb-1 already returned it") {
		t.Errorf("workspace-1: %q", rep.Releases[1].Reason)
	}
	// Without the journal's record (killed before it was written), Helm's own "Rollback to 1" says it.
	st.Runs = st.Runs[1:]
	if rep, _ := Plan(cfg, st); actions(rep) != "workspace-2:none workspace-1:none global:rollback" {
		t.Errorf("from Helm's history: %s %s", actions(rep), rep.Message)
	}
}

// A run killed during its helm call, then a hotfix by someone else: the rollback stops and names it.
func TestPlanNamesAHotfixAfterAKilledRun(t *testing.T) {
	st := fleetState()
	st.Runs[0].Outcome = journal.OutcomeRunning
	st.Runs[0].Releases[0].ToRevision, st.Runs[0].Releases[0].ToVersion, st.Runs[0].Releases[0].Outcome = 0, "", journal.OutcomeRunning
	hotfix := rev("skoala", "skoala", 3, "deployed", "0.57.3")
	hotfix.Description = "Upgrade complete"
	st.Releases[0].History[0].Status = "superseded"
	st.Releases[0].History = append([]*helmsdk.Release{hotfix}, st.Releases[0].History...)
	rep, err := Plan(cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	g := rep.Releases[2]
	if g.Action != ActionRefused || !strings.Contains(g.Reason, "revision 3 (deployed 0.57.3") || rep.Outcome != OutcomeRefused {
		t.Fatalf("the hotfix is undone silently: %s %q", g.Action, g.Reason)
	}
}
