package rollback

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/backup"
	"github.com/skoala-dev/kubectl-skoala/pkg/change"
	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmops"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/journal"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
	"github.com/skoala-dev/kubectl-skoala/pkg/redact"
)

// Modes of a rollback.
const (
	ModeRun      = "run"
	ModeRevision = "revision"
	ModeBackup   = "backup"
)

// Config is what a rollback needs, with no flags in sight.
type Config struct {
	Namespace string
	Targets   []fleet.Target
	Env       helmsdk.Env
	// Run is --run (""; the newest upgrade run not undone yet).
	Run string
	// ToRevision is --to-revision: roll the one target back to this revision.
	ToRevision int
	// FromBackup is --from-backup: restore this backup-values file at the chart version it names.
	FromBackup string
	Repo       string
	Timeout    time.Duration
	// RequestTimeout bounds the single API calls and downloads.
	RequestTimeout time.Duration
	DryRun         bool
	Yes            bool
	BackupDir      string
	MaxHistory     int
	Name           string
	Tool           string
	// Waves are --max-parallel and --max-failures (the workspaces change first, then the control plane).
	Waves change.Waves
	// Force is --force: a release pending by an operation no kubectl-skoala lock recorded is recovered even
	// though that operation may still be running (helmops.DecidePending).
	Force bool
	// Identities are the clusters' identities a caller proved (by context); Gather reads the others'.
	Identities journal.Identities

	// hasher keys the digests of secrets in the diffs (one per Plan).
	hasher *redact.Hasher
	// runs are the journal's runs (for the rollbacks that already undid part of a run).
	runs []journal.Run
}

// Mode is the mode cfg asks for.
func (c Config) Mode() string {
	switch {
	case c.FromBackup != "":
		return ModeBackup
	case c.ToRevision > 0:
		return ModeRevision
	}
	return ModeRun
}

// Deps are what a rollback talks to.
type Deps struct {
	Clusters fleet.ClusterSource
	// Observe receives the events of Execute (pkg/change; nil discards them).
	Observe change.Observer
	Now     func() time.Time
}

// State is what Gather read: the journal, each target's release history and lock, the backup.
type State struct {
	Runs []journal.Run
	// JournalError says why the journal could not be read ("" when it could, or there is none).
	JournalError string
	// JournalCorrupt is a journal that does not decode (nil when it decodes); MovedAside the ConfigMaps
	// that keep earlier journals that did not (the runs they hold are not in Runs).
	JournalCorrupt *journal.CorruptError
	MovedAside     []string
	Releases       []ReleaseState
	Backup         *BackupFile
	// Read is when Gather read the clusters (this process's clock): a pending revision's age is judged
	// against it.
	Read time.Time
}

// ReleaseState is one target's release as Gather read it.
type ReleaseState struct {
	Target  fleet.Target
	Cluster *kube.Cluster
	// History is every stored revision, newest first (nil: not installed).
	History []*helmsdk.Release
	Lock    *change.LockInfo
	// Kpanda are kpanda's Helm operations running on the release (helmops.ActiveOperations).
	Kpanda []helmops.Operation
	// Identity is the cluster's (journal.ClusterIdentity): the journal's releases match on it.
	Identity journal.ClusterIdentity
}

// Last is the newest revision (nil when not installed).
func (r ReleaseState) Last() *helmsdk.Release {
	if len(r.History) == 0 {
		return nil
	}
	return r.History[0]
}

// Revision returns revision n (nil when Helm's history no longer holds it).
func (r ReleaseState) Revision(n int) *helmsdk.Release {
	for _, h := range r.History {
		if h.Revision == n {
			return h
		}
	}
	return nil
}

// Deployed is the newest deployed revision (nil when none).
func (r ReleaseState) Deployed() *helmsdk.Release {
	for _, h := range r.History {
		if h.Status == "deployed" {
			return h
		}
	}
	return nil
}

// BackupFile is a --from-backup file and the chart it names.
type BackupFile struct {
	Path   string
	Meta   backup.Meta
	Values map[string]any
	Chart  *helmsdk.Chart
}

