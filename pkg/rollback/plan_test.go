package rollback

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmops"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/journal"
)

func rev(name, chart string, n int, status, version string) *helmsdk.Release {
	return &helmsdk.Release{Name: name, Namespace: "skoala-system", Revision: n, Status: status, Chart: chart, ChartVersion: version,
		Values:   map[string]any{"hive": map[string]any{"image": map[string]any{"tag": "v" + version}}},
		Manifest: "---\n# Source: x/templates/d.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: hive\nspec:\n  template:\n    spec:\n      containers:\n      - name: hive\n        image: release.daocloud.io/skoala/hive:v" + version + "\n"}
}

var (
	cpT  = fleet.Target{Context: "global", Role: fleet.RoleControlPlane, Release: "skoala"}
	ws1T = fleet.Target{Context: "workspace-1", Role: fleet.RoleWorkspace, Release: "skoala-init"}
	ws2T = fleet.Target{Context: "workspace-2", Role: fleet.RoleWorkspace, Release: "skoala-init"}
)

func upgradeRun() journal.Run {
	return journal.Run{ID: "run-1", Kind: journal.KindUpgrade, Who: "admin", Target: "0.57.2", Outcome: "rolled-back",
		Started: time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC), Finished: time.Date(2026, 12, 2, 1, 5, 0, 0, time.UTC),
		Releases: []journal.Release{
			{Context: "global", Release: "skoala", FromRevision: 1, FromVersion: "0.28.1", ToRevision: 2, ToVersion: "0.57.2", Outcome: "upgraded", Steps: []string{"backup", "helm", "verify"}, Backup: "/b/global.yaml"},
			{Context: "workspace-1", Release: "skoala-init", FromRevision: 1, FromVersion: "0.28.1", ToRevision: 2, ToVersion: "0.57.2", Outcome: "upgraded",
				Steps: []string{"backup", "admission-jobs", "crds:charts/contour-provisioner/crds/contour.yaml", "helm", "verify"}},
			{Context: "workspace-2", Release: "skoala-init", FromRevision: 1, FromVersion: "0.28.1", ToRevision: 3, ToVersion: "0.28.1", Outcome: "rolled-back"},
		}}
}

func fleetState() *State {
	return &State{Runs: []journal.Run{upgradeRun()}, Releases: []ReleaseState{
		{Target: cpT, History: []*helmsdk.Release{rev("skoala", "skoala", 2, "deployed", "0.57.2"), rev("skoala", "skoala", 1, "superseded", "0.28.1")}},
		{Target: ws1T, History: []*helmsdk.Release{rev("skoala-init", "skoala-init", 2, "deployed", "0.57.2"), rev("skoala-init", "skoala-init", 1, "superseded", "0.28.1")}},
		{Target: ws2T, History: []*helmsdk.Release{rev("skoala-init", "skoala-init", 3, "deployed", "0.28.1"), rev("skoala-init", "skoala-init", 2, "failed", "0.57.2"), rev("skoala-init", "skoala-init", 1, "superseded", "0.28.1")}},
	}}
}

var cfg = Config{Namespace: "skoala-system", Timeout: 5 * time.Minute, BackupDir: "/b", Name: "kubectl skoala"}

func actions(rep *Report) string {
	var s []string
	for _, r := range rep.Releases {
		s = append(s, r.Context+":"+r.Action)
	}
	return strings.Join(s, " ")
}

func TestPlanUndoesTheLastRunWorkspacesFirst(t *testing.T) {
	rep, err := Plan(cfg, fleetState())
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(rep); got != "workspace-2:none workspace-1:rollback global:rollback" {
		t.Fatalf("actions %s", got)
	}
	if rep.Run != "run-1" || rep.Outcome != OutcomePlanned {
		t.Errorf("run %q outcome %q", rep.Run, rep.Outcome)
	}
	ws1 := rep.Releases[1]
	if ws1.ToRevision != 1 || ws1.To != "0.28.1" || len(ws1.Diff) < 2 || ws1.Diff[0].Change != "changed" {
		t.Errorf("workspace-1: %+v", ws1)
	}
	if !strings.Contains(rep.Releases[0].Reason, "--atomic already rolled it back") {
		t.Errorf("workspace-2 reason %q", rep.Releases[0].Reason)
	}
	notes := strings.Join(rep.NotUndone, "\n")
	if !strings.Contains(notes, "workspace-1: charts/contour-provisioner/crds/contour.yaml") || !strings.Contains(notes, "admission Jobs") || !strings.Contains(notes, "database schema") {
		t.Errorf("not undone: %s", notes)
	}
}

