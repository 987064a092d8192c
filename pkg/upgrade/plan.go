package upgrade

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/change"
	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmops"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/journal"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
	"github.com/skoala-dev/kubectl-skoala/pkg/redact"
	"github.com/skoala-dev/kubectl-skoala/pkg/semver"
	"github.com/skoala-dev/kubectl-skoala/pkg/upgradepath"
)

// ClusterSource returns the clients of a context.
type ClusterSource interface {
	Cluster(context string) (*kube.Cluster, error)
}

// Config is what Plan and Execute need, with no flags in sight.
type Config struct {
	Namespace string
	Targets   []fleet.Target
	Env       helmsdk.Env
	// Repo names the repository (--repo); Refresh downloads its index first.
	Repo    string
	Refresh bool
	// Version is --version ("" = newest); ToLatestPatch stays on each release's installed minor.
	Version       string
	ToLatestPatch bool
	// Charts are --chart paths (dir or tgz), each named skoala or skoala-init.
	Charts        []string
	ImageRegistry string
	UITag         string
	DB            DB
	// UserValues are the -f/--set flags, applied onto every release's backed-up values as helm applies them.
	UserValues *helmsdk.UserValues
	// Scope says where a missing release may be installed (--install, --all-contexts, --fleet kpanda).
	Scope Scope
	// Skipped are the registered clusters left out (--skip-unreachable); the plan names them.
	Skipped []Skipped
	Timeout time.Duration
	// RequestTimeout bounds the single API calls and downloads of the plan.
	RequestTimeout time.Duration
	Atomic         bool
	CleanupOnFail  bool
	DryRun         bool
	Force          bool
	BackupDir      string
	MaxHistory     int
	Name           string
	Tool           string
	// Debug sends Helm's debug lines to Deps.Observe (EventDebug).
	Debug bool
	// Identities are the clusters' identities a caller proved (by context); the journal reads the
	// others' (journal.Identify).
	Identities journal.Identities
	// Waves are --canary, --pause-after-canary, --max-parallel and --max-failures.
	Waves change.Waves
	// Resume is --resume: continue that run of the journal ("" for none; ResumeLatest: the newest paused,
	// failed or killed upgrade run).
	Resume string
}

// ResumeLatest is the Resume of '--resume' without a run: the newest paused, failed or killed upgrade run.
const ResumeLatest = "latest"

// HelmFunc builds the Helm client of a namespace of a cluster; log receives Helm's debug lines.
type HelmFunc func(c *kube.Cluster, namespace, driver string, log func(format string, v ...any)) (*helmsdk.Client, error)

// Deps are what Plan and Execute talk to. Neither writes anywhere: progress goes to Observe.
type Deps struct {
	Clusters ClusterSource
	// Helm builds the Helm clients (nil: helmsdk.NewClient over the cluster's getter).
	Helm HelmFunc
	// Observe receives the events of the run (nil discards them); see Observer.
	Observe Observer
	// Guard is called before every step of Execute that changes a cluster (namespace creation, marking a
	// stale revision failed, Job deletion, CRD apply, each Helm call), before the release's lock confirms
	// it is still held ((*Lock).Confirm): an error of either stops the run before that step, as a failure.
	Guard func(ctx context.Context) error
	Now   func() time.Time
}

func (d Deps) withDefaults() Deps {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Helm == nil {
		d.Helm = func(c *kube.Cluster, ns, driver string, log func(string, ...any)) (*helmsdk.Client, error) {
			return helmsdk.NewClient(c.Getter, ns, driver, log)
		}
	}
	if d.Observe == nil {
		d.Observe = func(Event) {}
	}
	return d
}

// Planned is a decided upgrade: the report to show (its Outcome is planned, refused, dry-run or up-to-date)
// and what Execute needs to carry it out.
type Planned struct {
	Report *Report
	// Offline is set when every chart comes from --chart: the repository is not used.
	Offline bool
	cfg     Config
	works   []*work
	// resume is the journal run this plan continues ("" for a new run), run its record.
	resume string
	run    *journal.Run
	// stopped is set once the plan must not run: refused, a dry run, nothing to do, failed checks, not
	// confirmed.
	stopped bool
}

