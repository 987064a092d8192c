// Package cli holds what every verb's command shares: kubectl's standard flags, Helm's environment (plugin
// mode), the colour and output flags, the fleet selection flags and the help-text name ("kubectl skoala"
// or "helm skoala").
package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"

	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
	"github.com/skoala-dev/kubectl-skoala/pkg/product"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
)

// DefaultNamespace is where both skoala and skoala-init live.
const DefaultNamespace = product.Namespace

// Globals is the state shared by all verbs.
type Globals struct {
	Streams     genericiooptions.IOStreams
	ConfigFlags *genericclioptions.ConfigFlags
	Helm        helmsdk.Env
	// Color is --color: auto, always or never.
	Color string
	// Name is how the tool was invoked, for help and hints: "kubectl skoala" or "helm skoala".
	Name string
	// Clusters gives the clients of the kubeconfig's contexts: nil means a kube.Factory over ConfigFlags;
	// command tests set a fake.
	Clusters ClusterFactory
	// HelmClients builds the Helm client of a namespace of a cluster (log receives Helm's debug lines): nil
	// means helmsdk.NewClient over the cluster's getter; command tests set one over a fake clientset.
	HelmClients func(c *kube.Cluster, namespace, driver string, log func(format string, v ...any)) (*helmsdk.Client, error)
	// Dynamic builds the dynamic client and REST mapper of a cluster (verify reads objects of any kind):
	// nil means over the cluster's REST config and discovery; command tests set fakes.
	Dynamic func(c *kube.Cluster) (dynamic.Interface, meta.RESTMapper, error)
}

// ClusterFactory is what the verbs need of the kubeconfig (*kube.Factory implements it).
type ClusterFactory interface {
	fleet.ClusterSource
	// CurrentContext is --context, else HELM_KUBECONTEXT, else the kubeconfig's current context.
	CurrentContext() (string, error)
	// Contexts lists the kubeconfig's contexts, sorted.
	Contexts() ([]string, error)
	// RequestTimeout is --request-timeout (0 when unset).
	RequestTimeout() time.Duration
}

// NewGlobals reads the environment (Helm's plugin variables) and prepares kubectl's flags.
func NewGlobals(streams genericiooptions.IOStreams) *Globals {
	env := helmsdk.LoadEnv()
	g := &Globals{
		Streams:     streams,
		ConfigFlags: genericclioptions.NewConfigFlags(true),
		Helm:        env,
		Color:       "auto",
		Name:        InvocationName(os.Args[0], env.PluginMode),
	}
	return g
}

// InvocationName says how the user typed the command.
func InvocationName(argv0 string, pluginMode bool) string {
	if pluginMode {
		return "helm skoala"
	}
	if strings.HasPrefix(filepath.Base(argv0), "kubectl") {
		return "kubectl skoala"
	}
	return "kubectl skoala"
}

// Factory returns the cluster factory, honouring helm's connection settings (HELM_KUBECONTEXT,
// HELM_KUBEAPISERVER, HELM_KUBETOKEN, ..., HELM_QPS, HELM_BURST_LIMIT) where kubectl's flags were not given.
func (g *Globals) Factory() ClusterFactory {
	if g.Clusters == nil {
		g.Helm.ApplyConnection(g.ConfigFlags)
		f := kube.NewFactory(g.ConfigFlags)
		f.DefaultContext = g.Helm.KubeContext
		f.QPS, f.Burst = g.Helm.QPS, g.Helm.BurstLimit
		g.Clusters = f
	}
	return g.Clusters
}

// Namespace is -n, else HELM_NAMESPACE unless it is helm's "default" (helm always sets it), else
// skoala-system.
func (g *Globals) Namespace() string {
	if g.ConfigFlags.Namespace != nil && *g.ConfigFlags.Namespace != "" {
		return *g.ConfigFlags.Namespace
	}
	if g.Helm.Namespace != "" && g.Helm.Namespace != "default" {
		return g.Helm.Namespace
	}
	return DefaultNamespace
}

// UseColor decides colour for w from --color, the terminal and NO_COLOR.
func (g *Globals) UseColor(w io.Writer) bool {
	_, noColor := os.LookupEnv("NO_COLOR")
	c, err := render.UseColor(g.Color, render.IsTerminal(w), noColor, os.Getenv("TERM"))
	return err == nil && c
}

// Palette returns a palette for w.
func (g *Globals) Palette(w io.Writer) *render.Palette { return render.NewPalette(w, g.UseColor(w)) }

// Validate checks the global flags.
func (g *Globals) Validate() error {
	if _, err := render.UseColor(g.Color, false, false, ""); err != nil {
		return exit.Usagef("%v", err)
	}
	if g.ConfigFlags.Timeout != nil && *g.ConfigFlags.Timeout != "" && *g.ConfigFlags.Timeout != "0" {
		if _, err := time.ParseDuration(*g.ConfigFlags.Timeout); err != nil {
			return exit.Usagef("invalid --request-timeout %q: want a duration such as 10s", *g.ConfigFlags.Timeout)
		}
	}
	return nil
}

// Write writes a report to stdout in format f, the table coloured as --color decides. It is the one
// output path of every verb.
func (g *Globals) Write(f render.Format, r render.Writer) error {
	out := g.Streams.Out
	return render.Write(out, f, r, g.Palette(out))
}

// Warnf prints a warning line on stderr.
func (g *Globals) Warnf(format string, a ...any) {
	fmt.Fprintf(g.Streams.ErrOut, "Warning: "+format+"\n", a...)
}

// AddRepoFlags registers --repo and --refresh as the verbs that read the chart repository or an OCI
// registry (upgrade, doctor) document them.
func AddRepoFlags(cmd *cobra.Command, repo *string, refresh *bool) {
	fs := cmd.Flags()
	fs.StringVar(repo, "repo", *repo, "Name or URL of the skoala repository in repositories.yaml, or an OCI registry path oci://HOST/PATH (default: found by URL, then by name)")
	fs.BoolVar(refresh, "refresh", *refresh, "Download the repository index first (as 'helm repo update')")
}

// AddOutputFlag registers -o/--output with completion.
func AddOutputFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, "output", "o", *p, "Output format: "+strings.Join(render.Formats, "|"))
	_ = cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return render.Formats, cobra.ShellCompDirectiveNoFileComp
	})
}

// SetOutput parses -o into *f: the one parse of every verb's Validate (an unknown format is a usage error).
func SetOutput(f *render.Format, s string) error {
	v, err := render.ParseFormat(s)
	if err != nil {
		return exit.Usagef("%v", err)
	}
	*f = v
	return nil
}
