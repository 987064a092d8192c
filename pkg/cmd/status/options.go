package status

import (
	"context"

	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
	"github.com/skoala-dev/kubectl-skoala/pkg/status"
)

// Options are the status command's options.
type Options struct {
	g        *cli.Globals
	Fleet    cli.FleetFlags
	Output   string
	Refresh  bool
	Repo     string
	ExitCode bool
	format   render.Format
}

// NewOptions returns the defaults.
func NewOptions(g *cli.Globals) *Options {
	return &Options{g: g, Fleet: cli.NewFleetFlags(), Output: "table"}
}

// Validate checks the flags.
func (o *Options) Validate() error {
	return o.Fleet.ValidateOutput(o.Output, &o.format)
}

// Run gathers and prints the report.
func (o *Options) Run(ctx context.Context) error {
	cfg := status.Config{
		Namespace:      o.g.Namespace(),
		Driver:         o.g.Helm.Driver,
		ClusterTimeout: o.Fleet.ClusterTimeout,
		MaxConcurrency: o.Fleet.MaxConcurrency,
		ExitOnUpgrade:  o.ExitCode,
		Name:           o.g.Name,
		Journal:        true,
	}
	// --fleet kpanda: the clusters the last run proved are read beside this run's discovery, which proves
	// them again before a row counts (one round per cluster; docs/kpanda.md).
	prefetched := o.speculate(ctx, cfg)
	var repo *status.Repository
	var idx *helmsdk.Index
	var warnings []string
	loaded := make(chan struct{})
	go func() {
		defer close(loaded)
		repo, idx, warnings = helmsdk.LoadRepository(ctx, o.g.Helm, o.Repo, o.Refresh, o.Fleet.ClusterTimeout)
	}()
	targets, err := o.Fleet.ResolveClusters(o.g)
	<-loaded
	cfg.Prefetched = <-prefetched
	if err != nil {
		return err
	}
	cfg.Targets, cfg.Index, cfg.Repo = targets, idx, repo
	rep := status.Gather(ctx, o.g.Factory(), cfg)
	rep.Warnings = append(rep.Warnings, warnings...)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// A single cluster that could not be read: the command could not do its job.
	if len(rep.Clusters) == 1 && !rep.Clusters[0].Reachable {
		c := rep.Clusters[0]
		if rep.Journal != nil && rep.Journal.LastRun != nil {
			// The journal was readable (a read-only identity may read it but not the release records): show it.
			if err := o.g.Write(o.format, render.View(rep, writeTable)); err != nil {
				return err
			}
		}
		return exit.Failf(c.Hint, "cluster %s: %s", c.Context, c.Error)
	}
	if err := o.g.Write(o.format, render.View(rep, writeTable)); err != nil {
		return err
	}
	if rep.Repository != nil && rep.Repository.Error != "" && o.format != render.Table {
		o.g.Warnf("%s (hint: %s)", rep.Repository.Error, rep.Repository.Hint)
	}
	if rep.Problems > 0 {
		return exit.Silent{Code: exit.Problems}
	}
	return nil
}

// speculate starts reading the guessed fleet of --fleet kpanda (cli.FleetFlags.Guess); the channel gives
// the rows (none without a guess).
func (o *Options) speculate(ctx context.Context, cfg status.Config) <-chan []status.Cluster {
	out := make(chan []status.Cluster, 1)
	guess := o.Fleet.Guess(o.g)
	if len(guess) == 0 {
		out <- nil
		return out
	}
	cfg.Targets = guess
	fac := o.g.Factory()
	go func() { out <- status.Read(ctx, fac, cfg) }()
	return out
}