// work is the private state of one release of the plan.
type work struct {
	plan     *ReleasePlan
	target   fleet.Target
	cluster  *kube.Cluster
	helm     *helmsdk.Client
	chart    *helmsdk.Chart
	base     map[string]any
	values   map[string]any
	secrets  []string
	last     *helmsdk.Release
	deployed *helmsdk.Release
	objects  []helmsdk.ManifestObject
	manifest string // the rendered target manifest (issue 12 §5b: the rights it needs)
	crds     []helmsdk.CRDFile
	lock     *change.Lock
	tags     map[string]string // component -> expected tag
	// crdsApplied and jobsDeleted are what the run did besides Helm (for EventReleaseDone).
	crdsApplied []string
	jobsDeleted []string
	// pendingWhy says why a pending revision no kubectl-skoala lock recorded may be resumed anyway
	// (helmops.PendingDecision.Why).
	pendingWhy string
	// kpanda are kpanda's Helm operations running on the release (helmops.ActiveOperations).
	kpanda []helmops.Operation
}

// pendingInput is what helmops.DecidePending is asked about last, the release's pending revision.
func pendingInput(cfg Config, last *helmsdk.Release, now time.Time) helmops.PendingInput {
	return helmops.PendingInput{Revision: last.Revision, Status: last.Status, Started: last.LastDeployed, Now: now,
		Timeout: cfg.Timeout, Force: cfg.Force}
}

// Plan reads every release, loads the charts, decides what to do with each release, computes its values
// and steps and renders it server-side. It changes nothing and prints nothing.
func Plan(ctx context.Context, d Deps, cfg Config) (*Planned, error) {
	d = d.withDefaults()
	rep := &Report{Schema: SchemaVersion, Namespace: cfg.Namespace, DryRun: cfg.DryRun, Timeout: cfg.Timeout.String(),
		Atomic: cfg.Atomic, BackupDir: cfg.BackupDir, Outcome: OutcomePlanned, Releases: []ReleasePlan{}, Skipped: cfg.Skipped}
	src, err := localCharts(cfg)
	if err != nil {
		return nil, err
	}
	ws := releases(cfg)
	if err := src.openRepository(ctx, cfg, ws, rep); err != nil {
		return nil, err
	}
	rep.Source = strings.Join(src.names, ", ")
	if err := readReleases(ctx, d, cfg, ws); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("reading the releases: %w", err)
	}
	run, err := resumed(ctx, &cfg, ws)
	if err != nil {
		return nil, err
	}
	if err := targetVersions(cfg, src, ws); err != nil {
		return nil, err
	}
	if run != nil {
		if err := resumeTarget(cfg, run, ws); err != nil {
			return nil, err
		}
	}
	for _, w := range ws {
		decide(cfg, w)
	}
	if run != nil {
		resumeDone(cfg, run, ws)
		rep.Resumes = run.ID
	}
	if err := loadCharts(ctx, cfg, src, ws); err != nil {
		return nil, err
	}
	h := redact.NewHasher() // the diff's secrets: one key per run
	for _, w := range ws {
		if err := planRelease(ctx, cfg, h, w); err != nil {
			if ctx.Err() != nil { // Ctrl-C during the render: an interruption (exit 130), not a failure
				return nil, fmt.Errorf("%s/%s: %w", w.target.Context, w.target.Release, ctx.Err())
			}
			return nil, fmt.Errorf("%s/%s: %s", w.target.Context, w.target.Release, scrub(err.Error(), ws))
		}
	}
	for _, w := range ws {
		rep.Releases = append(rep.Releases, *w.plan)
	}
	for i, w := range ws {
		w.plan = &rep.Releases[i]
	}
	p := &Planned{Report: rep, Offline: src.repo == nil, cfg: cfg, works: ws, resume: rep.Resumes, run: run}
	p.decideOutcome()
	return p, nil
}

