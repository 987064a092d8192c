package upgrade

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/skoala-dev/kubectl-skoala/pkg/backup"
	"github.com/skoala-dev/kubectl-skoala/pkg/buildinfo"
	"github.com/skoala-dev/kubectl-skoala/pkg/change"
	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
	"github.com/skoala-dev/kubectl-skoala/pkg/cmd/apply"
	"github.com/skoala-dev/kubectl-skoala/pkg/doctor"
	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/images"
	"github.com/skoala-dev/kubectl-skoala/pkg/kpanda"
	"github.com/skoala-dev/kubectl-skoala/pkg/redact"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
	"github.com/skoala-dev/kubectl-skoala/pkg/semver"
	"github.com/skoala-dev/kubectl-skoala/pkg/upgrade"
)

// Options are the upgrade command's options.
type Options struct {
	g              *cli.Globals
	Fleet          cli.FleetFlags
	Output         string
	Version        string
	ToLatestPatch  bool
	Charts         []string
	ImageRegistry  string
	UITag          string
	DB             upgrade.DB
	DBPasswordFile string
	// Values are helm's value flags: -f, --set, --set-string, --set-file, --set-json, --set-literal.
	Values helmsdk.ValueOptions
	// Install is --install: install a release missing on a cluster named explicitly.
	Install bool
	// SkipUnreachable lets a --fleet kpanda run leave out the registered clusters it cannot reach.
	SkipUnreachable bool
	Atomic          bool
	CleanupOnFail   bool
	DryRun          bool
	Force           bool
	Yes             bool
	BackupDir       string
	Repo            string
	Refresh         bool
	// Bundles and RegistryCAFile: an upgrade from offline bundles (issue 11), see offlineCharts.
	Bundles        []string
	RegistryCAFile string
	// Waves are --max-parallel, --max-failures and --events; Canary, PauseAfterCanary and Resume the
	// upgrade's own wave flags.
	Waves            apply.WaveFlags
	Canary           string
	PauseAfterCanary bool
	Resume           string

	format  render.Format
	jsonl   bool
	offline *images.Offline
	user    *helmsdk.UserValues
}

// NewOptions returns the defaults.
func NewOptions(g *cli.Globals) *Options {
	f := cli.NewFleetFlags()
	f.ClusterTimeout = apply.DefaultTimeout
	return &Options{g: g, Fleet: f, Output: "table", Atomic: true, CleanupOnFail: true, DB: upgrade.DB{Port: 3306}, Waves: apply.NewWaveFlags()}
}

// Complete reads the files the flags name.
func (o *Options) Complete(cmd *cobra.Command) error {
	if o.DBPasswordFile != "" {
		b, err := os.ReadFile(o.DBPasswordFile)
		if err != nil {
			return exit.Usagef("--db-password-file: %v", err)
		}
		o.DB.Password = strings.TrimRight(string(b), "\r\n")
	}
	read := helmsdk.ReadFileOrStdin(o.g.Streams.In, os.ReadFile)
	user, err := helmsdk.LoadValues(o.Values, read, redact.Values)
	if err != nil {
		return exit.Usagef("%v", err)
	}
	o.user = user
	return nil
}

