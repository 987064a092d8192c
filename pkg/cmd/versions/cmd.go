// Package versions implements 'kubectl skoala versions'.
package versions

import (
	"github.com/spf13/cobra"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
)

var example = templates.Examples(`
	# Versions of both charts, newest first, with the installed ones marked
	kubectl skoala versions -w workspace-1

	# skoala-init only, including pre-releases, after downloading the index
	kubectl skoala versions skoala-init --all --refresh`)

// NewCmdVersions returns the versions command.
func NewCmdVersions(g *cli.Globals) *cobra.Command {
	o := NewOptions(g)
	cmd := &cobra.Command{
		Use:   "versions [skoala|skoala-init]",
		Short: "List the versions the Helm repository offers, newest first, marking the installed ones",
		Long: `List the versions of the skoala and skoala-init charts in the skoala Helm repository (found in
repositories.yaml by URL, then by name), newest first in semver order (never index order: patch
releases of older minors are published after newer minors), with app version and creation date,
marking the versions installed on the control-plane and workspace clusters. Pre-releases are
listed with --all.`,
		Example:   example,
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: []string{"skoala", "skoala-init"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cli.RunContext(cmd))
		},
	}
	o.Fleet.Add(cmd, g)
	cli.AddOutputFlag(cmd, &o.Output)
	cmd.Flags().BoolVar(&o.All, "all", o.All, "Include pre-release versions")
	cmd.Flags().BoolVar(&o.Refresh, "refresh", o.Refresh, "Download the repository index first (as 'helm repo update')")
	cmd.Flags().StringVar(&o.Repo, "repo", o.Repo, "Name or URL of the skoala repository in repositories.yaml, or an OCI registry path oci://HOST/PATH")
	cmd.Flags().BoolVar(&o.Offline, "no-clusters", o.Offline, "Do not read the clusters (no installed marks)")
	return cmd
}