// Gather reads the backup file (--from-backup) and its chart, every target's release history and lock,
// and the journal of the control plane.
func Gather(ctx context.Context, d Deps, cfg Config) (*State, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	st := &State{Read: d.Now()}
	if cfg.FromBackup != "" {
		m, vals, err := backup.Load(cfg.FromBackup)
		if err != nil {
			return nil, fmt.Errorf("--from-backup %s: %w", cfg.FromBackup, err)
		}
		if m.Redacted {
			return nil, fmt.Errorf("--from-backup %s is a redacted copy (its secrets are masked): give the backup it was made from", cfg.FromBackup)
		}
		if m.Kind == backup.KindComputed {
			return nil, fmt.Errorf("--from-backup %s holds computed values (--all): give the user-supplied values backup of the same revision", cfg.FromBackup)
		}
		bf := &BackupFile{Path: cfg.FromBackup, Meta: m, Values: vals}
		ch, err := loadChart(ctx, cfg, m.Chart, m.Version)
		if err != nil {
			return nil, err
		}
		bf.Chart = ch
		st.Backup = bf
	}
	st.Releases = make([]ReleaseState, len(cfg.Targets))
	errs := make([]error, len(cfg.Targets))
	kube.ForEach(ctx, cfg.Targets, 8, cfg.RequestTimeout, func(ctx context.Context, i int, t fleet.Target) {
		st.Releases[i], errs[i] = readRelease(ctx, d, cfg, t)
	})
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("cluster %s: %w", cfg.Targets[i].Context, err)
		}
	}
	identify(ctx, cfg, st)
	for _, rs := range st.Releases {
		if rs.Target.Role != fleet.RoleControlPlane {
			continue
		}
		jctx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
		j, err := (&journal.Store{Client: rs.Cluster.Client, Namespace: cfg.Namespace}).Read(jctx)
		cancel()
		var ce *journal.CorruptError
		switch {
		case errors.As(err, &ce):
			st.JournalCorrupt = ce
		case err != nil:
			msg, _ := kube.Explain(err, "get", "configmaps in namespace "+cfg.Namespace)
			st.JournalError = msg
		default:
			st.Runs, st.MovedAside = j.Runs, j.MovedAside
		}
	}
	return st, nil
}

// identify gives every release state its cluster's identity: the one cfg supplies, else the one read
// (concurrently; an identity that may not read kube-system matches by context name).
func identify(ctx context.Context, cfg Config, st *State) {
	kube.ForEach(ctx, st.Releases, 8, cfg.RequestTimeout, func(ctx context.Context, i int, rs ReleaseState) {
		if id, ok := cfg.Identities[rs.Target.Context]; ok {
			st.Releases[i].Identity = id
			return
		}
		if rs.Cluster == nil || rs.Cluster.Client == nil {
			return
		}
		server := ""
		if rs.Cluster.Config != nil {
			server = rs.Cluster.Config.Host
		}
		st.Releases[i].Identity = journal.Identify(ctx, rs.Cluster.Client, server)
	})
}

func readRelease(ctx context.Context, d Deps, cfg Config, t fleet.Target) (ReleaseState, error) {
	rs := ReleaseState{Target: t}
	kc, err := d.Clusters.Cluster(t.Context)
	if err != nil {
		msg, hint := kube.Explain(err, "", "")
		return rs, withHint(errors.New(msg), hint)
	}
	rs.Cluster = kc
	hist, err := helmsdk.History(ctx, kc.Client, cfg.Namespace, t.Release, cfg.Env.Driver)
	var nf *helmsdk.NotFoundError
	if err != nil && !errors.As(err, &nf) {
		msg, hint := kube.Explain(err, "list", "secrets in namespace "+cfg.Namespace)
		return rs, withHint(errors.New(msg), hint)
	}
	// After the release records, as upgrade reads them: no rights at all are reported on the records first.
	var kerr error
	if rs.Kpanda, kerr = helmops.ActiveOperations(ctx, kc.Client, cfg.Namespace, t.Release); kerr != nil {
		msg, hint := kube.Explain(kerr, "list", "jobs in namespace "+cfg.Namespace)
		return rs, withHint(errors.New(msg), hint)
	}
	if err != nil {
		return rs, nil
	}
	rs.History = hist
	if last := rs.Last(); last != nil && last.Pending() {
		li, err := change.PeekLock(ctx, kc.Client, cfg.Namespace, t.Release)
		if err != nil {
			msg, hint := kube.Explain(err, "get", "leases in namespace "+cfg.Namespace)
			return rs, withHint(errors.New(msg), hint)
		}
		rs.Lock = li
	}
	return rs, nil
}

