package rollback

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/skoala-dev/kubectl-skoala/pkg/backup"
	"github.com/skoala-dev/kubectl-skoala/pkg/buildinfo"
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

	format     render.Format
	releaseSet bool
}

// NewOptions returns the defaults.
func NewOptions(g *cli.Globals) *Options {
	f := cli.NewFleetFlags()
	f.ClusterTimeout = apply.DefaultTimeout
	return &Options{g: g, Fleet: f, Output: "table"}
}

// Validate checks the flags (one sentence per conflict).
func (o *Options) Validate(cmd *cobra.Command) error {
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
	fac := o.g.Factory()
	ns := o.g.Namespace()
	var targets []fleet.Target
	var err error
	switch {
	case o.FromBackup != "":
		m, _, lerr := backup.Load(o.FromBackup)
		if lerr != nil {
			return exit.Usagef("--from-backup %s: %v", o.FromBackup, lerr)
		}
		if err := o.backupMismatch(m); err != nil {
			return err
		}
		role := fleet.RoleControlPlane
		if m.Chart == product.ChartInit {
			role = fleet.RoleWorkspace
		}
		targets = []fleet.Target{{Context: m.Cluster, Role: role, Release: m.Release}}
		if m.Namespace != "" {
			ns = m.Namespace
		}
		if _, cerr := fac.Cluster(m.Cluster); cerr != nil {
			return cli.Explain(cerr)
		}
	case o.ToRevision > 0:
		cp, cerr := fac.CurrentContext()
		if cerr != nil {
			return cli.Explain(cerr)
		}
		// --release names the one release; the workspace release (--init-release's name, skoala-init by
		// default) is a workspace's, whatever cluster --context names.
		role := fleet.RoleControlPlane
		if o.Fleet.SkoalaRelease == o.Fleet.InitRelease {
			role = fleet.RoleWorkspace
		}
		targets = []fleet.Target{{Context: cp, Role: role, Release: o.Fleet.SkoalaRelease}}
		if _, cerr := fac.Cluster(cp); cerr != nil {
			return cli.Explain(cerr)
		}
	default:
		if targets, err = o.Fleet.ResolveClusters(o.g); err != nil {
			return err
		}
		var skipped []kpanda.Member
		if targets, skipped, err = o.Fleet.LeaveUnreached(targets, o.SkipUnreachable, o.g.Name+" rollback"); err != nil {
			return err
		}
		for _, m := range skipped {
			o.g.Warnf("skipped registered cluster %s (--skip-unreachable): %s", m.Cluster.Name, (&kpanda.UnreachedError{Member: m}).Error())
		}
		fac = o.g.Factory() // --fleet kpanda: the registry's clusters too
	}
	if err := cli.CheckIdentity(ctx, o.g, targets, o.Fleet.ClusterTimeout); err != nil {
		return err
	}
	dir := o.BackupDir
	if dir == "" {
		if dir, err = backup.DefaultDir(); err != nil {
			return exit.Failf("give --backup-dir", "%v", err)
		}
	}
	maxHistory := o.g.Helm.MaxHistory // HELM_MAX_HISTORY (10 when unset); 0 is unlimited, as in helm
	reqTimeout := fac.RequestTimeout()
	if reqTimeout == 0 {
		reqTimeout = time.Minute
	}
	cfg := rollback.Config{Namespace: ns, Targets: targets, Env: o.g.Helm, Run: o.RunID, ToRevision: o.ToRevision, FromBackup: o.FromBackup,
		Repo: o.Repo, Timeout: o.Fleet.ClusterTimeout, RequestTimeout: reqTimeout, DryRun: o.DryRun, Yes: o.Yes, BackupDir: dir,
		MaxHistory: maxHistory, Name: o.g.Name, Tool: buildinfo.Get().Version, Force: o.Force}
	streams := o.g.Streams
	deps := rollback.Deps{Clusters: fac, ErrOut: streams.ErrOut}
	st, err := rollback.Gather(ctx, deps, cfg)
	if err != nil {
		return gatherError(ctx, err)
	}
	rep, err := rollback.Plan(cfg, st)
	if err != nil {
		return gatherError(ctx, err)
	}
	table := o.format == render.Table
	todo := 0
	var uninstalls []string
	for _, rp := range rep.Releases {
		if rp.Action == rollback.ActionRollback || rp.Action == rollback.ActionRecover || rp.Action == rollback.ActionRestore || rp.Action == rollback.ActionUninstall {
			todo++
		}
		if rp.Action == rollback.ActionUninstall {
			uninstalls = append(uninstalls, fmt.Sprintf("%s on %s (%d objects, listed above)", rp.Release, rp.Context, len(rp.Removes)))
		}
	}
	if rep.Outcome == rollback.OutcomePlanned && !o.Yes && !apply.IsTerminal(streams.In) {
		rep.Message = "nothing was changed: no terminal to confirm on"
		rep.Hint = "review the plan, then run again with --yes"
	}
	if table {
		if err := o.g.Write(o.format, view{rep}); err != nil {
			return err
		}
	}
	if rep.Outcome != rollback.OutcomePlanned || rep.Message != "" {
		if !table {
			if err := o.g.Write(o.format, view{rep}); err != nil {
				return err
			}
		}
		return outcomeError(rep)
	}
	if !o.Yes {
		q := fmt.Sprintf("Roll back %d release(s) as planned?", todo)
		if len(uninstalls) > 0 {
			q = fmt.Sprintf("Uninstall %s, and roll back the rest as planned?", strings.Join(uninstalls, ", "))
		}
		if !apply.Ask(streams.In, streams.ErrOut, q) {
			rep.Outcome, rep.Message, rep.Hint = rollback.OutcomeCancelled, "cancelled: nothing was changed", ""
			if !table {
				_ = o.g.Write(o.format, view{rep})
			}
			return outcomeError(rep)
		}
	}
	runErr := rollback.Execute(ctx, deps, cfg, rep, st)
	if err := o.g.Write(o.format, view{rep}); err != nil {
		return err
	}
	if runErr != nil {
		return gatherError(ctx, runErr)
	}
	return outcomeError(rep)
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
