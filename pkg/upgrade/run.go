package upgrade

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/inspect"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
	"github.com/skoala-dev/kubectl-skoala/pkg/redact"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
	"github.com/skoala-dev/kubectl-skoala/pkg/semver"
	"github.com/skoala-dev/kubectl-skoala/pkg/upgradepath"
)

// ClusterSource returns the clients of a context.
type ClusterSource interface {
	Cluster(context string) (*kube.Cluster, error)
}

// Config is what Run needs, with no flags in sight.
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
	// Scope says where a missing release may be installed (--install, --all-contexts).
	Scope   Scope
	Timeout time.Duration
	// RequestTimeout bounds the single API calls and downloads of the plan.
	RequestTimeout time.Duration
	Atomic         bool
	CleanupOnFail  bool
	DryRun         bool
	Force          bool
	Yes            bool
	BackupDir      string
	MaxHistory     int
	Name           string
	Tool           string
	Debug          bool
}

// Deps are what Run talks to.
type Deps struct {
	Clusters ClusterSource
	// Out receives the plan, the diff and the report; ErrOut the progress.
	Out, ErrOut io.Writer
	OutPalette  *render.Palette
	ErrPalette  *render.Palette
	// Format of the report on Out; with JSON or YAML the plan is not printed before the run.
	Format render.Format
	// Confirm asks the operator; nil when there is no terminal to ask on.
	Confirm   func(question string) (bool, error)
	Preflight PreflightFunc
	Now       func() time.Time
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
	crds     []helmsdk.CRDFile
	lock     *Lock
	tags     map[string]string // component -> expected tag
}

// Run plans and, unless it is a dry run or the operator declines, executes the upgrade. The report is
// always returned (also with an error) so that the caller can print it.
func Run(ctx context.Context, d Deps, cfg Config) (*Report, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	rep := &Report{Schema: SchemaVersion, Namespace: cfg.Namespace, DryRun: cfg.DryRun, Timeout: cfg.Timeout.String(),
		Atomic: cfg.Atomic, BackupDir: cfg.BackupDir, Outcome: OutcomePlanned, Releases: []ReleasePlan{}}
	ws, err := plan(ctx, d, cfg, rep)
	if err != nil {
		return rep, err
	}
	table := d.Format == render.Table || d.Format == ""
	printPlan := func() error {
		if !table {
			return nil
		}
		return rep.WritePlan(d.Out, d.OutPalette)
	}
	// Nothing to do, or something refused: say so and change nothing.
	refused := false
	todo := 0
	for _, w := range ws {
		switch w.plan.Action {
		case ActionRefused:
			refused = true
		case ActionUpgrade, ActionInstall, ActionResume:
			todo++
		}
	}
	if refused {
		rep.Outcome = OutcomeRefused
		rep.Message = "nothing was changed: a release cannot be upgraded now"
		rep.Hint = firstHint(rep)
		return rep, printPlan()
	}
	if cfg.DryRun {
		rep.Outcome = OutcomeDryRun
		rep.Message = "nothing was changed"
		if err := printPlan(); err != nil {
			return rep, err
		}
		if table {
			return rep, rep.WriteDiff(d.Out, d.OutPalette)
		}
		return rep, nil
	}
	if todo == 0 {
		rep.Outcome = OutcomeUpToDate
		rep.Message = "every release is already at its target version"
		return rep, printPlan()
	}
	// Pre-upgrade checks.
	if d.Preflight != nil {
		in := preflightInput(ws)
		in.Offline = !strings.Contains(rep.Source, "repository ")
		pf, err := d.Preflight(ctx, in)
		if err != nil {
			pf = &PreflightResult{Ran: true, Failed: true, Lines: []string{"the pre-upgrade checks could not run: " + scrub(err.Error(), ws)}}
		}
		rep.Preflight = pf
		if pf != nil && pf.Failed {
			if !cfg.Force {
				rep.Outcome = OutcomeRefused
				rep.Message = "the pre-upgrade checks failed: nothing was changed"
				rep.Hint = fmt.Sprintf("fix what '%s doctor' reports, or give --force to upgrade anyway", cfg.Name)
				return rep, printPlan()
			}
			pf.Forced = true
		}
	}
	if err := printPlan(); err != nil {
		return rep, err
	}
	// Confirmation.
	if !cfg.Yes {
		if d.Confirm == nil {
			rep.Outcome = OutcomePlanned
			rep.Message = "nothing was changed: no terminal to confirm on"
			rep.Hint = "review the plan, then run again with --yes"
			return rep, nil
		}
		ok, err := d.Confirm(fmt.Sprintf("Upgrade %d release(s) as planned?", todo))
		if err != nil {
			return rep, err
		}
		if !ok {
			rep.Outcome = OutcomeCancelled
			rep.Message = "cancelled: nothing was changed"
			return rep, nil
		}
	}
	return rep, execute(ctx, d, cfg, rep, ws)
}