// loadChart downloads chart@version from the repository.
func loadChart(ctx context.Context, cfg Config, chart, version string) (*helmsdk.Chart, error) {
	repos, err := helmsdk.LoadRepositories(cfg.Env.RepositoryConfig, cfg.Env.RepositoryCache)
	if err != nil {
		return nil, err
	}
	repo, err := helmsdk.FindRepository(repos, cfg.Repo)
	if err != nil {
		return nil, fmt.Errorf("%w in %s (add it: %s)", err, cfg.Env.RepositoryConfig, helmsdk.AddRepoCommand(cfg.Repo))
	}
	idx, err := helmsdk.LoadIndex(repo.IndexPath)
	if err != nil {
		return nil, fmt.Errorf("%w (download it with 'helm repo update %s')", err, repo.Name)
	}
	for _, v := range idx.Versions(chart) {
		if v.Version == version {
			return helmsdk.DownloadChart(ctx, repo, v, cfg.RequestTimeout)
		}
	}
	return nil, fmt.Errorf("repository %s has no %s %s, which the backup names", repo.Name, chart, version)
}

// Plan decides what to do with each release; it reads nothing and changes nothing. Releases come in the
// order they are rolled back: workspaces first (in reverse order of the fleet), then the control plane.
func Plan(cfg Config, st *State) (*Report, error) {
	cfg.hasher = redact.NewHasher() // secrets in the diff show as digests under a key of this run
	cfg.runs = st.Runs
	rep := &Report{Schema: SchemaVersion, Namespace: cfg.Namespace, Mode: cfg.Mode(), DryRun: cfg.DryRun,
		Timeout: cfg.Timeout.String(), BackupDir: cfg.BackupDir, Outcome: OutcomePlanned, Releases: []ReleasePlan{}}
	if st.JournalError != "" {
		rep.Warnings = append(rep.Warnings, "the journal could not be read: "+st.JournalError)
	}
	var run *journal.Run
	if rep.Mode == ModeRun {
		var err error
		if run, err = runToUndo(cfg, st); err != nil {
			return rep, err
		}
		if run != nil {
			rep.Run, rep.RunSummary = run.ID, run.Summary()
		}
	}
	for _, rs := range orderTargets(st.Releases) {
		rep.Releases = append(rep.Releases, planRelease(cfg, st, run, rep.Mode, rs))
	}
	rep.NotUndone = notUndone(run, rep)
	decideOutcome(cfg, run, notAmongTargets(run, st), rep)
	return rep, nil
}

// runToUndo is the upgrade run --run names, or the newest one not undone yet (nil when none).
func runToUndo(cfg Config, st *State) (*journal.Run, error) {
	if err := journalUnreadable(cfg, st); err != nil {
		return nil, err
	}
	if cfg.Run == "" {
		run := journal.LastUndoable(st.Runs)
		return run, historyLost(cfg, st, run)
	}
	run := journal.ByID(st.Runs, cfg.Run)
	if run == nil {
		return nil, withHint(fmt.Errorf("the journal has no run %s (it keeps the last %d runs)", cfg.Run, journal.MaxRuns),
			fmt.Sprintf("see the runs with '%s status -o json' (journal.runs), or roll one release back with --to-revision or --from-backup", cfg.Name))
	}
	if run.Kind != journal.KindUpgrade {
		return nil, fmt.Errorf("run %s is a %s: only an upgrade run is undone (roll a release back with --to-revision)", run.ID, run.Kind)
	}
	return run, nil
}

