package rollback

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/skoala-dev/kubectl-skoala/pkg/backup"
	"github.com/skoala-dev/kubectl-skoala/pkg/buildinfo"
	"github.com/skoala-dev/kubectl-skoala/pkg/change"
	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
	"github.com/skoala-dev/kubectl-skoala/pkg/cmd/apply"
	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/kpanda"
	"github.com/skoala-dev/kubectl-skoala/pkg/product"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
	"github.com/skoala-dev/kubectl-skoala/pkg/rollback"
)

// Options are the rollback command's options.
type Options struct {
	g          *cli.Globals
	Fleet      cli.FleetFlags
	Output     string
	RunID      string
	ToRevision int
	FromBackup string
	DryRun     bool
	Yes        bool
	Force      bool
	// SkipUnreachable lets a --fleet kpanda run leave out the registered clusters it cannot reach.
	SkipUnreachable bool
	BackupDir       string
	Repo            string

	// Waves are --max-parallel, --max-failures and --events.
	Waves apply.WaveFlags

	format     render.Format
	jsonl      bool
	releaseSet bool
}

// NewOptions returns the defaults.
func NewOptions(g *cli.Globals) *Options {
	f := cli.NewFleetFlags()
	f.ClusterTimeout = apply.DefaultTimeout
	return &Options{g: g, Fleet: f, Output: "table", Waves: apply.NewWaveFlags()}
}

// Validate checks the flags (one sentence per conflict).
func (o *Options) Validate(cmd *cobra.Command) error {
	jsonl, err := apply.ValidateWaves(&o.Waves, &o.Output)
	if err != nil {
		return err
	}
	o.jsonl = jsonl
	if err := o.Fleet.ValidateOutput(o.Output, &o.format); err != nil {
		return err
	}
	if cmd != nil {
		o.releaseSet = cmd.Flags().Changed("release")
	}
	fleetGiven := len(o.Fleet.Workspaces) > 0 || o.Fleet.AllContexts
	switch {
	case o.ToRevision < 0:
		return exit.Usagef("--to-revision must be a positive revision")
	case o.FromBackup != "" && o.ToRevision > 0:
		return exit.Usagef("--from-backup and --to-revision are mutually exclusive")
	case o.RunID != "" && (o.ToRevision > 0 || o.FromBackup != ""):
		return exit.Usagef("--run and --to-revision/--from-backup are mutually exclusive")
	case o.ToRevision > 0 && fleetGiven:
		return exit.Usagef("--to-revision rolls back one release (--release on --context): it takes no --workspace-context or --all-contexts")
	case o.FromBackup != "" && fleetGiven:
		return exit.Usagef("--from-backup restores the release and cluster the backup names: it takes no --workspace-context or --all-contexts")
	case o.Repo != "" && o.FromBackup == "":
		return exit.Usagef("--repo is for --from-backup only (a rollback takes its revisions from Helm's history)")
	}
	return nil
}

// Run gathers, plans, confirms, executes and reports.
func (o *Options) Run(ctx context.Context) error {
	cfg, fac, err := o.config(ctx)
	if err != nil {
		return err
	}
	sink, err := apply.OpenSink(o.g, "rollback", o.Waves)
	if err != nil {
		return err
	}
	if o.jsonl {
		o.g.Streams.Out = io.Discard
	}
	deps := rollback.Deps{Clusters: fac, Observe: sink.Observe}
	st, err := rollback.Gather(ctx, deps, cfg)
	if err != nil {
		return gatherError(ctx, err)
	}
	rep, err := rollback.Plan(cfg, st)
	if err != nil {
		return gatherError(ctx, err)
	}
	if stop, err := o.confirm(rep); stop {
		rollback.Announce(deps, cfg, rep, st)
		if cerr := sink.Close(rep.Outcome, err); cerr != nil && err == nil {
			return exit.New(exit.Failure, cerr, "")
		}
		return err
	}
	runErr := rollback.Execute(ctx, deps, cfg, rep, st)
	if err := o.g.Write(o.format, view{rep}); err != nil {
		return err
	}
	if runErr != nil {
		runErr = gatherError(ctx, runErr)
	} else {
		runErr = outcomeError(rep)
	}
	if err := sink.Close(rep.Outcome, runErr); err != nil && runErr == nil {
		return exit.New(exit.Failure, err, "")
	}
	return runErr
}