func preflightInput(ws []*work) PreflightInput {
	in := PreflightInput{Recovering: map[string]bool{}}
	for _, w := range ws {
		p := w.plan
		switch p.Action {
		case ActionUpgrade, ActionResume:
			in.Upgrades = append(in.Upgrades, w.target)
		case ActionInstall:
			in.Installs = append(in.Installs, w.target)
		default:
			continue
		}
		if in.TargetVersion == "" || semver.Compare(p.To, in.TargetVersion) > 0 {
			in.TargetVersion = p.To
		}
		if p.Action == ActionResume || (w.last != nil && w.last.Status != "deployed") {
			in.Recovering[p.Context] = true
		}
	}
	return in
}

func firstHint(rep *Report) string {
	for _, r := range rep.Releases {
		if r.Action == ActionRefused && r.Hint != "" {
			return r.Hint
		}
	}
	return ""
}

// scrub masks every secret the plan knows of in s.
func scrub(s string, ws []*work) string {
	var secrets []string
	for _, w := range ws {
		secrets = append(secrets, w.secrets...)
	}
	return redact.Scrub(s, secrets)
}

// plan reads every release, loads the charts, computes the values and steps, renders each upgrade
// server-side and fills rep.Releases.
func plan(ctx context.Context, d Deps, cfg Config, rep *Report) ([]*work, error) {
	local := map[string]*helmsdk.Chart{}
	var sources []string
	for _, p := range cfg.Charts {
		ch, err := helmsdk.LoadChartPath(p, "")
		if err != nil {
			return nil, err
		}
		if ch.Name != ChartSkoala && ch.Name != ChartInit {
			return nil, &helmsdk.ChartNameError{Path: p, Got: ch.Name, Want: ChartSkoala + " or " + ChartInit}
		}
		if _, dup := local[ch.Name]; dup {
			return nil, fmt.Errorf("--chart names two %s charts", ch.Name)
		}
		if cfg.Version != "" && !semver.Equal(cfg.Version, ch.Version) {
			return nil, fmt.Errorf("--version %s but chart %s is version %s", cfg.Version, p, ch.Version)
		}
		local[ch.Name] = ch
		sources = append(sources, fmt.Sprintf("%s %s (%s)", ch.Name, ch.Version, p))
	}
	ws := make([]*work, len(cfg.Targets))
	for i, t := range cfg.Targets {
		chart := ChartSkoala
		if t.Role == fleet.RoleWorkspace {
			chart = ChartInit
		}
		ws[i] = &work{target: t, plan: &ReleasePlan{Context: t.Context, Role: t.Role, Release: t.Release, Chart: chart, Steps: []Step{}}}
	}
	needRepo := false
	for _, w := range ws {
		if local[w.plan.Chart] == nil {
			needRepo = true
		}
	}
	if len(cfg.Charts) > 0 && needRepo {
		var missing []string
		for _, w := range ws {
			if local[w.plan.Chart] == nil {
				missing = append(missing, w.plan.Chart)
			}
		}
		return nil, fmt.Errorf("--chart gives no %s chart, which %s needs: give it with another --chart", missing[0], strings.Join(uniq(missing), ", "))
	}
	var repo *helmsdk.Repository
	var idx *helmsdk.Index
	if needRepo && helmsdk.IsOCI(cfg.Repo) { // --repo oci://HOST/PATH: oci.go
		src, err := loadOCI(ctx, cfg, &repo, &idx)
		if err != nil {
			return nil, err
		}
		sources, needRepo = append(sources, src), false
	}
	if needRepo {
		repos, err := helmsdk.LoadRepositories(cfg.Env.RepositoryConfig, cfg.Env.RepositoryCache)
		if err != nil {
			return nil, err
		}
		repo, err = helmsdk.FindRepository(repos, cfg.Repo)
		if err != nil {
			return nil, fmt.Errorf("%w in %s (add it: %s)", err, cfg.Env.RepositoryConfig, helmsdk.AddRepoCommand(cfg.Repo))
		}
		if cfg.Refresh {
			if err := helmsdk.RefreshIndex(ctx, repo, cfg.RequestTimeout); err != nil {
				rep.Warnings = append(rep.Warnings, helmsdk.RefreshWarning(repo.Name, err))
			}
		}
		idx, err = helmsdk.LoadIndex(repo.IndexPath)
		if err != nil {
			return nil, fmt.Errorf("%w (download it with 'helm repo update %s')", err, repo.Name)
		}
		sources = append(sources, fmt.Sprintf("repository %s (%s)", repo.Name, repo.URL))
	}
	rep.Source = strings.Join(sources, ", ")

	// Read every release (concurrently: clusters are independent).
	errs := make([]error, len(ws))
	kube.ForEach(ctx, ws, 8, cfg.RequestTimeout, func(ctx context.Context, i int, w *work) {
		errs[i] = readRelease(ctx, d, cfg, w)
	})
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("cluster %s: %w", ws[i].target.Context, err)
		}
	}
	// Target versions.
	for _, w := range ws {
		p := w.plan
		if ch := local[p.Chart]; ch != nil {
			p.To = ch.Version
			continue
		}
		var vs []string
		for _, v := range idx.Versions(p.Chart) {
			vs = append(vs, v.Version)
		}
		switch {
		case cfg.Version != "":
			if !contains(vs, semver.Normalize(cfg.Version)) {
				return nil, fmt.Errorf("repository %s has no %s %s (see '%s versions %s')", repo.Name, p.Chart, cfg.Version, cfg.Name, p.Chart)
			}
			p.To = semver.Normalize(cfg.Version)
		case cfg.ToLatestPatch && p.From != "":
			p.To = semver.LatestPatch(vs, p.From)
			if p.To == "" {
				return nil, fmt.Errorf("repository %s has no stable %s of the installed minor %s", repo.Name, p.Chart, p.From)
			}
		default:
			p.To = semver.Latest(vs, false)
			if p.To == "" {
				return nil, fmt.Errorf("repository %s has no stable %s version", repo.Name, p.Chart)
			}
		}
	}
	// Decide the action of each release.
	for _, w := range ws {
		decide(d, cfg, w)
	}
	// Load the charts needed (once per chart and version).
	charts := map[string]*helmsdk.Chart{}
	for _, w := range ws {
		p := w.plan
		if passive(p.Action) {
			continue
		}
		if ch := local[p.Chart]; ch != nil {
			w.chart = ch
			continue
		}
		key := p.Chart + "@" + p.To
		if ch, ok := charts[key]; ok {
			w.chart = ch
			continue
		}
		var cv *helmsdk.ChartVersion
		for _, v := range idx.Versions(p.Chart) {
			if v.Version == p.To {
				v := v
				cv = &v
			}
		}
		if cv == nil {
			return nil, fmt.Errorf("repository %s has no %s %s", repo.Name, p.Chart, p.To)
		}
		ch, err := helmsdk.DownloadChart(ctx, repo, *cv, cfg.RequestTimeout)
		if err != nil {
			return nil, err
		}
		charts[key] = ch
		w.chart = ch
	}
	// Values, steps and the server-side render.
	for _, w := range ws {
		if err := planRelease(ctx, cfg, w); err != nil {
			return nil, fmt.Errorf("%s/%s: %s", w.target.Context, w.target.Release, scrub(err.Error(), ws))
		}
	}
	for _, w := range ws {
		rep.Releases = append(rep.Releases, *w.plan)
	}
	for i, w := range ws {
		w.plan = &rep.Releases[i]
	}
	return ws, nil
}

