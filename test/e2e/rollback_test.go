package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rollbackJSON is the part of the rollback report the tests read.
type rollbackJSON struct {
	Schema     string   `json:"schema"`
	Mode       string   `json:"mode"`
	Run        string   `json:"run"`
	JournalRun string   `json:"journalRun"`
	Outcome    string   `json:"outcome"`
	Message    string   `json:"message"`
	Hint       string   `json:"hint"`
	NotUndone  []string `json:"notUndone"`
	Releases   []struct {
		Context      string `json:"context"`
		Release      string `json:"release"`
		FromRevision int    `json:"fromRevision"`
		ToRevision   int    `json:"toRevision"`
		Action       string `json:"action"`
		Reason       string `json:"reason"`
		Hint         string `json:"hint"`
		Result       *struct {
			Outcome  string `json:"outcome"`
			Revision int    `json:"revision"`
			Backup   string `json:"backup"`
			Error    string `json:"error"`
		} `json:"result"`
	} `json:"releases"`
}

func parseRollback(t *testing.T, r Result) rollbackJSON {
	t.Helper()
	var rb rollbackJSON
	if err := json.Unmarshal([]byte(r.Stdout), &rb); err != nil {
		t.Fatalf("rollback -o json is not JSON: %v\n%s", err, r)
	}
	return rb
}

// journalRunJSON is a run of the journal ConfigMap.
type journalRunJSON struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	Who      string `json:"who"`
	Target   string `json:"target"`
	Outcome  string `json:"outcome"`
	Finished string `json:"finished"`
	Undoes   string `json:"undoes"`
	UndoneBy string `json:"undoneBy"`
	Releases []struct {
		Context      string   `json:"context"`
		Release      string   `json:"release"`
		FromRevision int      `json:"fromRevision"`
		FromVersion  string   `json:"fromVersion"`
		ToRevision   int      `json:"toRevision"`
		ToVersion    string   `json:"toVersion"`
		Outcome      string   `json:"outcome"`
		Steps        []string `json:"steps"`
		Backup       string   `json:"backup"`
	} `json:"releases"`
}