// resumed is the run --resume continues (nil without --resume). Without --version or --to-latest-patch,
// the resumed run goes where the run went: its target becomes cfg's version.
func resumed(ctx context.Context, cfg *Config, ws []*work) (*journal.Run, error) {
	if cfg.Resume == "" {
		return nil, nil
	}
	run, err := resumeRun(ctx, *cfg, ws)
	if err != nil {
		return nil, err
	}
	if cfg.Version == "" && !cfg.ToLatestPatch && len(cfg.Charts) == 0 {
		cfg.Version = run.Target
	}
	return run, nil
}

// sources are where the charts come from.
type sources struct {
	local map[string]*helmsdk.Chart // --chart, by chart name
	repo  *helmsdk.Repository       // nil when every chart is local
	idx   *helmsdk.Index
	names []string // for the report's Source
}

// localCharts loads the --chart charts.
func localCharts(cfg Config) (*sources, error) {
	src := &sources{local: map[string]*helmsdk.Chart{}}
	for _, p := range cfg.Charts {
		ch, err := helmsdk.LoadChartPath(p, "")
		if err != nil {
			return nil, err
		}
		if ch.Name != ChartSkoala && ch.Name != ChartInit {
			return nil, &helmsdk.ChartNameError{Path: p, Got: ch.Name, Want: ChartSkoala + " or " + ChartInit}
		}
		if _, dup := src.local[ch.Name]; dup {
			return nil, fmt.Errorf("--chart names two %s charts", ch.Name)
		}
		if cfg.Version != "" && !semver.Equal(cfg.Version, ch.Version) {
			return nil, fmt.Errorf("--version %s but chart %s is version %s", cfg.Version, p, ch.Version)
		}
		src.local[ch.Name] = ch
		src.names = append(src.names, fmt.Sprintf("%s %s (%s)", ch.Name, ch.Version, p))
	}
	return src, nil
}

// releases is one work per target: skoala on the control plane, skoala-init on a workspace.
func releases(cfg Config) []*work {
	ws := make([]*work, len(cfg.Targets))
	for i, t := range cfg.Targets {
		chart := ChartSkoala
		if t.Role == fleet.RoleWorkspace {
			chart = ChartInit
		}
		ws[i] = &work{target: t, plan: &ReleasePlan{Context: t.Context, Role: t.Role, Release: t.Release, Chart: chart, Steps: []Step{}}}
	}
	return ws
}

// openRepository loads the repository and its index when a release needs a chart --chart does not give.
func (src *sources) openRepository(ctx context.Context, cfg Config, ws []*work, rep *Report) error {
	var missing []string
	for _, w := range ws {
		if src.local[w.plan.Chart] == nil {
			missing = append(missing, w.plan.Chart)
		}
	}
	switch {
	case len(missing) == 0:
		return nil
	case len(cfg.Charts) > 0:
		return fmt.Errorf("--chart gives no %s chart, which %s needs: give it with another --chart", missing[0], strings.Join(uniq(missing), ", "))
	}
	if helmsdk.IsOCI(cfg.Repo) { // --repo oci://HOST/PATH: versions from the registry's tags (oci.go)
		name, err := loadOCI(ctx, cfg, &src.repo, &src.idx)
		if err != nil {
			return err
		}
		src.names = append(src.names, name)
		return nil
	}
	repos, err := helmsdk.LoadRepositories(cfg.Env.RepositoryConfig, cfg.Env.RepositoryCache)
	if err != nil {
		return err
	}
	repo, err := helmsdk.FindRepository(repos, cfg.Repo)
	if err != nil {
		return fmt.Errorf("%w in %s (add it: %s)", err, cfg.Env.RepositoryConfig, helmsdk.AddRepoCommand(cfg.Repo))
	}
	if cfg.Refresh {
		if err := helmsdk.RefreshIndex(ctx, repo, cfg.RequestTimeout); err != nil {
			rep.Warnings = append(rep.Warnings, helmsdk.RefreshWarning(repo.Name, err))
		}
	}
	idx, err := helmsdk.LoadIndex(repo.IndexPath)
	if err != nil {
		return fmt.Errorf("%w (download it with 'helm repo update %s')", err, repo.Name)
	}
	src.repo, src.idx = repo, idx
	src.names = append(src.names, fmt.Sprintf("repository %s (%s)", repo.Name, repo.URL))
	return nil
}