// Validate checks the flags.
func (o *Options) Validate() error {
	jsonl, err := apply.ValidateWaves(&o.Waves, &o.Output)
	if err != nil {
		return err
	}
	o.jsonl = jsonl
	if err := o.Fleet.ValidateOutput(o.Output, &o.format); err != nil {
		return err
	}
	switch {
	case o.PauseAfterCanary && o.Canary == "":
		return exit.Usagef("--pause-after-canary needs --canary CONTEXT")
	case o.Resume != "" && o.DryRun:
		return exit.Usagef("--resume and --dry-run are mutually exclusive (a dry run of what is left: run without --resume)")
	}
	if o.Version != "" {
		if _, err := semver.Parse(o.Version); err != nil {
			return exit.Usagef("--version: %v", err)
		}
	}
	switch {
	case o.Version != "" && o.ToLatestPatch:
		return exit.Usagef("--version and --to-latest-patch are mutually exclusive")
	case len(o.Charts) > 0 && o.ToLatestPatch:
		return exit.Usagef("--chart and --to-latest-patch are mutually exclusive")
	case len(o.Charts) > 0 && (o.Repo != "" || o.Refresh):
		return exit.Usagef("--chart and --repo/--refresh are mutually exclusive")
	case o.DB.DSN != "" && o.DBPasswordFile != "":
		// Before the next case: Complete has read the file into DB.Password.
		return exit.Usagef("--db-dsn and --db-password-file are mutually exclusive")
	case o.DB.DSN != "" && (o.DB.Host != "" || o.DB.User != "" || o.DB.Password != "" || o.DB.Name != ""):
		return exit.Usagef("--db-dsn and --db-host/--db-user/--db-password/--db-name are mutually exclusive")
	case o.DB.Port <= 0 || o.DB.Port > 65535:
		return exit.Usagef("--db-port must be from 1 to 65535")
	}
	if c := upgrade.UserConflicts(o.user, o.UITag, o.ImageRegistry, o.DB); len(c) > 0 {
		return exit.Usagef("%s: give one", c[0])
	}
	if o.DB.Given() && o.DB.DSN == "" {
		if o.DB.Password == "" {
			return exit.Usagef("--db-host/--db-user need --db-password or --db-password-file")
		}
		if o.DB.Host == "" {
			o.DB.Host = "mcamel-common-mysql-cluster-mysql-master.mcamel-system.svc.cluster.local"
		}
		if o.DB.User == "" {
			o.DB.User = "skoala"
		}
		if o.DB.Name == "" {
			o.DB.Name = "skoala"
		}
		if _, err := o.DB.Build(); err != nil {
			return exit.Usagef("%v", err)
		}
	}
	if o.DB.DSN != "" {
		if _, err := o.DB.Build(); err != nil {
			return exit.Usagef("%v", err)
		}
	}
	return nil
}

// Run plans, prints the plan, runs the pre-upgrade checks, confirms, executes and reports.
func (o *Options) Run(ctx context.Context) error {
	cfg, cleanup, err := o.prepare(ctx)
	defer cleanup()
	if err != nil {
		return err
	}
	sink, err := o.openSink()
	if err != nil {
		return err
	}
	deps := upgrade.Deps{Clusters: o.g.Factory(), Helm: o.g.HelmClients, Observe: sink.Observe}
	rep, runErr := o.plan(ctx, deps, cfg)
	if rep == nil {
		return runErr
	}
	if err := o.writeResult(rep); err != nil {
		return err
	}
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		runErr = planError(runErr)
	} else if runErr == nil {
		runErr = outcomeError(rep)
	}
	if err := sink.Close(rep.Outcome, runErr); err != nil && runErr == nil {
		return exit.New(exit.Failure, err, "")
	}
	return runErr
}

// prepare resolves the targets and the offline charts into the library's configuration.
func (o *Options) prepare(ctx context.Context) (upgrade.Config, func(), error) {
	noop := func() {}
	targets, err := o.Fleet.ResolveClusters(o.g)
	if err != nil {
		return upgrade.Config{}, noop, err
	}
	targets, skipped, err := o.Fleet.LeaveUnreached(targets, o.SkipUnreachable, o.g.Name+" upgrade")
	if err != nil {
		return upgrade.Config{}, noop, err
	}
	if err := o.checkCanary(targets); err != nil {
		return upgrade.Config{}, noop, err
	}
	if err := cli.CheckIdentity(ctx, o.g, targets, o.Fleet.ClusterTimeout); err != nil {
		return upgrade.Config{}, noop, err
	}
	off, cleanup, err := o.offlineCharts()
	if err != nil {
		return upgrade.Config{}, cleanup, err
	}
	o.offline = off
	var paths []string
	if off != nil {
		paths = off.Paths
	}
	cfg, err := o.config(targets, paths)
	if err != nil {
		return cfg, cleanup, err
	}
	for _, m := range skipped {
		cfg.Skipped = append(cfg.Skipped, upgrade.Skipped{Cluster: m.Cluster.Name, Reason: (&kpanda.UnreachedError{Member: m}).Error(), Hint: m.Hint})
	}
	return cfg, cleanup, nil
}