// planRelease decides what to do with one release.
func planRelease(cfg Config, st *State, run *journal.Run, mode string, rs ReleaseState) ReleasePlan {
	rp := ReleasePlan{Context: rs.Target.Context, Role: rs.Target.Role, Release: rs.Target.Release, Chart: rs.Target.Chart(), Status: "not-installed"}
	last := rs.Last()
	if last != nil {
		rp.From, rp.FromRevision, rp.Status = last.ChartVersion, last.Revision, last.Status
		rp.Chart = last.Chart
	}
	switch {
	case mode == ModeBackup:
		planBackup(cfg, st.Backup, rs, &rp)
	case last != nil && last.Pending() && mode == ModeRun:
		// A release stuck pending is recovered first, whatever the journal says.
		planPending(cfg, rs, st.Read, &rp)
	case mode == ModeRevision:
		planRevision(cfg, rs, &rp)
	default:
		planRun(cfg, run, rs, &rp)
	}
	if Active(rp.Action) && last != nil && last.Pending() && mode != ModeRun {
		// --to-revision and --from-backup mark a pending revision failed too: the same decision.
		refusePending(cfg, pendingDecision(cfg, rs, st.Read), &rp)
	}
	if Active(rp.Action) && len(rs.Kpanda) > 0 {
		refuseKpanda(cfg, rs.Kpanda, &rp)
	}
	if rp.Action == ActionRollback || rp.Action == ActionRecover {
		if to := rs.Revision(rp.ToRevision); to != nil && last != nil {
			secrets := append(redact.Secrets(last.Values), redact.Secrets(to.Values)...)
			rp.Diff = append([]change.FileDiff{change.ValuesDiff(cfg.hasher, last.Values, to.Values, secrets)}, change.ManifestDiff(cfg.hasher, last.Manifest, to.Manifest, secrets)...)
		}
	}
	return rp
}

// decideOutcome sets the outcome of the plan before anything runs.
func decideOutcome(cfg Config, run *journal.Run, missing []journal.Release, rep *Report) {
	todo, refused := 0, false
	for _, rp := range rep.Releases {
		if Active(rp.Action) {
			todo++
		}
		refused = refused || rp.Action == ActionRefused
	}
	switch {
	case len(missing) > 0:
		refuseRunPart(cfg, run, missing, rep)
	case refused:
		rep.Outcome = OutcomeRefused
		rep.Message = "nothing was changed: a release cannot be rolled back now"
		for _, rp := range rep.Releases {
			if rp.Action == ActionRefused && rep.Hint == "" {
				rep.Hint = rp.Hint
			}
		}
	case todo == 0:
		rep.Outcome = OutcomeNothing
		rep.Message = "nothing to roll back"
		if rep.Mode == ModeRun && run == nil {
			rep.Message = "nothing to roll back: the journal holds no upgrade run that is not undone yet, and no release is stuck pending"
			rep.Hint = fmt.Sprintf("roll one release back with '%s rollback --context C --release R --to-revision N', or restore a backup with --from-backup FILE", cfg.Name)
		}
	case cfg.DryRun:
		rep.Outcome = OutcomeDryRun
		rep.Message = "nothing was changed"
	}
}

// orderTargets puts the workspaces first (the last given first), then the control plane.
func orderTargets(rs []ReleaseState) []ReleaseState {
	var ws, cp []ReleaseState
	for _, r := range rs {
		if r.Target.Role == fleet.RoleWorkspace {
			ws = append([]ReleaseState{r}, ws...)
		} else {
			cp = append(cp, r)
		}
	}
	return append(ws, cp...)
}

// pendingDecision is issue 24 §1: the decision upgrade applies to the release's pending revision (one no
// kubectl-skoala lock recorded is another operation's, maybe still running: refused unless older than
// any helm wait, or --force).
func pendingDecision(cfg Config, rs ReleaseState, now time.Time) helmops.PendingDecision {
	last := rs.Last()
	return helmops.DecidePending(helmops.PendingInput{Revision: last.Revision, Status: last.Status, Started: last.LastDeployed, Now: now,
		Lock: rs.Lock.Recorded(), Timeout: cfg.Timeout, Force: cfg.Force})
}

// refusePending refuses rp when dec does; it reports whether it did.
func refusePending(cfg Config, dec helmops.PendingDecision, rp *ReleasePlan) bool {
	if dec.Refused == "" {
		return false
	}
	rp.Action, rp.Reason, rp.Steps, rp.Removes = ActionRefused, dec.Refused, nil, nil
	rp.Hint = fmt.Sprintf("wait for that operation to end ('helm --kube-context %s -n %s status %s'), then run the rollback again; give --force if no helm operation is running on it",
		rp.Context, cfg.Namespace, rp.Release)
	return true
}

