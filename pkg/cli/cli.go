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
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
)

// DefaultNamespace is where both skoala and skoala-init live.
const DefaultNamespace = "skoala-system"

// Globals is the state shared by all verbs.
type Globals struct {
	Streams     genericiooptions.IOStreams
	ConfigFlags *genericclioptions.ConfigFlags
	Helm        helmsdk.Env
	// Color is --color: auto, always or never.
	Color string
	// Name is how the tool was invoked, for help and hints: "kubectl skoala" or "helm skoala".
	Name string

	factory *kube.Factory
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
func (g *Globals) Factory() *kube.Factory {
	if g.factory == nil {
		g.Helm.ApplyConnection(g.ConfigFlags)
		g.factory = kube.NewFactory(g.ConfigFlags)
		g.factory.DefaultContext = g.Helm.KubeContext
		g.factory.QPS, g.factory.Burst = g.Helm.QPS, g.Helm.BurstLimit
	}
	return g.factory
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

// Warnf prints a warning line on stderr.
func (g *Globals) Warnf(format string, a ...any) {
	fmt.Fprintf(g.Streams.ErrOut, "Warning: "+format+"\n", a...)
}

// AddOutputFlag registers -o/--output with completion.
func AddOutputFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, "output", "o", *p, "Output format: "+strings.Join(render.Formats, "|"))
	_ = cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return render.Formats, cobra.ShellCompDirectiveNoFileComp
	})
}

// ParseOutput validates -o as a usage error.
func ParseOutput(s string) (render.Format, error) {
	f, err := render.ParseFormat(s)
	if err != nil {
		return "", exit.Usagef("%v", err)
	}
	return f, nil
}