func readRelease(ctx context.Context, d Deps, cfg Config, w *work) error {
	kc, err := d.Clusters.Cluster(w.target.Context)
	if err != nil {
		msg, hint := kube.Explain(err, "", "")
		return withHint(errors.New(msg), hint)
	}
	w.cluster = kc
	var logf func(string, ...any)
	if cfg.Debug && d.ErrOut != nil {
		logf = func(format string, a ...any) {
			fmt.Fprintf(d.ErrOut, "helm: %s\n", redact.Scrub(fmt.Sprintf(format, a...), w.secrets))
		}
	}
	hc, err := helmsdk.NewClient(kc.Getter, cfg.Namespace, cfg.Env.Driver, logf)
	if err != nil {
		return err
	}
	w.helm = hc
	last, err := hc.Last(w.target.Release)
	var nf *helmsdk.NotFoundError
	switch {
	case errors.As(err, &nf):
		w.plan.Status = "not-installed"
		return nil
	case err != nil:
		msg, hint := kube.Explain(err, "list", "secrets in namespace "+cfg.Namespace)
		return withHint(errors.New(msg), hint)
	}
	w.last = last
	w.plan.Status = last.Status
	w.plan.FromRevision = last.Revision
	w.plan.From = last.ChartVersion
	if dep, err := hc.Deployed(w.target.Release); err == nil {
		w.deployed = dep
	}
	base := last
	if w.deployed != nil {
		base = w.deployed
		w.plan.From = w.deployed.ChartVersion
	}
	w.base = base.Values
	w.secrets = append(w.secrets, redact.Secrets(base.Values)...)
	if last.Pending() {
		li, err := PeekLock(ctx, kc.Client, cfg.Namespace, w.target.Release)
		if err != nil {
			msg, hint := kube.Explain(err, "get", "leases in namespace "+cfg.Namespace)
			return withHint(errors.New(msg), hint)
		}
		// issue 12 §1: only the revision the lock recorded may be resumed (DecideResume, resume.go); whether
		// the lock is stale is judged once execute takes it.
		w.plan.Reason = DecideResume(ResumeInput{Revision: last.Revision, Status: last.Status, Lock: li}).Refused
	}
	return nil
}