// config resolves the targets (the backup's release, the one release of --to-revision, or the fleet)
// into the library's configuration, and the cluster source to read them with.
func (o *Options) config(ctx context.Context) (rollback.Config, cli.ClusterFactory, error) {
	fac := o.g.Factory()
	ns, targets, err := o.targets()
	if err != nil {
		return rollback.Config{}, fac, err
	}
	if o.FromBackup == "" && o.ToRevision == 0 {
		fac = o.g.Factory() // --fleet kpanda: the registry's clusters too
	}
	if err := cli.CheckIdentity(ctx, o.g, targets, o.Fleet.ClusterTimeout); err != nil {
		return rollback.Config{}, fac, err
	}
	dir := o.BackupDir
	if dir == "" {
		if dir, err = backup.DefaultDir(); err != nil {
			return rollback.Config{}, fac, exit.Failf("give --backup-dir", "%v", err)
		}
	}
	reqTimeout := fac.RequestTimeout()
	if reqTimeout == 0 {
		reqTimeout = time.Minute
	}
	// HELM_MAX_HISTORY (10 when unset); 0 is unlimited, as in helm
	return rollback.Config{Namespace: ns, Targets: targets, Env: o.g.Helm, Run: o.RunID, ToRevision: o.ToRevision, FromBackup: o.FromBackup,
		Repo: o.Repo, Timeout: o.Fleet.ClusterTimeout, RequestTimeout: reqTimeout, DryRun: o.DryRun, Yes: o.Yes, BackupDir: dir,
		MaxHistory: o.g.Helm.MaxHistory, Name: o.g.Name, Tool: buildinfo.Get().Version, Force: o.Force,
		Waves: change.Waves{MaxParallel: o.Waves.MaxParallel, MaxFailures: o.Waves.MaxFailures}}, fac, nil
}

// targets are the release namespace and the targets of the mode.
func (o *Options) targets() (string, []fleet.Target, error) {
	fac, ns := o.g.Factory(), o.g.Namespace()
	switch {
	case o.FromBackup != "":
		m, _, err := backup.Load(o.FromBackup)
		if err != nil {
			return "", nil, exit.Usagef("--from-backup %s: %v", o.FromBackup, err)
		}
		if err := o.backupMismatch(m); err != nil {
			return "", nil, err
		}
		role := fleet.RoleControlPlane
		if m.Chart == product.ChartInit {
			role = fleet.RoleWorkspace
		}
		if m.Namespace != "" {
			ns = m.Namespace
		}
		if _, err := fac.Cluster(m.Cluster); err != nil {
			return "", nil, cli.Explain(err)
		}
		return ns, []fleet.Target{{Context: m.Cluster, Role: role, Release: m.Release}}, nil
	case o.ToRevision > 0:
		cp, err := fac.CurrentContext()
		if err != nil {
			return "", nil, cli.Explain(err)
		}
		// --release names the one release; the workspace release (--init-release's name, skoala-init by
		// default) is a workspace's, whatever cluster --context names.
		role := fleet.RoleControlPlane
		if o.Fleet.SkoalaRelease == o.Fleet.InitRelease {
			role = fleet.RoleWorkspace
		}
		if _, err := fac.Cluster(cp); err != nil {
			return "", nil, cli.Explain(err)
		}
		return ns, []fleet.Target{{Context: cp, Role: role, Release: o.Fleet.SkoalaRelease}}, nil
	}
	targets, err := o.Fleet.ResolveClusters(o.g)
	if err != nil {
		return "", nil, err
	}
	targets, skipped, err := o.Fleet.LeaveUnreached(targets, o.SkipUnreachable, o.g.Name+" rollback")
	for _, m := range skipped {
		o.g.Warnf("skipped registered cluster %s (--skip-unreachable): %s", m.Cluster.Name, (&kpanda.UnreachedError{Member: m}).Error())
	}
	return ns, targets, err
}