func TestPlanNeverUndoesARollbackAndNamesUnknownRuns(t *testing.T) {
	st := fleetState()
	st.Runs[0].UndoneBy = "run-2"
	st.Runs = append([]journal.Run{{ID: "run-2", Kind: journal.KindRollback, Undoes: "run-1"}}, st.Runs...)
	rep, err := Plan(cfg, st)
	if err != nil || rep.Outcome != OutcomeNothing || rep.Run != "" {
		t.Fatalf("after a rollback: %v %+v", err, rep)
	}
	c := cfg
	c.Run = "run-2"
	if _, err := Plan(c, st); err == nil || !strings.Contains(err.Error(), "is a rollback") {
		t.Errorf("--run of a rollback: %v", err)
	}
	c.Run = "nope"
	if _, err := Plan(c, st); err == nil || !strings.Contains(err.Error(), "no run nope") {
		t.Errorf("--run unknown: %v", err)
	}
	c.Run = "run-1"
	if rep, err := Plan(c, st); err != nil || actions(rep) != "workspace-2:none workspace-1:rollback global:rollback" {
		t.Errorf("--run run-1 again: %v %s", err, actions(rep))
	}
}

// pendingState has the control plane pending-upgrade (revision 3) and workspace-1 pending-install (revision
// 1), both left by helm operations that started at started and that no kubectl-skoala lock recorded.
func pendingState(started time.Time) *State {
	st := fleetState()
	st.Runs = nil
	st.Read = time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	p := rev("skoala", "skoala", 3, "pending-upgrade", "0.57.2")
	p.LastDeployed = started
	st.Releases[0].History = append([]*helmsdk.Release{p}, st.Releases[0].History...)
	i := rev("skoala-init", "skoala-init", 1, "pending-install", "0.28.1")
	i.LastDeployed = started
	st.Releases[1].History = []*helmsdk.Release{i}
	return st
}

func TestPlanRecoversPendingFirstWhateverTheJournalSays(t *testing.T) {
	st := pendingState(time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC)) // an hour ago: no helm wait can still run
	rep, err := Plan(cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(rep); got != "workspace-2:none workspace-1:uninstall global:recover" {
		t.Fatalf("actions %s", got)
	}
	g := rep.Releases[2]
	if g.ToRevision != 2 || !strings.Contains(g.Reason, "stuck pending-upgrade (no lock is held; ") || !strings.Contains(g.Reason, "longer than any helm wait") {
		t.Errorf("recover: %+v", g)
	}
	u := rep.Releases[1]
	if len(u.Removes) != 1 || u.Removes[0] != "Deployment skoala-system/hive" {
		t.Errorf("uninstall removes %v", u.Removes)
	}
}