func planPending(cfg Config, rs ReleaseState, now time.Time, rp *ReleasePlan) {
	last := rs.Last()
	dec := pendingDecision(cfg, rs, now)
	if refusePending(cfg, dec, rp) {
		return
	}
	holder := "no lock is held"
	switch {
	case dec.Why != "" && rs.Lock == nil:
		holder = "no lock is held; " + dec.Why
	case dec.Why != "":
		holder = dec.Why
	case rs.Lock != nil:
		holder = fmt.Sprintf("the lock lease is held by %s: it is watched up to %s and taken over only when stale", rs.Lock.Holder, rs.Lock.Duration)
	}
	if dep := rs.Deployed(); dep != nil {
		rp.Action, rp.To, rp.ToRevision = ActionRecover, dep.ChartVersion, dep.Revision
		rp.Reason = fmt.Sprintf("revision %d is stuck %s (%s): it is marked failed and the release goes back to its deployed revision %d", last.Revision, last.Status, holder, dep.Revision)
		rp.Steps = []string{
			fmt.Sprintf("back up the values of revision %d to %s", last.Revision, cfg.BackupDir),
			fmt.Sprintf("mark the stuck %s revision %d failed", last.Status, last.Revision),
			fmt.Sprintf("helm rollback %s %d (wait %s)", rp.Release, dep.Revision, cfg.Timeout),
			"verify that every component is ready and runs the images of revision " + fmt.Sprint(dep.Revision),
		}
		return
	}
	if last.Status == "pending-install" {
		rp.Action = ActionUninstall
		rp.Reason = fmt.Sprintf("revision %d is stuck pending-install and no revision was ever deployed (%s): the release is uninstalled so that it can be installed again", last.Revision, holder)
		for _, o := range last.Objects() {
			ns := o.Namespace
			if ns == "" {
				ns = cfg.Namespace
			}
			rp.Removes = append(rp.Removes, fmt.Sprintf("%s %s/%s", o.Kind, ns, o.Name))
		}
		rp.Steps = []string{
			fmt.Sprintf("back up the values of revision %d to %s", last.Revision, cfg.BackupDir),
			fmt.Sprintf("helm uninstall %s (removes %d object(s) and the release's history; no PersistentVolumeClaim the chart did not create)", rp.Release, len(rp.Removes)),
		}
		return
	}
	rp.Action = ActionRefused
	rp.Reason = fmt.Sprintf("revision %d is stuck %s and no revision was ever deployed to go back to", last.Revision, last.Status)
	rp.Hint = fmt.Sprintf("'helm --kube-context %s -n %s history %s' shows what is left; uninstall it by hand if it must go", rp.Context, cfg.Namespace, rp.Release)
}

// refuseKpanda refuses a release kpanda runs a Helm operation on (issue 24 §1): it takes no lock of ours.
func refuseKpanda(cfg Config, ops []helmops.Operation, rp *ReleasePlan) {
	var names []string
	for _, op := range ops {
		names = append(names, op.String())
	}
	rp.Action, rp.Steps, rp.Removes = ActionRefused, nil, nil
	rp.Reason = strings.Join(names, "; ") + ": it takes no kubectl-skoala lock, and two helm operations must not run on one release"
	rp.Hint = fmt.Sprintf("wait for it to finish ('kubectl --context %s -n %s get job %s'), then run the rollback again", rp.Context, cfg.Namespace, ops[0].Job)
}