// versionsOf lists the versions of chart in the repository's index.
func (src *sources) versionsOf(chart string) []string {
	var vs []string
	for _, v := range src.idx.Versions(chart) {
		vs = append(vs, v.Version)
	}
	return vs
}

// readReleases reads every release (concurrently: clusters are independent).
func readReleases(ctx context.Context, d Deps, cfg Config, ws []*work) error {
	errs := make([]error, len(ws))
	kube.ForEach(ctx, ws, 8, cfg.RequestTimeout, func(ctx context.Context, i int, w *work) {
		errs[i] = readRelease(ctx, d, cfg, w)
	})
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("cluster %s: %w", ws[i].target.Context, err)
		}
	}
	return nil
}

// explained is err as kube.Explain words it, with its hint.
func explained(err error, verb, resource string) error {
	msg, hint := kube.Explain(err, verb, resource)
	return exit.New(exit.Failure, errors.New(msg), hint)
}

func readRelease(ctx context.Context, d Deps, cfg Config, w *work) error {
	kc, err := d.Clusters.Cluster(w.target.Context)
	if err != nil {
		return explained(err, "", "")
	}
	w.cluster = kc
	var logf func(string, ...any)
	if cfg.Debug {
		logf = func(format string, a ...any) {
			d.Observe(Event{Type: EventDebug, Context: w.target.Context, Release: w.target.Release,
				Message: "helm: " + redact.Scrub(fmt.Sprintf(format, a...), w.secrets)})
		}
	}
	hc, err := d.Helm(kc, cfg.Namespace, cfg.Env.Driver, logf)
	if err != nil {
		return err
	}
	w.helm = hc
	last, err := hc.Last(w.target.Release)
	var nf *helmsdk.NotFoundError
	if err != nil && !errors.As(err, &nf) {
		return explained(err, "list", "secrets in namespace "+cfg.Namespace)
	}
	// issue 24 §1: kpanda's own Helm operations take no Lease of ours; one running on the release (or
	// installing it) refuses it. Read after the release, so that an identity without rights hears of the
	// release records first.
	var kerr error
	if w.kpanda, kerr = helmops.ActiveOperations(ctx, kc.Client, cfg.Namespace, w.target.Release); kerr != nil {
		return explained(kerr, "list", "jobs in namespace "+cfg.Namespace)
	}
	if err != nil {
		w.plan.Status = "not-installed"
		return nil
	}
	w.last = last
	w.plan.Status = last.Status
	w.plan.FromRevision = last.Revision
	w.plan.From = last.ChartVersion
	if dep, err := hc.Deployed(w.target.Release); err == nil {
		w.deployed = dep
		w.plan.From = dep.ChartVersion
	}
	w.base = baseRelease(w).Values
	w.secrets = append(w.secrets, redact.Secrets(w.base)...)
	if last.Pending() {
		li, err := change.PeekLock(ctx, kc.Client, cfg.Namespace, w.target.Release)
		if err != nil {
			return explained(err, "get", "leases in namespace "+cfg.Namespace)
		}
		// issue 12 §1, issue 24 §1: only the revision the lock recorded may be resumed, or another one that is
		// older than any helm wait that could still run, or with --force (helmops.DecidePending, which
		// rollback applies too); whether the lock is stale is judged once Execute takes it.
		in := pendingInput(cfg, last, d.Now())
		in.Lock = li.Recorded()
		dec := helmops.DecidePending(in)
		w.plan.Reason = dec.Refused
		w.pendingWhy = dec.Why
	}
	return nil
}