// checkCanary refuses a --canary that is not a workspace of the run.
func (o *Options) checkCanary(targets []fleet.Target) error {
	if o.Canary == "" {
		return nil
	}
	var ws []string
	for _, t := range targets {
		if t.Role == fleet.RoleWorkspace {
			if t.Context == o.Canary {
				return nil
			}
			ws = append(ws, t.Context)
		}
	}
	return exit.New(exit.Usage, fmt.Errorf("--canary %s is not a workspace of this run", o.Canary),
		fmt.Sprintf("give one of its workspaces (%s), or add it with -w", strings.Join(ws, ", ")))
}

// plan plans, prints the plan, runs the pre-upgrade checks, confirms and executes; a nil report is an
// error before the plan.
func (o *Options) plan(ctx context.Context, deps upgrade.Deps, cfg upgrade.Config) (*upgrade.Report, error) {
	p, err := upgrade.Plan(ctx, deps, cfg)
	if err != nil {
		// A missing image of --bundle is said before why the plan failed (a bundle of one chart, say).
		if cerr := o.checkBundleImages(ctx, o.offline, cfg.Targets, nil); cerr != nil {
			return nil, cerr
		}
		return nil, planError(err)
	}
	if err := o.checkBundleImages(ctx, o.offline, cfg.Targets, p); err != nil {
		return nil, err
	}
	if p.Runnable() {
		p.SetPreflight(preflight(o.g, cfg.Namespace, o.Repo, o.ImageRegistry, o.RegistryCAFile)(ctx, p.PreflightInput()))
	}
	if err := o.writePlan(p.Report); err != nil {
		return nil, err
	}
	if p.Runnable() && !o.Yes {
		o.confirm(p)
	}
	return upgrade.Execute(ctx, deps, p)
}

// openSink opens where the events go; with -o jsonl the report goes nowhere else on stdout.
func (o *Options) openSink() (*apply.Sink, error) {
	sink, err := apply.OpenSink(o.g, "upgrade", o.Waves)
	if err == nil && o.jsonl {
		o.g.Streams.Out = io.Discard
	}
	return sink, err
}

// config is the library's configuration of the flags (offline: the charts of --bundle).
func (o *Options) config(targets []fleet.Target, offline []string) (upgrade.Config, error) {
	dir := o.BackupDir
	if dir == "" {
		d, err := backup.DefaultDir()
		if err != nil {
			return upgrade.Config{}, exit.Failf("give --backup-dir", "%v", err)
		}
		dir = d
	}
	maxHistory := o.g.Helm.MaxHistory // HELM_MAX_HISTORY (10 when unset, as helm's --history-max); 0 is unlimited, as in helm
	reqTimeout := o.g.Factory().RequestTimeout()
	if reqTimeout == 0 {
		reqTimeout = time.Minute
	}
	return upgrade.Config{
		Namespace: o.g.Namespace(), Targets: targets, Env: o.g.Helm, Repo: o.Repo, Refresh: o.Refresh,
		Version: o.Version, ToLatestPatch: o.ToLatestPatch, Charts: append(append([]string(nil), o.Charts...), offline...), ImageRegistry: o.ImageRegistry,
		UITag: o.UITag, DB: o.DB, UserValues: o.user, Scope: upgrade.Scope{Install: o.Install, AllContexts: o.Fleet.AllContexts, Registry: o.Fleet.Fleet == cli.FleetKpanda}, Timeout: o.Fleet.ClusterTimeout,
		RequestTimeout: reqTimeout, Atomic: o.Atomic, CleanupOnFail: o.CleanupOnFail, DryRun: o.DryRun,
		Force: o.Force, BackupDir: dir, MaxHistory: maxHistory, Name: o.g.Name,
		Tool: buildinfo.Get().Version, Debug: o.g.Helm.Debug, Resume: o.Resume,
		Waves: change.Waves{Canary: o.Canary, PauseAfterCanary: o.PauseAfterCanary, MaxParallel: o.Waves.MaxParallel, MaxFailures: o.Waves.MaxFailures},
	}, nil
}