func planRun(cfg Config, run *journal.Run, rs ReleaseState, rp *ReleasePlan) {
	last := rs.Last()
	if run == nil {
		rp.Action, rp.Reason = ActionNone, "no upgrade run to undo"
		return
	}
	jr := run.FindOn(rs.Identity, rp.Context, rp.Release)
	switch {
	case jr == nil:
		rp.Action, rp.Reason = ActionNone, fmt.Sprintf("run %s did not include it", run.ID)
		return
	case jr.Outcome == change.OutcomeRolledBack:
		rp.Action, rp.Reason = ActionNone, fmt.Sprintf("run %s's upgrade of it failed and Helm's --atomic already rolled it back (revision %d, %s)", run.ID, jr.ToRevision, jr.ToVersion)
		return
	case last == nil:
		rp.Action, rp.Reason = ActionNone, "not installed"
		return
	}
	if back := alreadyBack(cfg.runs, run, jr, rs); back != "" {
		rp.Action, rp.Reason = ActionNone, back
		return
	}
	to := jr.ToRevision
	if to == 0 && jr.Outcome == journal.OutcomeRunning && last.Revision > jr.FromRevision {
		// Killed during its helm call: the run's revision is the first after its base; one made later
		// (by someone else: a hotfix) is never undone silently.
		mine, later := killedRunRevisions(run, jr, rs)
		if len(later) > 0 {
			rp.Action = ActionRefused
			rp.Reason = fmt.Sprintf("run %s was killed during its helm call (its revision is %d), and %s came after it", run.ID, mine, describe(later))
			rp.Hint = fmt.Sprintf("roll it back to a revision of your choice with '%s rollback --context %s --release %s --to-revision N' ('helm --kube-context %s -n %s history %s' shows them)",
				cfg.Name, rp.Context, rp.Release, rp.Context, cfg.Namespace, rp.Release)
			return
		}
		to = mine
	}
	if to == 0 || to == jr.FromRevision {
		rp.Action, rp.Reason = ActionNone, fmt.Sprintf("run %s did not change it (%s)", run.ID, jr.Outcome)
		return
	}
	if jr.FromRevision == 0 {
		rp.Action = ActionRefused
		rp.Reason = fmt.Sprintf("run %s installed it (revision %d): there is no revision to go back to", run.ID, to)
		rp.Hint = fmt.Sprintf("uninstall it by hand if it must go: 'helm --kube-context %s -n %s uninstall %s'", rp.Context, cfg.Namespace, rp.Release)
		return
	}
	from := rs.Revision(jr.FromRevision)
	if from == nil { // pruned: only the backup leads back, whatever came after the run
		rp.Action = ActionRefused
		rp.Reason = fmt.Sprintf("Helm's history of it no longer holds revision %d (the one before run %s): it was pruned (--history-max)", jr.FromRevision, run.ID)
		if last.Revision != to {
			rp.Reason += fmt.Sprintf("; it also changed since the run (now revision %d, %s %s)", last.Revision, last.Status, last.ChartVersion)
		}
		b := "the backup-values file of that revision"
		if jr.Backup != "" {
			b = jr.Backup
		}
		rp.Hint = fmt.Sprintf("restore the values backed up before the run: '%s rollback --from-backup %s'", cfg.Name, b)
		return
	}
	if last.Revision != to {
		rp.Action = ActionRefused
		rp.Reason = fmt.Sprintf("it changed since run %s (which left revision %d): now revision %d, %s %s", run.ID, to, last.Revision, last.Status, last.ChartVersion)
		rp.Hint = fmt.Sprintf("roll it back to a revision of your choice with '%s rollback --context %s --release %s --to-revision N'", cfg.Name, rp.Context, rp.Release)
		return
	}
	rollbackTo(cfg, from, rp, fmt.Sprintf("run %s changed it from revision %d (%s) to %d (%s)", run.ID, jr.FromRevision, jr.FromVersion, to, jr.ToVersion))
}

func planRevision(cfg Config, rs ReleaseState, rp *ReleasePlan) {
	last := rs.Last()
	if last == nil {
		rp.Action, rp.Reason = ActionRefused, fmt.Sprintf("%s is not installed on %s", rp.Release, rp.Context)
		rp.Hint = fmt.Sprintf("name the release with --release and its cluster with --context (see '%s status')", cfg.Name)
		return
	}
	to := rs.Revision(cfg.ToRevision)
	if to == nil || to.Status == "corrupt" {
		var have []string
		for _, h := range rs.History {
			have = append(have, fmt.Sprint(h.Revision))
		}
		rp.Action = ActionRefused
		rp.Reason = fmt.Sprintf("Helm's history of %s holds no revision %d (it holds %s)", rp.Release, cfg.ToRevision, strings.Join(have, ", "))
		rp.Hint = fmt.Sprintf("restore a backup-values file of that revision with '%s rollback --from-backup FILE'", cfg.Name)
		return
	}
	if to.Revision == last.Revision {
		rp.Action, rp.Reason = ActionNone, fmt.Sprintf("revision %d is the newest revision already", to.Revision)
		return
	}
	rollbackTo(cfg, to, rp, fmt.Sprintf("--to-revision %d", to.Revision))
}