// targetVersions sets the version each release goes to: its --chart's, --version, the newest patch of its
// minor (--to-latest-patch) or the newest stable version of the repository.
func targetVersions(cfg Config, src *sources, ws []*work) error {
	for _, w := range ws {
		p := w.plan
		if ch := src.local[p.Chart]; ch != nil {
			p.To = ch.Version
			continue
		}
		to, err := repoTarget(cfg, src, p)
		if err != nil {
			return err
		}
		p.To = to
	}
	return nil
}

func repoTarget(cfg Config, src *sources, p *ReleasePlan) (string, error) {
	vs := src.versionsOf(p.Chart)
	name := src.repo.Name
	switch {
	case cfg.Version != "":
		if !contains(vs, semver.Normalize(cfg.Version)) {
			return "", fmt.Errorf("repository %s has no %s %s (see '%s versions %s')", name, p.Chart, cfg.Version, cfg.Name, p.Chart)
		}
		return semver.Normalize(cfg.Version), nil
	case cfg.ToLatestPatch && p.From != "":
		if to := semver.LatestPatch(vs, p.From); to != "" {
			return to, nil
		}
		return "", fmt.Errorf("repository %s has no stable %s of the installed minor %s", name, p.Chart, p.From)
	}
	if to := semver.Latest(vs, false); to != "" {
		return to, nil
	}
	return "", fmt.Errorf("repository %s has no stable %s version", name, p.Chart)
}

// decide sets the action of a release (and, for a refusal, a skip or a resume, why).
func decide(cfg Config, w *work) {
	p := w.plan
	if len(w.kpanda) > 0 {
		refuseKpanda(cfg, p, w.kpanda)
		return
	}
	switch {
	case w.last == nil:
		decideMissing(cfg, p)
	case w.last.Pending():
		decidePending(cfg, w)
		if p.Action == ActionRefused {
			return
		}
	case semver.Compare(p.To, p.From) < 0 && !cfg.Force:
		p.Action = ActionRefused
		p.Reason = fmt.Sprintf("%s %s is newer than the target %s: kubectl-skoala does not downgrade", p.Release, p.From, p.To)
		p.Hint = fmt.Sprintf("roll back with 'helm --kube-context %s -n %s rollback %s', or give --force", p.Context, cfg.Namespace, p.Release)
	case semver.Equal(p.To, p.From) && w.last.Status == "deployed" && !cfg.Force && !changesValues(cfg):
		p.Action = ActionUpToDate
	default:
		p.Action = ActionUpgrade
	}
	if p.Action == ActionUpgrade || p.Action == ActionResume {
		// Mandatory stops (0.19.0 DB migration, sweet removed after 0.22): refuse to jump over them.
		if stops := upgradepath.Stops(p.From, p.To, nil); len(stops) > 0 && !cfg.Force {
			p.Action = ActionRefused
			p.Reason = fmt.Sprintf("%s -> %s crosses a mandatory stop: upgrade to %s first", p.From, p.To, strings.Join(stops, ", then "))
			p.Hint = fmt.Sprintf("run '%s upgrade --version <the newest %s>' first, then this upgrade", cfg.Name, stops[0])
		}
	}
}

// refuseKpanda refuses a release kpanda runs a Helm operation on (not even --force goes beside it).
func refuseKpanda(cfg Config, p *ReleasePlan, ops []helmops.Operation) {
	var names []string
	for _, op := range ops {
		names = append(names, op.String())
	}
	p.Action = ActionRefused
	p.Reason = strings.Join(names, "; ") + ": it takes no kubectl-skoala lock, and two helm operations must not run on one release"
	p.Hint = fmt.Sprintf("wait for it to finish ('kubectl --context %s -n %s get job %s'), then run the upgrade again", p.Context, cfg.Namespace, ops[0].Job)
}

// decideMissing decides about a release that is not installed: install, skip or refuse (missingRelease);
// skoala is installed only with the database.
func decideMissing(cfg Config, p *ReleasePlan) {
	p.Action, p.Reason, p.Hint = missingRelease(cfg.Scope, p.Role, p.Release, p.Context, cfg.Name)
	if p.Action == ActionInstall && p.Chart == ChartSkoala && !cfg.DB.Given() {
		p.Action = ActionRefused
		p.Reason = fmt.Sprintf("%s is not installed on %s, and installing it needs the database", p.Release, p.Context)
		p.Hint = "give --db-dsn, or --db-host, --db-user and --db-password (as the product guide does)"
	}
}

