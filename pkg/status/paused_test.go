package status

import (
	"strings"
	"testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/journal"
)

// issue 22: a run paused after its canary leaves the fleet half-upgraded on purpose; status says so and
// names the --resume that continues it (a failed run keeps the --version way out).
func TestPausedRunSaysHowToContinue(t *testing.T) {
	for _, outcome := range []string{journal.OutcomePaused, "rolled-back"} {
		run := journal.Run{ID: "r1", Kind: journal.KindUpgrade, Target: "0.57.2", Outcome: outcome, Releases: []journal.Release{
			{Context: "global", Release: "skoala", ToRevision: 2, ToVersion: "0.57.2", Outcome: "upgraded"},
			{Context: "workspace-1", Release: "skoala-init", ToRevision: 2, ToVersion: "0.57.2", Outcome: "upgraded"},
			{Context: "workspace-2", Release: "skoala-init", Outcome: "not-started"},
		}}
		rep := &Report{Clusters: []Cluster{
			{Context: "global", Role: fleet.RoleControlPlane, Releases: []Release{{Name: "skoala", Installed: true, Version: "0.57.2"}}, runs: []journal.Run{run}},
			{Context: "workspace-1", Role: fleet.RoleWorkspace, Releases: []Release{{Name: "skoala-init", Installed: true, Version: "0.57.2"}}},
			{Context: "workspace-2", Role: fleet.RoleWorkspace, Releases: []Release{{Name: "skoala-init", Installed: true, Version: "0.57.1"}}},
		}}
		readJournal(rep, Config{Name: "kubectl skoala", Namespace: "skoala-system"})
		h := rep.Journal.HalfUpgraded
		if h == nil {
			t.Fatalf("%s: not half-upgraded", outcome)
		}
		paused := outcome == journal.OutcomePaused
		if h.Paused != paused || strings.Contains(h.Upgrade, "--resume r1") != paused {
			t.Errorf("%s: paused %v, upgrade %q", outcome, h.Paused, h.Upgrade)
		}
	}
}