// journalRuns reads the journal of ns on the control plane with kubectl, newest first.
func journalRuns(t *testing.T, ns string) []journalRunJSON {
	t.Helper()
	r := Kubectl(t, "--context", "global", "-n", ns, "get", "configmap", "kubectl-skoala-journal", "--ignore-not-found", "-o", `jsonpath={.data.runs\.json}`)
	if strings.TrimSpace(r.Stdout) == "" {
		return nil
	}
	var doc struct {
		Runs []journalRunJSON `json:"runs"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil {
		t.Fatalf("the journal does not decode: %v\n%s", err, r.Stdout)
	}
	return doc.Runs
}

// wantRelease checks a release's newest revision with helm: chart version and status.
func wantRelease(t *testing.T, kubeContext, ns, release, version string) {
	t.Helper()
	st := helmStatus(t, kubeContext, ns, release)
	if st.Chart.Metadata.Version != version || st.Info.Status != "deployed" {
		t.Errorf("%s/%s: revision %d %s %s, want %s deployed", kubeContext, release, st.Version, st.Info.Status, st.Chart.Metadata.Version, version)
	}
}

// wantFleetAt checks with status that every release runs version, ready, with the tag v<version>.
func wantFleetAt(t *testing.T, ns, version string, workspaces ...string) {
	t.Helper()
	args := []string{"status", "-n", ns, "-o", "json"}
	if len(workspaces) > 0 {
		args = append(args, "-w", strings.Join(workspaces, ","))
	}
	s := parseStatus(t, Skoala(t, args...))
	for _, c := range s.Clusters {
		for _, rel := range c.Releases {
			if rel.Version != version || rel.Status != "deployed" {
				t.Errorf("%s: %s %s %s, want %s deployed", c.Context, rel.Name, rel.Version, rel.Status, version)
			}
			for _, comp := range rel.Components {
				if comp.State != "ready" && comp.State != "completed" {
					t.Errorf("%s/%s: %s is %s", c.Context, rel.Name, comp.Name, comp.State)
				}
				if comp.Kind == "Deployment" && comp.Name != "skoala-ui" && comp.Tag != "v"+version {
					t.Errorf("%s/%s: %s runs %s, want v%s", c.Context, rel.Name, comp.Name, comp.Tag, version)
				}
			}
		}
	}
}

const privateRegistry = "registry.private.example:5443"

// TestRollbackFleetAfterUpgrade: a fleet (control plane + two workspaces) upgraded from 0.28.1 to the
// newest version with user values (a DSN with special characters, a private registry), then 'rollback
// --yes': every release is back at 0.28.1 with its user-supplied values equal key for key to those before
// the upgrade, its components ready and running the old image tags; the journal holds both runs.
func TestRollbackFleetAfterUpgrade(t *testing.T) {
	ns := freshNamespace(t, "rbf")
	reg := []string{"--set", "global.imageRegistry=" + privateRegistry}
	workspaces := []string{"workspace-1", "workspace-2"}
	inParallel(t, 0,
		func() { installSkoala(t, "global", ns, "0.28.1", reg...) },
		func() { InstallChart(t, "workspace-1", ns, "skoala-init", "skoala-init", "0.28.1", reg...) },
		func() { InstallChart(t, "workspace-2", ns, "skoala-init", "skoala-init", "0.28.1", reg...) },
	)
	before := map[string]map[string]any{
		"global":      helmValues(t, "global", ns, "skoala", false),
		"workspace-1": helmValues(t, "workspace-1", ns, "skoala-init", false),
		"workspace-2": helmValues(t, "workspace-2", ns, "skoala-init", false),
	}
	backups := t.TempDir()
	up := Run(t, nil, 6*time.Minute, fleet.Skoala, "upgrade", "-n", ns, "-w", "workspace-1,workspace-2", "--backup-dir", backups, "--timeout", "2m", "--yes", "-o", "json")
	if up.Code != 0 {
		t.Fatalf("upgrade exit %d\n%s", up.Code, up)
	}
	wantFleetAt(t, ns, "0.57.2", workspaces...)

	rb := Run(t, nil, 6*time.Minute, fleet.Skoala, "rollback", "-n", ns, "-w", "workspace-1,workspace-2", "--backup-dir", backups, "--timeout", "2m", "--yes", "-o", "json")
	if rb.Code != 0 {
		t.Fatalf("rollback exit %d, want 0\n%s", rb.Code, rb)
	}
	noPassword(t, rb)
	rep := parseRollback(t, rb)
	if rep.Outcome != "rolled-back" || len(rep.Releases) != 3 {
		t.Fatalf("rollback outcome %q, %d releases\n%s", rep.Outcome, len(rep.Releases), rb.Stdout)
	}
	if rep.Releases[2].Context != "global" || rep.Releases[0].Context != "workspace-2" {
		t.Errorf("the order is not workspaces first (last given first), then the control plane: %s, %s, %s", rep.Releases[0].Context, rep.Releases[1].Context, rep.Releases[2].Context)
	}
	if i, j := strings.Index(rb.Stderr, "workspace-1/skoala-init: rollback"), strings.Index(rb.Stderr, "global/skoala: rollback"); i < 0 || j < i {
		t.Errorf("the progress does not roll the workspaces back before the control plane:\n%s", rb.Stderr)
	}
	for _, r := range rep.Releases {
		if r.Action != "rollback" || r.ToRevision != 1 || r.Result == nil || r.Result.Outcome != "rolled-back" || r.Result.Revision != 3 || r.Result.Backup == "" {
			t.Errorf("%s/%s: %+v %+v", r.Context, r.Release, r, r.Result)
		}
	}
	if !strings.Contains(strings.Join(rep.NotUndone, "\n"), "CRDs the run applied stay") {
		t.Errorf("the report does not say the CRDs stay: %v", rep.NotUndone)
	}
	t.Run("every release is back at 0.28.1 with the values from before, key for key", func(t *testing.T) {
		for ctx, rel := range map[string]string{"global": "skoala", "workspace-1": "skoala-init", "workspace-2": "skoala-init"} {
			wantRelease(t, ctx, ns, rel, "0.28.1")
			after := helmValues(t, ctx, ns, rel, false)
			if !reflect.DeepEqual(after, before[ctx]) {
				t.Errorf("%s/%s: values after the rollback differ from before the upgrade: %v", ctx, rel, valuesDiff(before[ctx], after))
			}
		}
		if dsnOf(helmValues(t, "global", ns, "skoala", false)) != upgradeDSN(ns) {
			t.Error("the DSN did not survive")
		}
	})
	t.Run("components ready, running the old image tags from the private registry", func(t *testing.T) {
		wantFleetAt(t, ns, "0.28.1", workspaces...)
		img := MustKubectl(t, "--context", "workspace-1", "-n", ns, "get", "deployment", "skoala-agent", "-o", "jsonpath={.spec.template.spec.containers[0].image}")
		if !strings.HasPrefix(img.Stdout, privateRegistry+"/") || !strings.HasSuffix(img.Stdout, ":v0.28.1") {
			t.Errorf("skoala-agent image %q", img.Stdout)
		}
	})
	t.Run("the journal holds both runs", func(t *testing.T) {
		runs := journalRuns(t, ns)
		if len(runs) != 2 {
			t.Fatalf("%d runs in the journal, want 2: %+v", len(runs), runs)
		}
		r, u := runs[0], runs[1]
		if u.Kind != "upgrade" || u.Target != "0.57.2" || u.Outcome != "upgraded" || u.Who != "admin" || u.Finished == "" || u.UndoneBy != r.ID || len(u.Releases) != 3 {
			t.Errorf("upgrade run: %+v", u)
		}
		for _, jr := range u.Releases {
			if jr.FromRevision != 1 || jr.FromVersion != "0.28.1" || jr.ToRevision != 2 || jr.ToVersion != "0.57.2" || jr.Outcome != "upgraded" || jr.Backup == "" {
				t.Errorf("upgrade run, %s: %+v", jr.Context, jr)
			}
		}
		if r.Kind != "rollback" || r.Undoes != u.ID || r.Outcome != "rolled-back" || r.ID != rep.JournalRun || len(r.Releases) != 3 {
			t.Errorf("rollback run: %+v", r)
		}
		cm := MustKubectl(t, "--context", "global", "-n", ns, "get", "configmap", "kubectl-skoala-journal", "-o", "json").Stdout
		if strings.Contains(cm, dsnPassword) || strings.Contains(cm, privateRegistry) {
			t.Error("the journal holds a value")
		}
	})
	t.Run("a second plain rollback does not undo the rollback", func(t *testing.T) {
		r := Skoala(t, "rollback", "-n", ns, "-w", "workspace-1,workspace-2", "--backup-dir", backups, "--yes")
		if r.Code != 0 || !strings.Contains(r.Stdout, "nothing to roll back") {
			t.Errorf("second rollback: %s", r)
		}
		wantRelease(t, "global", ns, "skoala", "0.28.1")
	})
}

// TestRollbackHalfUpgradedFleet: the control plane upgraded, the workspace's rollout fails and is rolled
// back by --atomic: status and doctor name the half-upgraded fleet and exit 3; rollback brings the control
// plane back; afterwards there is no skew.
func TestRollbackHalfUpgradedFleet(t *testing.T) {
	ns := freshNamespace(t, "rbhalf")
	installUpgradeFleet(t, ns, "0.28.1", []string{"workspace-1"})
	backups := t.TempDir()
	// Only skoala-init's skoala-agent asks for more CPU than the kwok node has: its new pods never get ready.
	up := Run(t, nil, 6*time.Minute, fleet.Skoala, "upgrade", "-n", ns, "-w", "workspace-1", "--backup-dir", backups, "--timeout", "30s", "--yes",
		"--set", "skoala-agent.resources.requests.cpu=1000", "-o", "json")
	if up.Code != 3 {
		t.Fatalf("upgrade exit %d, want 3 (the workspace rolled back)\n%s", up.Code, up)
	}
	wantRelease(t, "global", ns, "skoala", "0.57.2")
	wantRelease(t, "workspace-1", ns, "skoala-init", "0.28.1")

	st := Skoala(t, "status", "-n", ns, "-w", "workspace-1")
	if st.Code != 3 || !strings.Contains(st.Stdout, "half-upgraded") || !strings.Contains(st.Stdout, "workspace-1") || !strings.Contains(st.Stdout, "rollback") {
		t.Errorf("status does not name the half-upgraded fleet (exit 3):\n%s", st)
	}
	sj := Skoala(t, "status", "-n", ns, "-w", "workspace-1", "-o", "json")
	var sdoc struct {
		Journal *struct {
			LastRun *struct {
				Kind, Target, Outcome string
			} `json:"lastRun"`
			HalfUpgraded *struct {
				At     []string `json:"at"`
				Behind []string `json:"behind"`
			} `json:"halfUpgraded"`
		} `json:"journal"`
	}
	if err := json.Unmarshal([]byte(sj.Stdout), &sdoc); err != nil || sdoc.Journal == nil || sdoc.Journal.LastRun == nil || sdoc.Journal.HalfUpgraded == nil ||
		!reflect.DeepEqual(sdoc.Journal.HalfUpgraded.Behind, []string{"workspace-1"}) || sdoc.Journal.LastRun.Target != "0.57.2" {
		t.Errorf("status -o json lacks the journal's half-upgraded fleet: %v\n%s", err, sj.Stdout)
	}
	doc := Skoala(t, "doctor", "-n", ns, "-w", "workspace-1", "-o", "json")
	if doc.Code != 3 {
		t.Errorf("doctor exit %d, want 3\n%s", doc.Code, doc)
	}
	half := parseDoctor(t, doc).check(t, "workspaces.half-upgraded", "global")
	wantStatus(t, half, "fail", "workspace-1")
	if !strings.Contains(half.Hint, "rollback -n "+ns+" -w workspace-1") || !strings.Contains(half.Hint, "upgrade -n "+ns+" -w workspace-1") {
		t.Errorf("the hint is not the two ways out: %q", half.Hint)
	}

	rb := Run(t, nil, 6*time.Minute, fleet.Skoala, "rollback", "-n", ns, "-w", "workspace-1", "--backup-dir", backups, "--timeout", "2m", "--yes", "-o", "json")
	if rb.Code != 0 {
		t.Fatalf("rollback exit %d\n%s", rb.Code, rb)
	}
	rep := parseRollback(t, rb)
	for _, r := range rep.Releases {
		want := map[string]string{"global": "rollback", "workspace-1": "none"}[r.Context]
		if r.Action != want {
			t.Errorf("%s: action %s, want %s (%s)", r.Context, r.Action, want, r.Reason)
		}
	}
	wantRelease(t, "global", ns, "skoala", "0.28.1")
	wantFleetAt(t, ns, "0.28.1", "workspace-1")
	after := parseStatus(t, Skoala(t, "status", "-n", ns, "-w", "workspace-1", "-o", "json"))
	for _, c := range after.Clusters {
		for _, rel := range c.Releases {
			if rel.Skew != "" && !strings.HasPrefix(rel.Skew, "ok") {
				t.Errorf("%s: skew %q after the rollback", c.Context, rel.Skew)
			}
		}
	}
	if r := Skoala(t, "status", "-n", ns, "-w", "workspace-1"); strings.Contains(r.Stdout, "half-upgraded") {
		t.Errorf("status still says half-upgraded:\n%s", r.Stdout)
	}
}

// killedHelm runs the real helm CLI with args and SIGKILLs it once the release has a revision in status.
func killedHelm(t *testing.T, kubeContext, ns, release, status string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(fleet.BinDir, "helm3"), append(args, "--kube-context", kubeContext, "-n", ns)...)
	cmd.Env = fleet.BaseEnv(t)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	for {
		out := Kubectl(t, "--context", kubeContext, "-n", ns, "get", "secrets", "-l", "owner=helm,name="+release+",status="+status, "-o", "name")
		if strings.TrimSpace(out.Stdout) != "" {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("helm never left %s %s", release, status)
		}
		time.Sleep(300 * time.Millisecond)
	}
	time.Sleep(time.Second) // into its --wait
	_ = cmd.Process.Signal(syscall.SIGKILL)
}

// TestRollbackRecoversPendingReleases: a release left pending-upgrade by a helm CLI killed with SIGKILL
// during --wait goes back to its deployed revision and doctor is clean; a pending-install release is
// uninstalled only after confirmation. The killed helm took no lock of ours and its revision is fresh, so
// the operator, who knows it is dead, gives --force (without it rollback refuses: TestRollbackRefusesBesideLiveHelm).
func TestRollbackRecoversPendingReleases(t *testing.T) {
	t.Run("pending-upgrade", func(t *testing.T) {
		ns := freshNamespace(t, "rbpend")
		installSkoala(t, "global", ns, "0.28.1")
		killedHelm(t, "global", ns, "skoala", "pending-upgrade", "upgrade", "skoala", "skoala-release/skoala", "--version", "0.33.2",
			"--reuse-values", "--wait", "--timeout", "5m", "--set", "resources.requests.cpu=5000")
		d := parseDoctor(t, Skoala(t, "doctor", "-n", ns, "--category", "control-plane", "-o", "json"))
		c := d.check(t, "control-plane.release", "global")
		if c.Status != "fail" || !strings.Contains(c.Hint, "kubectl skoala rollback -n "+ns) {
			t.Errorf("doctor's pending hint does not name the rollback verb: %+v", c)
		}
		rb := Run(t, nil, 4*time.Minute, fleet.Skoala, "rollback", "-n", ns, "--backup-dir", t.TempDir(), "--timeout", "2m", "--yes", "--force")
		if rb.Code != 0 {
			t.Fatalf("rollback exit %d\n%s", rb.Code, rb)
		}
		if !strings.Contains(rb.Stderr, "marked the stuck pending-upgrade revision 2 failed") {
			t.Errorf("progress:\n%s", rb.Stderr)
		}
		st := helmStatus(t, "global", ns, "skoala")
		if st.Version != 3 || st.Info.Status != "deployed" || st.Chart.Metadata.Version != "0.28.1" {
			t.Errorf("after the rollback: revision %d %s %s, want 3 deployed 0.28.1", st.Version, st.Info.Status, st.Chart.Metadata.Version)
		}
		d = parseDoctor(t, Skoala(t, "doctor", "-n", ns, "--category", "control-plane", "-o", "json"))
		if c := d.check(t, "control-plane.release", "global"); c.Status != "ok" {
			t.Errorf("doctor after the rollback: %+v", c)
		}
		for _, c := range d.bad() {
			if c.Status == "fail" {
				t.Errorf("doctor is not clean: %+v", c)
			}
		}
	})
	t.Run("pending-install", func(t *testing.T) {
		ns := freshNamespace(t, "rbpinst")
		killedHelm(t, "global", ns, "skoala", "pending-install", "install", "skoala", "skoala-release/skoala", "--version", "0.28.1",
			"--create-namespace", "--wait", "--timeout", "5m", "--set", "resources.requests.cpu=5000")
		r := Skoala(t, "rollback", "-n", ns, "--backup-dir", t.TempDir(), "--force")
		if r.Code != 1 || !strings.Contains(r.Stdout, "uninstalling removes:") || !strings.Contains(r.Stdout, "Deployment "+ns+"/hive") || !strings.Contains(r.Stderr, "no terminal to confirm on") {
			t.Errorf("without confirmation: %s", r)
		}
		if st := helmStatus(t, "global", ns, "skoala"); st.Info.Status != "pending-install" {
			t.Fatalf("the release changed without confirmation: %+v", st)
		}
		r = Run(t, nil, 4*time.Minute, fleet.Skoala, "rollback", "-n", ns, "--backup-dir", t.TempDir(), "--yes", "--force")
		if r.Code != 0 {
			t.Fatalf("rollback --yes exit %d\n%s", r.Code, r)
		}
		if h := Helm(t, "status", "skoala", "--kube-context", "global", "-n", ns); h.Code == 0 {
			t.Errorf("the release is still there:\n%s", h)
		}
		if d := Kubectl(t, "--context", "global", "-n", ns, "get", "deployment", "hive", "--ignore-not-found", "-o", "name"); strings.TrimSpace(d.Stdout) != "" {
			t.Errorf("its objects are still there: %s", d.Stdout)
		}
	})
}

// TestRollbackDryRunAndReadOnly: 'rollback --dry-run' changes nothing (revisions unchanged), and a read-only
// identity sees the journal in status but its rollback is refused before any change.
func TestRollbackDryRunAndReadOnly(t *testing.T) {
	ns := freshNamespace(t, "rbdry")
	installSkoala(t, "global", ns, "0.28.1")
	up := Run(t, nil, 4*time.Minute, fleet.Skoala, "upgrade", "-n", ns, "--version", "0.33.2", "--backup-dir", t.TempDir(), "--timeout", "2m", "--yes")
	if up.Code != 0 {
		t.Fatalf("upgrade exit %d\n%s", up.Code, up)
	}
	revs := releaseRevisions(t, "global", ns, "skoala")
	runs := journalRuns(t, ns)
	backups := filepath.Join(t.TempDir(), "b")
	dry := Skoala(t, "rollback", "-n", ns, "--dry-run", "--backup-dir", backups, "--color", "never")
	if dry.Code != 0 {
		t.Fatalf("dry run exit %d\n%s", dry.Code, dry)
	}
	for _, want := range []string{"Rollback plan (dry run: nothing will be changed)", "global/skoala: rollback", "diff of global/skoala (0.33.2 -> 0.28.1)", "-    tag: v0.33.2", "+    tag: v0.19.0", "dry-run: nothing was changed"} {
		if !strings.Contains(dry.Stdout, want) {
			t.Errorf("dry run output lacks %q\n%s", want, dry.Stdout)
		}
	}
	if got := releaseRevisions(t, "global", ns, "skoala"); !reflect.DeepEqual(got, revs) {
		t.Errorf("the dry run changed the revisions: %v -> %v", revs, got)
	}
	if got := journalRuns(t, ns); len(got) != len(runs) {
		t.Errorf("the dry run wrote the journal: %d -> %d runs", len(runs), len(got))
	}
	if _, err := os.Stat(backups); err == nil {
		t.Error("the dry run wrote a backup")
	}

	t.Run("helm skoala rollback is the same verb", func(t *testing.T) {
		ensureRepoBinary(t)
		s := newHelmSandbox(t, "helm3")
		s.mustRun(t, "plugin", "install", fleet.Root)
		h := s.run(t, nil, "skoala", "rollback", "-n", ns, "--dry-run", "--backup-dir", backups, "--color", "never")
		// Secrets in the diff are digests under a key of each run: equal but for the key.
		digest := regexp.MustCompile(`\(hmac:[0-9a-f]+\)`)
		if h.Code != 0 || digest.ReplaceAllString(h.Stdout, "(hmac)") != digest.ReplaceAllString(dry.Stdout, "(hmac)") {
			t.Errorf("helm skoala rollback --dry-run differs from kubectl skoala's:\n%s\nkubectl skoala:\n%s", h, dry.Stdout)
		}
	})

	ro := []string{"KUBECONFIG=" + fleet.ReadOnlyKubeconfig}
	st := SkoalaEnv(t, ro, "status", "-n", ns, "-o", "json")
	var sdoc struct {
		Journal *struct {
			LastRun *struct{ ID, Kind, Target string } `json:"lastRun"`
		} `json:"journal"`
	}
	if err := json.Unmarshal([]byte(st.Stdout), &sdoc); err != nil || sdoc.Journal == nil || sdoc.Journal.LastRun == nil || sdoc.Journal.LastRun.ID != runs[0].ID {
		t.Errorf("a read-only identity does not see the journal in status: %v\n%s", err, st)
	}
	if table := SkoalaEnv(t, ro, "status", "-n", ns); !strings.Contains(table.Stdout, "last run: upgrade "+runs[0].ID) {
		t.Errorf("status table lacks the last run line:\n%s", table.Stdout)
	}
	r := SkoalaEnv(t, ro, "rollback", "-n", ns, "--backup-dir", backups, "--yes")
	if r.Code == 0 || !strings.Contains(r.Stderr, "forbidden") {
		t.Errorf("a read-only rollback was not refused: %s", r)
	}
	if got := releaseRevisions(t, "global", ns, "skoala"); !reflect.DeepEqual(got, revs) {
		t.Errorf("the refused rollback changed the revisions: %v -> %v", revs, got)
	}
	if got := journalRuns(t, ns); len(got) != len(runs) {
		t.Errorf("the refused rollback wrote the journal")
	}
	if l := leaseHolder(t, ns); l != "" {
		t.Errorf("the refused rollback left a lock held by %q", l)
	}
}

// TestRollbackFromBackupAfterPrunedHistory: with HELM_MAX_HISTORY=2 during the upgrades, Helm's history no
// longer holds revision 1; rollback of the first run says so and names its backup; --from-backup restores it.
func TestRollbackFromBackupAfterPrunedHistory(t *testing.T) {
	ns := freshNamespace(t, "rbprune")
	installSkoala(t, "global", ns, "0.28.1")
	before := helmValues(t, "global", ns, "skoala", false)
	backups := t.TempDir()
	pruned := []string{"HELM_MAX_HISTORY=2"}
	for _, v := range []string{"0.33.2", "0.57.2"} {
		up := Run(t, append(fleet.BaseEnv(t), pruned...), 4*time.Minute, fleet.Skoala, "upgrade", "-n", ns, "--version", v, "--backup-dir", backups, "--timeout", "2m", "--yes")
		if up.Code != 0 {
			t.Fatalf("upgrade to %s exit %d\n%s", v, up.Code, up)
		}
	}
	if revs := releaseRevisions(t, "global", ns, "skoala"); revs["1"] != "" || len(revs) != 2 {
		t.Fatalf("revision 1 was not pruned: %v", revs)
	}
	runs := journalRuns(t, ns)
	if len(runs) != 2 || runs[1].Target != "0.33.2" || runs[1].Releases[0].Backup == "" {
		t.Fatalf("journal: %+v", runs)
	}
	first, backupFile := runs[1].ID, runs[1].Releases[0].Backup
	r := Skoala(t, "rollback", "-n", ns, "--run", first, "--backup-dir", backups, "--yes")
	if r.Code != 3 || !strings.Contains(r.Stdout, "no longer holds revision 1") || !strings.Contains(r.Stderr, "--from-backup "+backupFile) {
		t.Errorf("rollback of the pruned run: %s", r)
	}
	r = Run(t, nil, 4*time.Minute, fleet.Skoala, "rollback", "--from-backup", backupFile, "--backup-dir", backups, "--timeout", "2m", "--yes", "-o", "json")
	if r.Code != 0 {
		t.Fatalf("--from-backup exit %d\n%s", r.Code, r)
	}
	noPassword(t, r)
	if rep := parseRollback(t, r); rep.Outcome != "rolled-back" || rep.Releases[0].Result == nil || rep.Releases[0].Result.Outcome != "restored" {
		t.Errorf("report: %s", r.Stdout)
	}
	wantRelease(t, "global", ns, "skoala", "0.28.1")
	if after := helmValues(t, "global", ns, "skoala", false); !reflect.DeepEqual(after, before) {
		t.Errorf("values after --from-backup differ: %v", valuesDiff(before, after))
	}
	wantFleetAt(t, ns, "0.28.1")
}

// TestRollbackToRevision: skoala installed at 0.28.1 (revision 1), upgraded with helm to 0.33.2 with other
// user values and an object revision 1 does not have (revision 2), then with 'kubectl skoala upgrade' to
// 0.57.2 (revision 3). 'rollback --release skoala --context global --to-revision 1': its dry run and a
// revision Helm's history does not hold change nothing (the latter exit 3); the rollback makes revision 4,
// Helm's "Rollback to 1", at revision 1's chart version with revision 1's user-supplied values key for key,
// the components ready on the old image tags, and the journal (as status shows it) holds the run.
func TestRollbackToRevision(t *testing.T) {
	ns := freshNamespace(t, "rbrev")
	installSkoala(t, "global", ns, "0.28.1", "--set", "hive.extraConfigMap.rev=r1")
	rev1 := helmValues(t, "global", ns, "skoala", false)
	MustHelm(t, "upgrade", "skoala", "skoala-release/skoala", "--version", "0.33.2", "--kube-context", "global", "-n", ns,
		"--reuse-values", "--wait", "--timeout", "3m", "--set", "hive.extraConfigMap.rev=r2", "--set", "hive.extraConfigMap.only2=x")
	up := Run(t, nil, 4*time.Minute, fleet.Skoala, "upgrade", "-n", ns, "--version", "0.57.2", "--backup-dir", t.TempDir(), "--timeout", "2m", "--yes")
	if up.Code != 0 {
		t.Fatalf("upgrade exit %d\n%s", up.Code, up)
	}
	wantRelease(t, "global", ns, "skoala", "0.57.2")
	if rev3 := helmValues(t, "global", ns, "skoala", false); reflect.DeepEqual(rev3, rev1) {
		t.Fatalf("revision 3's user values equal revision 1's: the test would not see a rollback of the values")
	}
	revs := releaseRevisions(t, "global", ns, "skoala")
	if len(revs) != 3 || revs["3"] != "deployed" {
		t.Fatalf("before the rollback: revisions %v, want 1..3 with 3 deployed", revs)
	}
	runs := journalRuns(t, ns)
	if len(runs) != 1 || runs[0].Kind != "upgrade" {
		t.Fatalf("journal before the rollback: %+v", runs)
	}
	backups := filepath.Join(t.TempDir(), "b")
	toRev := func(n string, extra ...string) Result {
		t.Helper()
		args := append([]string{"rollback", "-n", ns, "--release", "skoala", "--context", "global", "--to-revision", n, "--backup-dir", backups, "--timeout", "2m", "--color", "never"}, extra...)
		return Run(t, nil, 4*time.Minute, fleet.Skoala, args...)
	}
	unchanged := func(t *testing.T, what string) {
		t.Helper()
		if got := releaseRevisions(t, "global", ns, "skoala"); !reflect.DeepEqual(got, revs) {
			t.Errorf("%s changed the revisions: %v -> %v", what, revs, got)
		}
		if got := journalRuns(t, ns); len(got) != len(runs) {
			t.Errorf("%s wrote the journal: %d -> %d runs", what, len(runs), len(got))
		}
		if _, err := os.Stat(backups); err == nil {
			t.Errorf("%s wrote a backup", what)
		}
		if l := leaseHolder(t, ns); l != "" {
			t.Errorf("%s left the lock held by %q", what, l)
		}
	}

	t.Run("--dry-run changes nothing", func(t *testing.T) {
		dry := toRev("1", "--dry-run")
		if dry.Code != 0 {
			t.Fatalf("dry run exit %d\n%s", dry.Code, dry)
		}
		for _, want := range []string{"Rollback plan (dry run: nothing will be changed)", "3 -> 4 (as 1)", "global/skoala: rollback", "--to-revision 1",
			"helm rollback skoala 1", "diff of global/skoala (0.57.2 -> 0.28.1)", "-    rev: r2", "+    rev: r1", "dry-run: nothing was changed"} {
			if !strings.Contains(dry.Stdout, want) {
				t.Errorf("dry run output lacks %q\n%s", want, dry.Stdout)
			}
		}
		unchanged(t, "the dry run")
	})
	t.Run("a revision Helm's history does not hold is refused, exit 3", func(t *testing.T) {
		r := toRev("7", "--yes")
		if r.Code != 3 || !strings.Contains(r.Stdout, "holds no revision 7 (it holds 3, 2, 1)") || !strings.Contains(r.Stdout, "refused") || !strings.Contains(r.Stderr, "--from-backup") {
			t.Errorf("--to-revision 7: %s", r)
		}
		unchanged(t, "the refused rollback")
	})
	if t.Failed() {
		t.FailNow()
	}

	rb := toRev("1", "--yes", "-o", "json")
	if rb.Code != 0 {
		t.Fatalf("rollback --to-revision 1 exit %d, want 0\n%s", rb.Code, rb)
	}
	noPassword(t, rb)
	rep := parseRollback(t, rb)
	if rep.Mode != "revision" || rep.Outcome != "rolled-back" || rep.Run != "" || rep.JournalRun == "" || len(rep.Releases) != 1 {
		t.Fatalf("report: %s", rb.Stdout)
	}
	if r := rep.Releases[0]; r.Context != "global" || r.Release != "skoala" || r.Action != "rollback" || r.FromRevision != 3 || r.ToRevision != 1 ||
		r.Result == nil || r.Result.Outcome != "rolled-back" || r.Result.Revision != 4 || r.Result.Backup == "" {
		t.Errorf("release: %+v %+v", r, r.Result)
	}
	if !strings.Contains(rb.Stderr, "global/skoala: rollback 0.57.2 -> 0.28.1") || !strings.Contains(rb.Stderr, "global/skoala: verified") {
		t.Errorf("progress:\n%s", rb.Stderr)
	}

	t.Run("helm: revision 4 is revision 1 again, its user values key for key", func(t *testing.T) {
		h := helmHistory(t, "global", ns, "skoala")
		if len(h) != 4 {
			t.Fatalf("helm history holds %d revisions, want 4: %+v", len(h), h)
		}
		if n := h[3]; n.Version != 4 || n.Status != "deployed" || n.Chart.Metadata.Version != "0.28.1" || n.Description != "Rollback to 1" {
			t.Errorf("revision 4: %d %s %s %q, want deployed 0.28.1 \"Rollback to 1\"", n.Version, n.Status, n.Chart.Metadata.Version, n.Description)
		}
		if o := h[2]; o.Version != 3 || o.Status != "superseded" || o.Chart.Metadata.Version != "0.57.2" {
			t.Errorf("revision 3: %d %s %s, want superseded 0.57.2", o.Version, o.Status, o.Chart.Metadata.Version)
		}
		if after := helmValues(t, "global", ns, "skoala", false); !reflect.DeepEqual(after, rev1) {
			t.Errorf("values after the rollback differ from revision 1's: %v", valuesDiff(rev1, after))
		}
		cm := MustKubectl(t, "--context", "global", "-n", ns, "get", "configmap", "hive-extra", "-o", "jsonpath={.data}")
		if !strings.Contains(cm.Stdout, `"rev":"r1"`) || strings.Contains(cm.Stdout, "only2") {
			t.Errorf("hive-extra holds %s, want revision 1's data", cm.Stdout)
		}
	})
	t.Run("components ready, running revision 1's image tags", func(t *testing.T) {
		wantFleetAt(t, ns, "0.28.1")
	})
	t.Run("the journal holds the rollback run, status shows it", func(t *testing.T) {
		s := parseStatus(t, Skoala(t, "status", "-n", ns, "-o", "json"))
		if s.Journal == nil || s.Journal.LastRun == nil || len(s.Journal.Runs) != 2 {
			t.Fatalf("status -o json: journal %+v", s.Journal)
		}
		r := s.Journal.LastRun
		if r.ID != rep.JournalRun || r.Kind != "rollback" || r.Outcome != "rolled-back" || r.Undoes != "" || r.Who != "admin" || r.Finished == "" || len(r.Releases) != 1 {
			t.Fatalf("last run: %+v", r)
		}
		if jr := r.Releases[0]; jr.Context != "global" || jr.Release != "skoala" || jr.FromRevision != 3 || jr.FromVersion != "0.57.2" ||
			jr.ToRevision != 4 || jr.ToVersion != "0.28.1" || jr.Outcome != "rolled-back" || jr.Backup != rep.Releases[0].Result.Backup {
			t.Errorf("the run's release: %+v", jr)
		}
		if u := s.Journal.Runs[1]; u.ID != runs[0].ID || u.Kind != "upgrade" {
			t.Errorf("the upgrade run is not the older one: %+v", s.Journal.Runs)
		}
	})
}