// TestPlanRefusesALiveForeignPending is issue 24 §1: a pending revision no kubectl-skoala lock recorded,
// started less than the longest helm wait ago, is another operation's that may still run (a 'helm upgrade
// --wait' from CI): refused, naming the revision, when it started and --force, as upgrade refuses it.
func TestPlanRefusesALiveForeignPending(t *testing.T) {
	st := pendingState(time.Date(2026, 12, 6, 4, 58, 0, 0, time.UTC))
	rep, err := Plan(cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(rep); got != "workspace-2:none workspace-1:refused global:refused" || rep.Outcome != OutcomeRefused {
		t.Fatalf("actions %s, outcome %s", got, rep.Outcome)
	}
	g := rep.Releases[2]
	if !strings.Contains(g.Reason, "revision 3 is pending-upgrade since 2026-12-06T04:58:00Z (2m0s ago)") || !strings.Contains(g.Hint, "--force") {
		t.Errorf("refusal: %q / %q", g.Reason, g.Hint)
	}
	rev := cfg
	rev.ToRevision = 1
	st.Releases = st.Releases[:1]
	if rep, err := Plan(rev, st); err != nil || actions(rep) != "global:refused" || !strings.Contains(rep.Releases[0].Reason, "revision 3 is pending-upgrade since") {
		t.Errorf("--to-revision beside it: %v %s", err, actions(rep))
	}
	st = pendingState(time.Date(2026, 12, 6, 4, 58, 0, 0, time.UTC))
	c := cfg
	c.Force = true
	rep, err = Plan(c, st)
	if err != nil || actions(rep) != "workspace-2:none workspace-1:uninstall global:recover" {
		t.Fatalf("--force: %v %s", err, actions(rep))
	}
	if !strings.Contains(rep.Releases[2].Reason, "--force: revision 3") {
		t.Errorf("--force reason %q", rep.Releases[2].Reason)
	}
}

func TestPlanRefusals(t *testing.T) {
	t.Run("pruned revision: the hint names the backup", func(t *testing.T) {
		st := fleetState()
		st.Releases[0].History = st.Releases[0].History[:1]
		rep, _ := Plan(cfg, st)
		g := rep.Releases[2]
		if g.Action != ActionRefused || !strings.Contains(g.Hint, "--from-backup /b/global.yaml") || rep.Outcome != OutcomeRefused {
			t.Errorf("%+v", g)
		}
	})
	t.Run("changed since the run", func(t *testing.T) {
		st := fleetState()
		st.Releases[0].History = append([]*helmsdk.Release{rev("skoala", "skoala", 3, "deployed", "0.57.0")}, st.Releases[0].History...)
		rep, _ := Plan(cfg, st)
		if g := rep.Releases[2]; g.Action != ActionRefused || !strings.Contains(g.Reason, "changed since run run-1") {
			t.Errorf("%+v", g)
		}
	})
	t.Run("--to-revision not in the history", func(t *testing.T) {
		c := cfg
		c.ToRevision = 7
		st := fleetState()
		st.Releases = st.Releases[:1]
		rep, _ := Plan(c, st)
		if g := rep.Releases[0]; g.Action != ActionRefused || !strings.Contains(g.Reason, "holds no revision 7 (it holds 2, 1)") {
			t.Errorf("%+v", g)
		}
		c.ToRevision = 1
		rep, _ = Plan(c, st)
		if g := rep.Releases[0]; g.Action != ActionRollback || g.ToRevision != 1 {
			t.Errorf("%+v", g)
		}
	})
	t.Run("a killed run: the newest revision is the run's", func(t *testing.T) {
		st := fleetState()
		st.Runs[0].Releases[0].ToRevision, st.Runs[0].Releases[0].Outcome = 0, journal.OutcomeRunning
		rep, _ := Plan(cfg, st)
		if g := rep.Releases[2]; g.Action != ActionRollback || g.ToRevision != 1 {
			t.Errorf("%+v", g)
		}
	})
}

func TestPlanDryRunAndNothing(t *testing.T) {
	c := cfg
	c.DryRun = true
	rep, _ := Plan(c, fleetState())
	if rep.Outcome != OutcomeDryRun {
		t.Errorf("dry run outcome %q", rep.Outcome)
	}
	st := fleetState()
	st.Runs = nil
	rep, _ = Plan(cfg, st)
	if rep.Outcome != OutcomeNothing || !strings.Contains(rep.Message, "no upgrade run") || rep.Hint == "" {
		t.Errorf("no journal: %+v", rep)
	}
}

// TestPlanRefusesBesideKpanda is issue 24 §1: a release kpanda runs a Helm operation on is refused, naming
// the Job; a release the rollback leaves alone is not.
func TestPlanRefusesBesideKpanda(t *testing.T) {
	st := fleetState()
	op := helmops.Operation{Namespace: "skoala-system", Job: "helm-operation-upgrade-skoala-init-x7k2p", Action: "upgrade", Release: "skoala-init", HelmApp: "skoala-init"}
	st.Releases[1].Kpanda = []helmops.Operation{op}
	st.Releases[2].Kpanda = []helmops.Operation{op}
	rep, err := Plan(cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(rep); got != "workspace-2:none workspace-1:refused global:rollback" || rep.Outcome != OutcomeRefused {
		t.Fatalf("actions %s, outcome %s", got, rep.Outcome)
	}
	w := rep.Releases[1]
	if !strings.Contains(w.Reason, "Job skoala-system/helm-operation-upgrade-skoala-init-x7k2p (HelmApp skoala-init)") || !strings.Contains(w.Hint, "get job helm-operation-upgrade-skoala-init-x7k2p") || len(w.Steps) != 0 {
		t.Errorf("%+v", w)
	}
}

// TestRightsOfARollback: what Execute asks about before the first change (issue 24 §3).
func TestRightsOfARollback(t *testing.T) {
	st := fleetState()
	rep, err := Plan(cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rights(cfg, st.Releases[0], &rep.Releases[2]) {
		got = append(got, r.Verb+" "+r.Resource+"/"+r.Name+" in "+r.Namespace)
	}
	s := strings.Join(got, "\n")
	for _, want := range []string{"create leases/ in skoala-system", "update leases/kubectl-skoala-upgrade.skoala in skoala-system", "list jobs/ in skoala-system",
		"update secrets/ in skoala-system", "patch deployments/hive"} {
		if !strings.Contains(s, want) {
			t.Errorf("rights lack %q:\n%s", want, s)
		}
	}
}

func TestPlanJournalThatDoesNotDecode(t *testing.T) {
	st := fleetState()
	st.Runs = nil
	st.JournalCorrupt = &journal.CorruptError{Namespace: "skoala-system", Name: journal.Name, Reason: "invalid character"}
	_, err := Plan(cfg, st)
	var he *HintError
	if err == nil || !strings.Contains(err.Error(), "does not decode") || !errors.As(err, &he) {
		t.Fatalf("a corrupt journal: %v", err)
	}
	for _, w := range []string{"--run", "--to-revision", "--from-backup"} {
		if !strings.Contains(he.Hint, w) {
			t.Errorf("the hint does not name %s: %s", w, he.Hint)
		}
	}
	c := cfg
	c.ToRevision = 1
	st.Releases = st.Releases[:1]
	if rep, err := Plan(c, st); err != nil || rep.Releases[0].Action != ActionRollback {
		t.Errorf("--to-revision with a corrupt journal: %v", err)
	}
	// Started afresh after it was moved aside, with no upgrade run since: not "nothing to roll back".
	st = fleetState()
	st.Runs, st.MovedAside = nil, []string{journal.Name + "-corrupt-20261202-010000"}
	if _, err := Plan(cfg, st); err == nil || !strings.Contains(err.Error(), "corrupt-20261202-010000") {
		t.Errorf("a journal started afresh: %v", err)
	}
}

func TestPlanMatchesReleasesByClusterIdentity(t *testing.T) {
	st := fleetState()
	for i := range st.Runs[0].Releases {
		jr := &st.Runs[0].Releases[i]
		jr.Cluster = &journal.ClusterIdentity{KubeSystemUID: "uid-" + jr.Context}
	}
	// This operator's kubeconfig names the clusters otherwise.
	for i, name := range []string{"dce-global", "dce-ws1", "dce-ws2"} {
		old := st.Releases[i].Target.Context
		st.Releases[i].Target.Context = name
		st.Releases[i].Identity = journal.ClusterIdentity{KubeSystemUID: "uid-" + old}
	}
	rep, err := Plan(cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(rep); got != "dce-ws2:none dce-ws1:rollback dce-global:rollback" {
		t.Fatalf("by identity: %s", got)
	}
	// Another cluster under the recorded name is not the run's.
	st = fleetState()
	st.Runs[0].Releases[1].Cluster = &journal.ClusterIdentity{KubeSystemUID: "uid-a"}
	st.Releases[1].Identity = journal.ClusterIdentity{KubeSystemUID: "uid-b"}
	if rep, _ := Plan(cfg, st); rep.Outcome != OutcomeRefused || !strings.Contains(rep.Message, "workspace-1/skoala-init") {
		t.Errorf("another cluster under the same name: %s %s", rep.Outcome, rep.Message)
	}
}