func rollbackTo(cfg Config, to *helmsdk.Release, rp *ReleasePlan, why string) {
	rp.Action, rp.To, rp.ToRevision, rp.Reason = ActionRollback, to.ChartVersion, to.Revision, why
	rp.Steps = []string{fmt.Sprintf("back up the values of revision %d to %s", rp.FromRevision, cfg.BackupDir)}
	if strings.HasPrefix(rp.Status, "pending-") {
		rp.Steps = append(rp.Steps, fmt.Sprintf("mark the stuck %s revision %d failed", rp.Status, rp.FromRevision))
	}
	if jobs := jobsOf(to.Objects()); len(jobs) > 0 {
		rp.Steps = append(rp.Steps, fmt.Sprintf("delete Jobs %s (their pod template is immutable: the rollback creates them again)", strings.Join(jobs, ", ")))
	}
	rp.Steps = append(rp.Steps,
		fmt.Sprintf("helm rollback %s %d (wait %s, cleanup-on-fail)", rp.Release, to.Revision, cfg.Timeout),
		fmt.Sprintf("verify that every component is ready and runs the images of revision %d (%s)", to.Revision, to.ChartVersion))
}

func planBackup(cfg Config, bf *BackupFile, rs ReleaseState, rp *ReleasePlan) {
	m := bf.Meta
	rp.Action, rp.To, rp.Chart = ActionRestore, m.Version, m.Chart
	rp.Reason = fmt.Sprintf("--from-backup: the values of revision %d (%s %s) backed up %s", m.Revision, m.Chart, m.Version, m.Time.UTC().Format("2006-01-02 15:04 UTC"))
	last := rs.Last()
	if last == nil {
		rp.Action = ActionRefused
		rp.Reason = fmt.Sprintf("%s is not installed on %s: a backup is restored onto an installed release", rp.Release, rp.Context)
		rp.Hint = fmt.Sprintf("install it with '%s upgrade --install -f %s'", cfg.Name, bf.Path)
		return
	}
	if last.Pending() {
		rp.Steps = append(rp.Steps, fmt.Sprintf("mark the stuck %s revision %d failed", last.Status, last.Revision))
	}
	rp.Steps = append([]string{fmt.Sprintf("back up the values of revision %d to %s", last.Revision, cfg.BackupDir)}, rp.Steps...)
	rp.Steps = append(rp.Steps,
		fmt.Sprintf("helm upgrade %s to %s %s with exactly the backed-up values (atomic, wait %s, cleanup-on-fail)", rp.Release, m.Chart, m.Version, cfg.Timeout),
		"verify that every component is ready")
	secrets := append(redact.Secrets(last.Values), redact.Secrets(bf.Values)...)
	rp.Diff = []change.FileDiff{change.ValuesDiff(cfg.hasher, last.Values, bf.Values, secrets)}
}

// notUndone says what the rollback leaves as it is, from the run's steps.
func notUndone(run *journal.Run, rep *Report) []string {
	any := false
	for _, rp := range rep.Releases {
		any = any || rp.Action == ActionRollback || rp.Action == ActionRestore || rp.Action == ActionRecover
	}
	if !any {
		return nil
	}
	var crds []string
	jobs := false
	if run != nil {
		for _, jr := range run.Releases {
			for _, s := range jr.Steps {
				if f, ok := strings.CutPrefix(s, change.StepCRDs+":"); ok {
					crds = append(crds, jr.Context+": "+f)
				}
				jobs = jobs || s == change.StepJobs
			}
		}
	}
	sort.Strings(crds)
	var out []string
	if len(crds) > 0 {
		out = append(out, "the CRDs the run applied stay (Helm does not manage crds/): "+strings.Join(crds, "; "))
	} else {
		out = append(out, "CRDs an upgrade applied stay (Helm does not manage crds/)")
	}
	if jobs {
		out = append(out, "the admission Jobs the run deleted are created again by the old chart")
	}
	out = append(out, "database schema changes and data written by the newer version are not reverted")
	return out
}

// HintError carries a hint for the operator.
type HintError struct {
	Err  error
	Hint string
}

func (e *HintError) Error() string { return e.Err.Error() }
func (e *HintError) Unwrap() error { return e.Err }

func withHint(err error, hint string) error {
	if hint == "" {
		return err
	}
	return &HintError{Err: err, Hint: hint}
}