// decidePending decides about a pending release: resumed when readRelease found no reason to refuse it
// (it was left by an interrupted kubectl-skoala upgrade), else refused with the way out.
func decidePending(cfg Config, w *work) {
	p := w.plan
	if p.Reason != "" {
		p.Action = ActionRefused
		prev := "the previous revision"
		if w.deployed != nil {
			prev = fmt.Sprintf("revision %d", w.deployed.Revision)
		}
		p.Hint = fmt.Sprintf("if no helm operation is still running on %s, roll back to %s: 'helm --kube-context %s -n %s rollback %s%s', then run the upgrade again (see '%s doctor'), or give --force",
			p.Context, prev, p.Context, cfg.Namespace, p.Release, revArg(w.deployed), cfg.Name)
		return
	}
	p.Action = ActionResume
	if w.pendingWhy != "" {
		p.Reason = fmt.Sprintf("%s: it is marked failed, the release goes back to %s, and the upgrade runs again", w.pendingWhy, deployedName(w.deployed))
		return
	}
	p.Reason = fmt.Sprintf("revision %d was left %s by an interrupted kubectl-skoala upgrade: once its lock is stale it is marked failed, the release goes back to %s, and the upgrade runs again", w.last.Revision, w.last.Status, deployedName(w.deployed))
}

// changesValues reports whether the flags change the values of a release that is at its target version.
func changesValues(cfg Config) bool {
	return !cfg.UserValues.Empty() || cfg.ImageRegistry != "" || cfg.DB.Given()
}

func deployedName(dep *helmsdk.Release) string {
	if dep == nil {
		return "its deployed revision"
	}
	return fmt.Sprintf("revision %d", dep.Revision)
}

func revArg(dep *helmsdk.Release) string {
	if dep == nil {
		return ""
	}
	return fmt.Sprintf(" %d", dep.Revision)
}

// loadCharts gives every release to change its chart, downloading each chart version once.
func loadCharts(ctx context.Context, cfg Config, src *sources, ws []*work) error {
	charts := map[string]*helmsdk.Chart{}
	for _, w := range ws {
		p := w.plan
		if !p.changes() {
			continue
		}
		if ch := src.local[p.Chart]; ch != nil {
			w.chart = ch
			continue
		}
		key := p.Chart + "@" + p.To
		if charts[key] == nil {
			ch, err := src.download(ctx, cfg, p.Chart, p.To)
			if err != nil {
				return err
			}
			charts[key] = ch
		}
		w.chart = charts[key]
	}
	return nil
}

func (src *sources) download(ctx context.Context, cfg Config, chart, version string) (*helmsdk.Chart, error) {
	for _, v := range src.idx.Versions(chart) {
		if v.Version == version {
			return helmsdk.DownloadChart(ctx, src.repo, v, cfg.RequestTimeout)
		}
	}
	return nil, fmt.Errorf("repository %s has no %s %s", src.repo.Name, chart, version)
}

// changes reports whether the release is to be upgraded, installed or resumed.
func (p *ReleasePlan) changes() bool {
	switch p.Action {
	case ActionUpgrade, ActionInstall, ActionResume:
		return true
	}
	return false
}

func baseRelease(w *work) *helmsdk.Release {
	if w.deployed != nil {
		return w.deployed
	}
	return w.last
}

func baseRevision(w *work) int {
	if b := baseRelease(w); b != nil {
		return b.Revision
	}
	return 0
}

func contains(vs []string, v string) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

func uniq(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

// scrub masks every secret the plan knows of in s.
func scrub(s string, ws []*work) string {
	var secrets []string
	for _, w := range ws {
		secrets = append(secrets, w.secrets...)
	}
	return redact.Scrub(s, secrets)
}