// writePlan prints the plan (and the diff of a dry run) before anything runs; JSON and YAML get the
// whole report at the end instead.
func (o *Options) writePlan(rep *upgrade.Report) error {
	if o.format != render.Table && o.format != "" {
		return nil
	}
	out := o.g.Streams.Out
	pal := o.g.Palette(out)
	if err := writePlanTo(out, rep, pal); err != nil {
		return err
	}
	if rep.Outcome == upgrade.OutcomeDryRun {
		return writeDiffTo(out, rep, pal)
	}
	return nil
}

// confirm asks the operator on the terminal; without one, nothing is changed.
func (o *Options) confirm(p *upgrade.Planned) {
	streams := o.g.Streams
	if !apply.IsTerminal(streams.In) {
		p.Unconfirmed()
		return
	}
	if !apply.Ask(streams.In, streams.ErrOut, fmt.Sprintf("Upgrade %d release(s) as planned?", p.Todo())) {
		p.Cancel()
	}
}

// writeResult prints the report: as JSON or YAML, or the result table once something ran.
func (o *Options) writeResult(rep *upgrade.Report) error {
	out := o.g.Streams.Out
	switch o.format {
	case render.JSON:
		return render.WriteJSON(out, rep)
	case render.YAML:
		return render.WriteYAML(out, rep)
	}
	for _, r := range rep.Releases {
		if r.Result != nil && r.Result.Outcome != upgrade.OutcomeUpToDate && r.Result.Outcome != upgrade.OutcomeSkipped {
			return writeResultTo(out, rep, o.g.Palette(out))
		}
	}
	return nil
}

// outcomeError maps the outcome onto the exit-code contract.
func outcomeError(rep *upgrade.Report) error {
	return apply.OutcomeError(rep.Outcome, rep.Message, rep.Hint,
		[]string{upgrade.OutcomeUpgraded, upgrade.OutcomeUpToDate, upgrade.OutcomeDryRun, upgrade.OutcomePaused},
		[]string{upgrade.OutcomeRefused, upgrade.OutcomeRolledBack})
}

func planError(err error) error {
	if err == nil {
		return nil
	}
	var ne *helmsdk.ChartNameError
	if errors.As(err, &ne) {
		return exit.New(exit.Usage, err, "--chart takes the skoala and skoala-init charts only")
	}
	var ee *exit.Error
	if errors.As(err, &ee) {
		return err
	}
	return exit.New(exit.Failure, err, "")
}

// preflight returns doctor's pre-upgrade checks, bounded by the request timeout of each check.
func preflight(g *cli.Globals, ns, repo, imageRegistry, registryCA string) upgrade.PreflightFunc {
	return upgrade.DoctorPreflight(doctor.Deps{Clusters: g.Factory(), Helm: g.Helm, ImageValues: upgrade.ImageValues},
		doctor.Config{Namespace: ns, Driver: g.Helm.Driver, Name: g.Name, Repo: repo, ImageRegistry: imageRegistry, RegistryCAFile: registryCA})
}

// addValueFlags registers helm's value flags with helm's names, types and order of application.
func addValueFlags(fs *pflag.FlagSet, v *helmsdk.ValueOptions) {
	fs.StringSliceVarP(&v.ValueFiles, "values", "f", v.ValueFiles, "Values file (or - for stdin) applied over the backed-up values of every release, as helm -f (can repeat or separate with commas)")
	fs.StringArrayVar(&v.Values, "set", v.Values, "Value applied over the backed-up values of every release, as helm --set (key1=val1,key2=val2; repeatable)")
	fs.StringArrayVar(&v.StringValues, "set-string", v.StringValues, "String value applied over the backed-up values, as helm --set-string (repeatable)")
	fs.StringArrayVar(&v.FileValues, "set-file", v.FileValues, "Value read from a file (key=path), as helm --set-file (repeatable)")
	fs.StringArrayVar(&v.JSONValues, "set-json", v.JSONValues, "JSON value (key=json), as helm --set-json (repeatable)")
	fs.StringArrayVar(&v.LiteralValues, "set-literal", v.LiteralValues, "Literal string value, as helm --set-literal (repeatable)")
}
