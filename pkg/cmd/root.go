// Package cmd builds the kubectl-skoala command tree: the root command with kubectl's standard flags and
// the verbs, each in its own package under pkg/cmd.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
	"github.com/skoala-dev/kubectl-skoala/pkg/cmd/version"
	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
	_ "github.com/skoala-dev/kubectl-skoala/pkg/gctune" // GOGC=400 from start-up on (see the package)
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/redact"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
)

// ExitCodesHelp documents the exit-code contract, in every verb's help and in the README.
const ExitCodesHelp = `Exit codes:
  0    success
  1    the tool could not do its job (error)
  2    usage error (unknown verb or flag, bad or conflicting values)
  3    the verb ran and found problems (doctor failures, a missing or failed release,
       an upgrade rolled back, drift found by verify; with --exit-code, an upgrade is available)
  124  a --wait timed out
  130  interrupted (Ctrl-C or SIGTERM)`

const rootLong = `Day-two operations for the DCE 5.0 Microservice Engine (skoala).

It reads the skoala release on the control-plane cluster and the skoala-init releases on the
workspace clusters, compares them with the Helm repository index, checks their health, backs up
their values and upgrades them together.

It works as a kubectl plugin (kubectl skoala) and as a Helm plugin (helm skoala); as a Helm plugin
it honours helm's --kube-context, -n, --kubeconfig and repository settings.`

var rootExample = templates.Examples(`
	# What is installed where, and what can it be upgraded to?
	kubectl skoala status --workspace-context workspace-1,workspace-2

	# Check a platform before an upgrade
	kubectl skoala doctor --all-contexts

	# The versions the repository offers
	kubectl skoala versions skoala`)

// NewCmdSkoala returns the root command.
func NewCmdSkoala(streams genericiooptions.IOStreams) *cobra.Command {
	return newCmdSkoala(cli.NewGlobals(streams))
}

// newCmdSkoala builds the root command over g (command tests hand in fake clusters).
func newCmdSkoala(g *cli.Globals) *cobra.Command {
	name := g.Name
	root := &cobra.Command{
		Use:           "kubectl-skoala",
		Short:         "Inspect, check, back up and upgrade the DCE 5.0 Microservice Engine (skoala)",
		Long:          rootLong + "\n\n" + ExitCodesHelp,
		Example:       forInvocation(rootExample, name),
		SilenceUsage:  true,
		SilenceErrors: true,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: name},
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return exit.New(exit.Usage, fmt.Errorf("unknown command %q for %q", args[0], name), cli.UsageHint(name, ""))
			}
			return nil
		},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return g.Validate()
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
	}
	g.ConfigFlags.AddFlags(root.PersistentFlags())
	root.PersistentFlags().StringVar(&g.Color, "color", g.Color, "Colour the output: "+strings.Join(render.ColorModes, "|")+" (auto: only on a terminal and when NO_COLOR is unset)")
	_ = root.RegisterFlagCompletionFunc("color", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return render.ColorModes, cobra.ShellCompDirectiveNoFileComp
	})
	_ = root.RegisterFlagCompletionFunc("context", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		ctxs, err := g.Factory().Contexts()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		return ctxs, cobra.ShellCompDirectiveNoFileComp
	})
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return exit.New(exit.Usage, err, cli.UsageHint(name, verbPath(c)))
	})

	root.AddCommand(version.NewCmdVersion(g))
	for _, c := range verbs(g) {
		root.AddCommand(c)
	}
	for _, c := range root.Commands() {
		c.Example = forInvocation(c.Example, name)
		if c.Long != "" && !strings.Contains(c.Long, "Exit codes:") {
			c.Long += "\n\n" + ExitCodesHelp
		}
	}
	return root
}

// forInvocation shows examples as the user invoked the tool.
func forInvocation(s, name string) string {
	if name == "kubectl skoala" {
		return s
	}
	return strings.ReplaceAll(s, "kubectl skoala", name)
}

func verbPath(c *cobra.Command) string {
	if c == nil || !c.HasParent() {
		return ""
	}
	root := c.Root()
	return strings.TrimSpace(strings.TrimPrefix(c.CommandPath(), root.CommandPath()))
}

