package versions

import (
	"context"
	"fmt"

	"github.com/skoala-dev/kubectl-skoala/pkg/catalog"
	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
	"github.com/skoala-dev/kubectl-skoala/pkg/status"
)

// Options are the versions command's options.
type Options struct {
	g       *cli.Globals
	Fleet   cli.FleetFlags
	Output  string
	All     bool
	Refresh bool
	Repo    string
	Offline bool
	Charts  []string
	format  render.Format
}

// NewOptions returns the defaults.
func NewOptions(g *cli.Globals) *Options {
	return &Options{g: g, Fleet: cli.NewFleetFlags(), Output: "table", Charts: []string{"skoala", "skoala-init"}}
}

// Complete reads the chart argument.
func (o *Options) Complete(args []string) error {
	if len(args) == 1 {
		switch args[0] {
		case "skoala", "skoala-init":
			o.Charts = []string{args[0]}
		default:
			return exit.Usagef("unknown chart %q: want skoala or skoala-init", args[0])
		}
	}
	return nil
}

// Validate checks the flags.
func (o *Options) Validate() error {
	return o.Fleet.ValidateOutput(o.Output, &o.format)
}

// Run lists the versions.
func (o *Options) Run(ctx context.Context) error {
	repo, idx, warnings := helmsdk.LoadRepository(ctx, o.g.Helm, o.Repo, o.Refresh, o.Fleet.ClusterTimeout)
	if idx == nil {
		// Why there is no index may be in a warning (a --refresh that failed): say it before failing.
		for _, w := range warnings {
			o.g.Warnf("%s", w)
		}
		return exit.Failf(repo.Hint, "%s", repo.Error)
	}
	var st *status.Report
	if !o.Offline {
		targets, err := o.Fleet.Resolve(o.g)
		if err == nil {
			st = status.Gather(ctx, o.g.Factory(), status.Config{
				Namespace: o.g.Namespace(), Targets: targets, Driver: o.g.Helm.Driver,
				ClusterTimeout: o.Fleet.ClusterTimeout, MaxConcurrency: o.Fleet.MaxConcurrency, SkipComponents: true, Name: o.g.Name,
			})
			for _, c := range st.Clusters {
				if !c.Reachable {
					warnings = append(warnings, fmt.Sprintf("cluster %s not read (%s): its version is not marked", c.Context, c.Error))
				}
			}
		} else {
			warnings = append(warnings, fmt.Sprintf("clusters not read (%v): installed versions are not marked", err))
		}
	}
	rep := catalog.Build(idx, repo, o.Charts, o.All, st)
	rep.Warnings = warnings
	return o.g.Write(o.format, render.View(rep, writeTable))
}