// confirm prints the plan and asks; stop means the run ends here, with err its exit.
func (o *Options) confirm(rep *rollback.Report) (bool, error) {
	streams := o.g.Streams
	table := o.format == render.Table
	if rep.Outcome == rollback.OutcomePlanned && !o.Yes && !apply.IsTerminal(streams.In) {
		rep.Message = "nothing was changed: no terminal to confirm on"
		rep.Hint = "review the plan, then run again with --yes"
	}
	if table {
		if err := o.g.Write(o.format, view{rep}); err != nil {
			return true, err
		}
	}
	if rep.Outcome != rollback.OutcomePlanned || rep.Message != "" {
		if !table {
			if err := o.g.Write(o.format, view{rep}); err != nil {
				return true, err
			}
		}
		return true, outcomeError(rep)
	}
	if o.Yes || apply.Ask(streams.In, streams.ErrOut, question(rep)) {
		return false, nil
	}
	rep.Outcome, rep.Message, rep.Hint = rollback.OutcomeCancelled, "cancelled: nothing was changed", ""
	if !table {
		_ = o.g.Write(o.format, view{rep})
	}
	return true, outcomeError(rep)
}

// question is the confirmation of the plan: it names every uninstall.
func question(rep *rollback.Report) string {
	todo := 0
	var uninstalls []string
	for _, rp := range rep.Releases {
		if rollback.Active(rp.Action) {
			todo++
		}
		if rp.Action == rollback.ActionUninstall {
			uninstalls = append(uninstalls, fmt.Sprintf("%s on %s (%d objects, listed above)", rp.Release, rp.Context, len(rp.Removes)))
		}
	}
	if len(uninstalls) > 0 {
		return fmt.Sprintf("Uninstall %s, and roll back the rest as planned?", strings.Join(uninstalls, ", "))
	}
	return fmt.Sprintf("Roll back %d release(s) as planned?", todo)
}

// backupMismatch refuses --context, -n or --release that name another cluster, namespace or release than
// the backup file: a backup is restored where it was taken, never silently elsewhere.
func (o *Options) backupMismatch(m backup.Meta) error {
	flag, given, file := "", "", ""
	cf := o.g.ConfigFlags
	switch {
	case cf != nil && cf.Context != nil && *cf.Context != "" && *cf.Context != m.Cluster:
		flag, given, file = "--context", *cf.Context, m.Cluster
	case cf == nil || cf.Context == nil || *cf.Context == "":
		if c := o.g.Helm.KubeContext; c != "" && c != m.Cluster {
			flag, given, file = "--kube-context", c, m.Cluster
		}
	}
	if flag == "" && m.Namespace != "" {
		if cf != nil && cf.Namespace != nil && *cf.Namespace != "" && *cf.Namespace != m.Namespace {
			flag, given, file = "-n", *cf.Namespace, m.Namespace
		} else if (cf == nil || cf.Namespace == nil || *cf.Namespace == "") && o.g.Helm.Namespace != "" && o.g.Helm.Namespace != "default" && o.g.Helm.Namespace != m.Namespace {
			flag, given, file = "-n", o.g.Helm.Namespace, m.Namespace
		}
	}
	if flag == "" && o.releaseSet && o.Fleet.SkoalaRelease != m.Release {
		flag, given, file = "--release", o.Fleet.SkoalaRelease, m.Release
	}
	if flag == "" {
		return nil
	}
	return exit.New(exit.Usage, fmt.Errorf("--from-backup %s was taken of %s in namespace %s on context %s: %s %s names another", o.FromBackup, m.Release, m.Namespace, m.Cluster, flag, given),
		fmt.Sprintf("drop %s to restore it where it was taken (%s), or give the backup of %s", flag, file, given))
}

func gatherError(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return err
	}
	var he *rollback.HintError
	if errors.As(err, &he) {
		return exit.New(exit.Failure, err, he.Hint)
	}
	if _, ok := err.(*exit.Error); ok {
		return err
	}
	return exit.New(exit.Failure, err, "")
}

// outcomeError maps the outcome onto the exit-code contract.
func outcomeError(rep *rollback.Report) error {
	return apply.OutcomeError(rep.Outcome, rep.Message, rep.Hint,
		[]string{rollback.OutcomeRolledBack, rollback.OutcomeNothing, rollback.OutcomeDryRun}, []string{rollback.OutcomeRefused})
}
