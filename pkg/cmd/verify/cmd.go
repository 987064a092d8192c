// Package verify implements 'kubectl skoala verify'.
package verify

import (
	"github.com/spf13/cobra"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
)

var example = templates.Examples(`
	# Is what runs on the control plane and a workspace what was installed?
	kubectl skoala verify -w workspace-1

	# Leave a field out of the comparison (for every object, or for one)
	kubectl skoala verify --ignore /metadata/annotations/deployment.kubernetes.io~1revision --ignore Deployment/hive:/spec/replicas

	# Also verify the charts' provenance (.prov files) with a keyring
	kubectl skoala verify --keyring ~/.gnupg/pubring.gpg

	# For scripts: JSON, exit code 3 when something differs
	kubectl skoala verify --all-contexts -o json`)

// NewCmdVerify returns the verify command.
func NewCmdVerify(g *cli.Globals) *cobra.Command {
	o := NewOptions(g)
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Compare what runs on each cluster with what its release installed",
		Long: `Compare, for the control-plane cluster (release skoala) and every workspace cluster (release
skoala-init), what runs with what the release installed: each object of the release's manifest with the
live object, field by field over the fields the chart sets (JSON-pointer paths, the chart's value and the
live value); the objects the manifest has and the cluster lacks, and those the release owns that its
manifest lacks; each CRD file of the installed chart with the live CRD; the size of the newest release
record against the API server's 1 MiB limit; the image each container runs and its digest; and, with
--keyring, the chart's provenance.

Fields that controllers own are not compared: status, metadata.managedFields and the other fields the API
server keeps, the replicas of a workload an HPA scales, and the defaults the API server adds (only the
fields the chart sets are compared). --ignore leaves more out. A Secret's values are compared by digest
and never shown.

verify changes nothing and needs read rights only: what it may not read is listed as skipped, with the
right that is missing. It exits with code 3 when something differs.`,
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
	fs := cmd.Flags()
	fs.StringArrayVar(&o.Ignore, "ignore", o.Ignore, "Leave a field out of the drift comparison: a JSON pointer (/spec/replicas), or KIND/NAME:POINTER for one object (repeatable)")
	fs.StringVar(&o.Keyring, "keyring", o.Keyring, "Verify the provenance (.prov) of each installed chart with this public keyring, as 'helm verify' does")
	fs.StringVar(&o.Repo, "repo", o.Repo, "Name or URL of the skoala repository in repositories.yaml, where the installed charts (their CRD files and .prov) are read (default: found by URL, then by name)")
	fs.StringVar(&o.RegistryCAFile, "registry-ca-file", o.RegistryCAFile, "CA bundle of the image registries, to read the digests of the running images (credentials: the docker config)")
	fs.BoolVar(&o.NoImages, "no-images", o.NoImages, "Do not ask the image registries for the digests of the running images (the images the chart renders are still compared with the running ones)")
	return cmd
}
