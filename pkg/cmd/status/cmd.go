// Package status implements 'kubectl skoala status'.
package status

import (
	"github.com/spf13/cobra"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
)

var example = templates.Examples(`
	# The control plane (current context) and two workspace clusters
	kubectl skoala status --workspace-context workspace-1,workspace-2

	# Every context of the kubeconfig; download the repository index first
	kubectl skoala status --all-contexts --refresh

	# For scripts: JSON, and exit code 3 when an upgrade is available
	kubectl skoala status -w workspace-1 -o json --exit-code`)

// NewCmdStatus returns the status command.
func NewCmdStatus(g *cli.Globals) *cobra.Command {
	o := NewOptions(g)
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show what skoala runs on each cluster, its health and the versions the repository offers",
		Long: `Show, for the control-plane cluster (release skoala) and every workspace cluster (release
skoala-init), the installed chart version, revision and Helm status, each component's readiness
(pods and containers), restarts and image tags, the newest version and newest patch in the Helm
repository, and each workspace's version skew against the control plane.

Clusters are read concurrently, each within --timeout; an unreachable cluster is reported as such
and never stops the others. The deployed revision is read by label selector, so a release with a
long history costs no more than a new one.`,
		Example: example,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cli.RunContext(cmd))
		},
	}
	o.Fleet.Add(cmd, g)
	cli.AddOutputFlag(cmd, &o.Output)
	cmd.Flags().BoolVar(&o.Refresh, "refresh", o.Refresh, "Download the repository index before comparing (as 'helm repo update')")
	cmd.Flags().StringVar(&o.Repo, "repo", o.Repo, "Name or URL of the skoala repository in repositories.yaml, or an OCI registry path oci://HOST/PATH (default: found by URL, then by name)")
	cmd.Flags().BoolVar(&o.ExitCode, "exit-code", o.ExitCode, "Exit with code 3 when an upgrade is available")
	return cmd
}
