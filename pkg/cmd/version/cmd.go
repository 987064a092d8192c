// Package version implements 'kubectl skoala version'.
package version

import (
	"github.com/spf13/cobra"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
)

var example = templates.Examples(`
	# The plugin's version and the server version of the current context
	kubectl skoala version

	# The plugin's version only, without touching the network
	kubectl skoala version --client -o json`)

// NewCmdVersion returns the version command.
func NewCmdVersion(g *cli.Globals) *cobra.Command {
	o := NewOptions(g)
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "Print the plugin's version and, when a cluster is reachable, the server's",
		Long:    "Print the plugin's version (from git describe at build time) and, unless --client is given, the Kubernetes version of the current context's API server when it is reachable.",
		Example: example,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			cmd.SilenceUsage = true
			return o.Run(cli.RunContext(cmd))
		},
	}
	cmd.Flags().BoolVar(&o.ClientOnly, "client", o.ClientOnly, "Print the client version only (no network)")
	cli.AddOutputFlag(cmd, &o.Output)
	return cmd
}
