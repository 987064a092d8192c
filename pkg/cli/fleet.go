package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/kpanda"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
	"github.com/skoala-dev/kubectl-skoala/pkg/product"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
)

// FleetFlags select the clusters a fleet verb looks at: the control-plane context (the current one, or
// --context) for release skoala, and the workspace contexts for release skoala-init.
//
// --timeout means one thing in every verb: the time allowed for the work on each cluster (ClusterTimeout).
// status, versions and backup-values read each cluster within it; doctor checks the clusters together,
// so it bounds its run too; upgrade gives it to each cluster's release rollout (helm --wait --timeout).
// Only the default differs per verb (set it in New<Verb>Options), never the help text. The other time
// limits have their own names: --check-timeout (doctor, each check) and kubectl's --request-timeout
// (each API request).
type FleetFlags struct {
	Workspaces     []string
	AllContexts    bool
	SkoalaRelease  string
	InitRelease    string
	ClusterTimeout time.Duration
	MaxConcurrency int
	NoControlPlane bool
	// Fleet is --fleet: "" (the contexts named) or FleetKpanda (DCE's cluster registry).
	Fleet string
	// DCEURL and DCETokenFile are the kpanda API and the file of the user's DCE access token: a registered
	// cluster no context reaches gets its kubeconfig there (--fleet kpanda).
	DCEURL       string
	DCETokenFile string
	// Unreached are the registered clusters Resolve found no proven credential for (--fleet kpanda); they
	// are targets too, whose clients are an error saying why.
	Unreached []kpanda.Member
}

// TimeoutUsage is the help of --timeout, the same in every verb.
const TimeoutUsage = "Time allowed for the work on each cluster"

// NewFleetFlags returns the defaults.
func NewFleetFlags() FleetFlags {
	return FleetFlags{SkoalaRelease: product.ReleaseSkoala, InitRelease: product.ReleaseInit, ClusterTimeout: 30 * time.Second, MaxConcurrency: 32}
}

// Add registers the flags on cmd.
func (f *FleetFlags) Add(cmd *cobra.Command, g *Globals) {
	fs := cmd.Flags()
	fs.StringSliceVarP(&f.Workspaces, "workspace-context", "w", f.Workspaces, "Workspace cluster context(s) with the skoala-init release (repeatable, or a comma list)")
	fs.BoolVar(&f.AllContexts, "all-contexts", f.AllContexts, "Treat every other context of the kubeconfig as a workspace cluster")
	fs.StringVar(&f.SkoalaRelease, "release", f.SkoalaRelease, "Name of the control-plane release")
	fs.StringVar(&f.InitRelease, "init-release", f.InitRelease, "Name of the workspace release")
	fs.DurationVar(&f.ClusterTimeout, "timeout", f.ClusterTimeout, TimeoutUsage)
	fs.StringVar(&f.Fleet, "fleet", f.Fleet, "Where the workspace clusters come from: 'kpanda' reads DCE's cluster registry (clusters.cluster.kpanda.io) on the control plane and proves each one by its kube-system UID")
	fs.StringVar(&f.DCEURL, "dce-url", f.DCEURL, "DCE platform address (https): with --fleet kpanda, a registered cluster no context reaches gets its kubeconfig from the kpanda API")
	fs.StringVar(&f.DCETokenFile, "dce-token-file", f.DCETokenFile, "File holding your DCE access token, for --dce-url")
	_ = cmd.MarkFlagFilename("dce-token-file")
	_ = cmd.RegisterFlagCompletionFunc("fleet", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{FleetKpanda}, cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.RegisterFlagCompletionFunc("workspace-context", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		ctxs, err := g.Factory().Contexts()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		return ctxs, cobra.ShellCompDirectiveNoFileComp
	})
}

// ValidateOutput parses -o into *format (SetOutput), then checks the fleet flags: how a fleet verb's
// Validate begins.
func (f *FleetFlags) ValidateOutput(output string, format *render.Format) error {
	if err := SetOutput(format, output); err != nil {
		return err
	}
	return f.Validate()
}

// Validate checks the flag values.
func (f *FleetFlags) Validate() error {
	if f.AllContexts && len(f.Workspaces) > 0 {
		return exit.Usagef("--all-contexts and --workspace-context are mutually exclusive")
	}
	if f.ClusterTimeout <= 0 {
		return exit.Usagef("--timeout must be positive")
	}
	if strings.TrimSpace(f.SkoalaRelease) == "" || strings.TrimSpace(f.InitRelease) == "" {
		return exit.Usagef("--release and --init-release must not be empty")
	}
	return f.validateKpanda()
}

// Resolve turns the flags into the list of targets: the control plane first, then the workspaces in the
// order given (sorted for --all-contexts). A context named twice is looked at once.
func (f *FleetFlags) Resolve(g *Globals) ([]fleet.Target, error) {
	fac := g.Factory()
	cp, err := fac.CurrentContext()
	if err != nil {
		return nil, err
	}
	if f.Fleet == FleetKpanda {
		return f.resolveKpanda(g, cp)
	}
	sel := fleet.Selection{ControlPlane: cp, NoControlPlane: f.NoControlPlane, Workspaces: f.Workspaces,
		AllContexts: f.AllContexts, Release: f.SkoalaRelease, InitRelease: f.InitRelease}
	if f.AllContexts {
		if sel.Contexts, err = fac.Contexts(); err != nil {
			return nil, err
		}
	}
	targets, err := sel.Resolve()
	var ce *fleet.ConflictError
	if errors.As(err, &ce) {
		return nil, exit.Usagef("%v", err)
	}
	return targets, err
}

// RunContext returns a context bounded by nothing but the caller (per-cluster timeouts apply inside).
func RunContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// UsageHint is the hint of every usage error.
func UsageHint(name, verb string) string {
	if verb == "" {
		return fmt.Sprintf("see '%s --help' for usage", name)
	}
	return fmt.Sprintf("see '%s %s --help' for usage", name, verb)
}

// ResolveClusters resolves the targets and builds each one's clients, so that a kubeconfig problem (an
// unknown context, an unreadable file) is the user's input error, reported before any cluster is read.
// A cluster that cannot be reached is not an error here: the verbs report it per cluster.
func (f *FleetFlags) ResolveClusters(g *Globals) ([]fleet.Target, error) {
	targets, err := f.Resolve(g)
	if err != nil {
		return nil, Explain(err)
	}
	fac := g.Factory()
	for _, t := range targets {
		if _, err := fac.Cluster(t.Context); err != nil && kube.IsConfigError(err) {
			return nil, Explain(err)
		}
	}
	return targets, nil
}

// Explain turns an error from resolving clusters into an exit error with kube.Explain's one line and hint;
// an error that already carries an exit code is returned as it is.
func Explain(err error) error {
	if _, ok := err.(*exit.Error); ok {
		return err
	}
	msg, hint := kube.Explain(err, "", "")
	return exit.Failf(hint, "%s", msg)
}