func decide(d Deps, cfg Config, w *work) {
	p := w.plan
	ns := cfg.Namespace
	switch {
	case w.last == nil:
		p.Action, p.Reason, p.Hint = missingRelease(cfg.Scope, p.Role, p.Release, p.Context, cfg.Name)
		if p.Action == ActionInstall && p.Chart == ChartSkoala && !cfg.DB.Given() {
			p.Action = ActionRefused
			p.Reason = fmt.Sprintf("%s is not installed on %s, and installing it needs the database", p.Release, p.Context)
			p.Hint = "give --db-dsn, or --db-host, --db-user and --db-password (as the product guide does)"
		}
	case w.last.Pending():
		if p.Reason != "" {
			p.Action = ActionRefused
			prev := "the previous revision"
			if w.deployed != nil {
				prev = fmt.Sprintf("revision %d", w.deployed.Revision)
			}
			p.Hint = fmt.Sprintf("if no helm operation is still running on %s, roll back to %s: 'helm --kube-context %s -n %s rollback %s%s', then run the upgrade again (see '%s doctor')",
				p.Context, prev, p.Context, ns, p.Release, revArg(w.deployed), cfg.Name)
			return
		}
		p.Action = ActionResume
		p.Reason = fmt.Sprintf("revision %d was left %s by an interrupted kubectl-skoala upgrade: once its lock is stale it is marked failed, the release goes back to %s, and the upgrade runs again", w.last.Revision, w.last.Status, deployedName(w.deployed))
	case semver.Compare(p.To, p.From) < 0 && !cfg.Force:
		p.Action = ActionRefused
		p.Reason = fmt.Sprintf("%s %s is newer than the target %s: kubectl-skoala does not downgrade", p.Release, p.From, p.To)
		p.Hint = fmt.Sprintf("roll back with 'helm --kube-context %s -n %s rollback %s', or give --force", p.Context, ns, p.Release)
	case semver.Equal(p.To, p.From) && w.last.Status == "deployed" && !cfg.Force && cfg.UserValues.Empty() && cfg.ImageRegistry == "" && !cfg.DB.Given():
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

func planRelease(ctx context.Context, cfg Config, w *work) error {
	p := w.plan
	if passive(p.Action) {
		return nil
	}
	var db *DB
	if p.Chart == ChartSkoala {
		db = &cfg.DB
	}
	vr, err := NewValues(ValuesInput{Chart: p.Chart, Version: p.To, Base: w.base, User: cfg.UserValues,
		ImageRegistry: cfg.ImageRegistry, UITag: cfg.UITag, DB: db})
	if err != nil {
		return err
	}
	w.values = vr.Values
	w.secrets = append(w.secrets, redact.Secrets(vr.Values)...)
	p.Overrides = vr.Overrides
	p.Dropped = vr.Dropped
	p.Warnings = append(p.Warnings, vr.Warnings...)
	w.tags = map[string]string{}
	for _, it := range vr.ImageTags {
		p.ImageTags = append(p.ImageTags, it)
		w.tags[it.Component] = it.Tag
	}
	if p.Chart == ChartSkoala && cfg.UITag != "" {
		p.ImageTags = append(p.ImageTags, ImageTag{Component: "skoala-ui", Key: UITagKey, Tag: cfg.UITag})
		w.tags["skoala-ui"] = cfg.UITag
	}
	for i := range p.Overrides {
		p.Overrides[i].Value = redact.Scrub(p.Overrides[i].Value, w.secrets)
	}
	// Steps, in the order they run.
	if w.last != nil {
		p.Steps = append(p.Steps, Step{Kind: StepBackup, Automated: true, Description: fmt.Sprintf("back up the values of revision %d to %s", baseRevision(w), cfg.BackupDir)})
	}
	if p.Action == ActionResume {
		p.Steps = append(p.Steps, Step{Kind: StepUnlock, Automated: true, Description: fmt.Sprintf("mark the stale %s revision %d failed", w.last.Status, w.last.Revision)})
	}
	from := p.From
	if p.Action == ActionInstall {
		from = ""
	}
	for _, s := range upgradepath.Steps(p.Chart, from, p.To) {
		switch s.Kind {
		case upgradepath.KindAdmissionJobs:
			p.Steps = append(p.Steps, Step{Kind: StepJobs, Automated: true, Mandatory: s.Mandatory, Description: "delete Jobs " + strings.Join(upgradepath.AdmissionJobs, ", ") + " (their pod template is immutable)", Command: s.Command})
		case upgradepath.KindCRDs:
			st := Step{Kind: StepCRDs, Automated: true, Mandatory: s.Mandatory, Files: s.Files, Command: s.Command,
				Description: fmt.Sprintf("apply %s of the %s chart (needed from %s: Helm does not upgrade crds/)", strings.Join(s.Files, ", "), p.To, s.At)}
			if w.chart != nil {
				for _, f := range s.Files {
					found := false
					for _, cf := range w.chart.CRDFiles() {
						if cf.Path == f {
							w.crds = append(w.crds, cf)
							found = true
						}
					}
					if !found {
						p.Warnings = append(p.Warnings, fmt.Sprintf("the %s %s chart has no %s: that CRD step is skipped", p.Chart, p.To, f))
					}
				}
			}
			p.Steps = append(p.Steps, st)
		default:
			p.Manual = append(p.Manual, Step{Kind: string(s.Kind), Description: s.Description, Mandatory: s.Mandatory, Command: s.Command})
		}
	}
	helmDesc := fmt.Sprintf("helm upgrade %s to %s %s", p.Release, p.Chart, p.To)
	if p.Action == ActionInstall {
		helmDesc = fmt.Sprintf("helm install %s %s %s (creating namespace %s)", p.Release, p.Chart, p.To, cfg.Namespace)
	}
	mode := "wait " + cfg.Timeout.String()
	if cfg.Atomic {
		mode = "atomic, " + mode
	}
	if cfg.CleanupOnFail {
		mode += ", cleanup-on-fail"
	}
	p.Steps = append(p.Steps, Step{Kind: StepHelm, Automated: true, Description: helmDesc + " (" + mode + ")"})
	verify := "verify that every component is ready"
	if len(p.ImageTags) > 0 {
		var cs []string
		for _, it := range p.ImageTags {
			cs = append(cs, it.Component)
		}
		verify += " and that " + strings.Join(cs, ", ") + " run " + semver.Tag(p.To)
	}
	if cfg.ImageRegistry != "" {
		verify += ", every image from " + cfg.ImageRegistry
	}
	p.Steps = append(p.Steps, Step{Kind: StepVerify, Automated: true, Description: verify})

	// Render it server-side: schema validation, lookups, the manifest for the progress view and the diff.
	if p.Action == ActionResume || w.chart == nil {
		return nil
	}
	opts := helmsdk.UpgradeOptions{Values: w.values, DryRun: true, Timeout: cfg.Timeout}
	var rendered *helmsdk.Release
	if p.Action == ActionInstall {
		rendered, err = w.helm.Install(ctx, w.target.Release, w.chart, opts)
	} else {
		rendered, err = w.helm.Upgrade(ctx, w.target.Release, w.chart, opts)
	}
	if err != nil {
		return fmt.Errorf("rendering the %s server-side: %w", p.Action, err)
	}
	w.objects = rendered.Objects()
	if cfg.DryRun {
		var oldManifest string
		if b := baseRelease(w); b != nil {
			oldManifest = b.Manifest
		}
		p.Diff = append([]FileDiff{ValuesDiff(w.base, w.values, w.secrets)}, ManifestDiff(oldManifest, rendered.Manifest, w.secrets)...)
	}
	return nil
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

// components inspects the workloads of objs in the cluster.
func components(ctx context.Context, w *work, ns string) ([]inspect.Component, error) {
	return inspect.Objects(ctx, w.cluster.Client, ns, inspect.Workloads(w.objects), w.plan.To)
}