// Main runs the command line and returns the exit code. It is the one place that prints an error. Every
// byte the verbs write to stdout and stderr goes through the redactor (redact.ScrubWriter), and so does the
// final error line and its hint. Cobra's own help and usage text (static text of this tool, where
// "user:password@tcp(...)" is a placeholder) is written to the streams as they are.
func Main(streams genericiooptions.IOStreams, args []string) int {
	raw := streams
	secrets := redact.ArgSecrets(args) // what the command line gives is masked wherever it shows
	streams.Out = redact.ScrubWriter(streams.Out, secrets)
	streams.ErrOut = redact.ScrubWriter(streams.ErrOut, secrets)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// A second Ctrl-C after the first one cancelled the work ends the process at once.
		<-ctx.Done()
		stop()
	}()
	args, insecureHint := helmPluginArgs(args)
	root := NewCmdSkoala(streams)
	if insecureHint {
		root.Annotations[insecureHintAnnotation] = helmsdk.InsecureFlagHint
	}
	return executeWith(ctx, raw, streams, root, args)
}

// insecureHintAnnotation on the root replaces a usage error's hint (helm lost an argument of the plugin).
const insecureHintAnnotation = "skoala.io/usage-hint"

// helmPluginArgs repairs the arguments helm 3 and 4 pass to a plugin after a bare
// --kube-insecure-skip-tls-verify (helmsdk.RepairPluginArgs). hint is true when the flag was set and the
// arguments could not be checked: a usage error then says how to write the flag.
func helmPluginArgs(args []string) (_ []string, hint bool) {
	name := os.Getenv("HELM_PLUGIN_NAME")
	if insecure, _ := strconv.ParseBool(os.Getenv("HELM_KUBEINSECURE_SKIP_TLS_VERIFY")); name == "" || !insecure {
		return args, false
	}
	parent := helmsdk.HelmParentArgs()
	if parent == nil {
		return args, true
	}
	repaired, _ := helmsdk.RepairPluginArgs(args, parent, name)
	return repaired, false
}

// execute runs root with args and maps the outcome onto the exit-code contract: 0 ok, 1 failure, 2 usage,
// 3 problems found, 124 timeout, 130 interrupted (an error that is context.Canceled once ctx is done).
func execute(ctx context.Context, streams genericiooptions.IOStreams, root *cobra.Command, args []string) int {
	return executeWith(ctx, streams, streams, root, args)
}

// executeWith is execute with cobra's own help and usage text written to raw (unredacted) streams.
func executeWith(ctx context.Context, raw, streams genericiooptions.IOStreams, root *cobra.Command, args []string) int {
	root.SetArgs(args)
	root.SetIn(streams.In)
	root.SetOut(raw.Out)
	root.SetErr(raw.ErrOut)
	c, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exit.OK
	}
	code := exit.CodeOf(err)
	if isCobraUsageError(err) {
		code = exit.Usage
		hint := cli.UsageHint(root.Annotations[cobra.CommandDisplayNameAnnotation], verbPath(c))
		if h := root.Annotations[insecureHintAnnotation]; h != "" {
			hint = h
		}
		err = exit.New(exit.Usage, err, hint)
	}
	if code == exit.Usage && exit.HintOf(err) == "" {
		err = exit.New(exit.Usage, err, cli.UsageHint(root.Annotations[cobra.CommandDisplayNameAnnotation], verbPath(c)))
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		fmt.Fprintln(streams.ErrOut, "error: interrupted")
		return exit.Interrupted
	}
	if !exit.IsSilent(err) {
		fmt.Fprintf(streams.ErrOut, "error: %s\n", exit.OneLine(redact.Error(err).Error()))
		if h := exit.HintOf(err); h != "" {
			fmt.Fprintf(streams.ErrOut, "hint: %s\n", exit.OneLine(redact.String(h)))
		}
	}
	return code
}

// isCobraUsageError recognises the argument errors cobra produces itself.
func isCobraUsageError(err error) bool {
	var e *exit.Error
	if errors.As(err, &e) {
		return false
	}
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "requires at most", "requires exactly", "invalid argument", "flag needs an argument", "invalid argument \""} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
