package backupvalues

import (
	"context"

	"github.com/skoala-dev/kubectl-skoala/pkg/backup"
	"github.com/skoala-dev/kubectl-skoala/pkg/buildinfo"
	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
)

// Options are the backup-values command's options.
type Options struct {
	g      *cli.Globals
	Fleet  cli.FleetFlags
	Output string
	Dir    string
	All    bool
	Redact bool
	List   bool
	format render.Format
}

// NewOptions returns the defaults.
func NewOptions(g *cli.Globals) *Options {
	return &Options{g: g, Fleet: cli.NewFleetFlags(), Output: "table"}
}

// Validate checks the flags.
func (o *Options) Validate() error {
	if err := cli.SetOutput(&o.format, o.Output); err != nil {
		return err
	}
	if o.List && (o.All || o.Redact) {
		return exit.Usagef("--list and --all/--redact are mutually exclusive")
	}
	return o.Fleet.Validate()
}

// Run writes (or lists) the backups and prints what it did.
func (o *Options) Run(ctx context.Context) error {
	dir := o.Dir
	if dir == "" {
		d, err := backup.DefaultDir()
		if err != nil {
			return exit.Failf("give the directory with --dir", "%v", err)
		}
		dir = d
	}
	var rep *backup.Report
	if o.List {
		entries, err := backup.List(dir)
		if err != nil {
			return exit.Failf("check --dir", "%v", err)
		}
		rep = &backup.Report{Schema: backup.SchemaVersion, Dir: dir, Entries: entries}
	} else {
		targets, err := o.Fleet.ResolveClusters(o.g)
		if err != nil {
			return err
		}
		fac := o.g.Factory()
		warn, err := backup.EnsureDir(dir)
		if err != nil {
			return exit.Failf("check --dir", "%v", err)
		}
		rep = backup.Take(ctx, fac, backup.Config{
			Namespace: o.g.Namespace(), Targets: targets, Driver: o.g.Helm.Driver,
			ClusterTimeout: o.Fleet.ClusterTimeout, MaxConcurrency: o.Fleet.MaxConcurrency,
			Options: backup.Options{Dir: dir, Computed: o.All, Redacted: o.Redact},
			Tool:    buildinfo.Get().Version,
		})
		if warn != "" {
			rep.Warnings = append(rep.Warnings, warn)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if err := o.g.Write(o.format, render.View(rep, tableOf(o.List))); err != nil {
		return err
	}
	if len(rep.Errors) > 0 {
		return exit.Silent{Code: exit.Failure}
	}
	return nil
}
