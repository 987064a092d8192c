// Package images implements 'kubectl skoala images': the images of an offline upgrade (list, push, check,
// load-config).
package images

import (
	"github.com/spf13/cobra"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
)

var example = templates.Examples(`
	# Push the images of the offline bundles into the site's registry
	kubectl skoala images push --bundle skoala_0.57.2.bundle.tar --bundle skoala-init_0.57.2.bundle.tar \
	  --registry registry.site:5000 --registry-username admin --registry-password-stdin < password.txt

	# Does the registry hold every image the upgrade needs, for the nodes' architectures?
	kubectl skoala images check --bundle skoala_0.57.2.bundle.tar --bundle skoala-init_0.57.2.bundle.tar \
	  --image-registry registry.site:5000 -w workspace-1

	# The images version 0.57.2 renders for this fleet
	kubectl skoala images list --version 0.57.2 --image-registry registry.site:5000 -w workspace-1

	# A load-image.yaml for sites that keep charts-syncer
	kubectl skoala images load-config --bundle-dir ./bundles --registry registry.site:5000 --registry-username admin`)

// NewCmdImages returns the images command and its subcommands.
func NewCmdImages(g *cli.Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "images",
		Short: "Push, check and list the images of an offline upgrade",
		Long: `Move the images of charts-syncer offline bundles (<chart>_<version>.bundle.tar) into the site's
registry, check that the registry holds every image the upgrade target needs for the architectures of
the cluster nodes, list the images the target charts render for this fleet, and write a charts-syncer
load-image.yaml for sites that keep charts-syncer.`,
		Example: example,
		Args:    cobra.NoArgs,
	}
	cmd.AddCommand(newCmdPush(g), newCmdCheck(g), newCmdList(g), newCmdLoadConfig(g))
	return cmd
}

func run(c interface {
	Validate() error
	Run(cmd *cobra.Command) error
}) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		if err := c.Validate(); err != nil {
			return err
		}
		return c.Run(cmd)
	}
}

// addRegistryFlags registers the registry flags. A verb that also talks to the clusters (check) keeps
// kubectl's own --insecure-skip-tls-verify for them and gets --registry-insecure-skip-tls-verify.
func addRegistryFlags(cmd *cobra.Command, r *RegistryFlags, clusters bool) {
	fs := cmd.Flags()
	insecure := "insecure-skip-tls-verify"
	if clusters {
		insecure = "registry-" + insecure
	}
	fs.StringVar(&r.Username, "registry-username", r.Username, "Registry user (default: the docker config, DOCKER_CONFIG or ~/.docker/config.json)")
	fs.BoolVar(&r.PasswordStdin, "registry-password-stdin", r.PasswordStdin, "Read the registry password from stdin (with --registry-username)")
	fs.StringVar(&r.CAFile, "ca-file", r.CAFile, "Verify the registry's certificate with this CA bundle (added to the system roots)")
	fs.BoolVar(&r.Insecure, insecure, r.Insecure, "Do not verify the registry's certificate")
	fs.BoolVar(&r.PlainHTTP, "plain-http", r.PlainHTTP, "Talk plain HTTP to the registry")
}

func addTargetFlags(cmd *cobra.Command, g *cli.Globals, t *TargetFlags) {
	fs := cmd.Flags()
	t.Fleet.Add(cmd, g)
	cli.AddOutputFlag(cmd, &t.Output)
	fs.StringVar(&t.Version, "version", t.Version, "Target version, from the chart repository (default: the newest stable)")
	fs.StringSliceVar(&t.Charts, "chart", t.Charts, "Target chart folder or .tgz (skoala and/or skoala-init; repeatable)")
	fs.StringSliceVar(&t.Bundles, "bundle", t.Bundles, "Offline bundle <chart>_<version>.bundle.tar whose original-chart is the target (repeatable)")
	fs.StringVar(&t.ImageRegistry, "image-registry", t.ImageRegistry, "Render with global.imageRegistry set to this registry (as 'upgrade --image-registry')")
	fs.StringVar(&t.Repo, "repo", t.Repo, "Name or URL of the skoala repository in repositories.yaml")
	fs.BoolVar(&t.Refresh, "refresh", t.Refresh, "Download the repository index first (as 'helm repo update')")
}

func newCmdPush(g *cli.Globals) *cobra.Command {
	o := NewPushOptions(g)
	cmd := &cobra.Command{
		Use:   "push --bundle FILE... --registry HOST[:PORT][/PATH]",
		Short: "Push the images of offline bundles into a registry",
		Long: `Push every image of the offline bundles into the registry. Each image lands where the charts look
for it once global.imageRegistry is the registry: the source reference with its registry host replaced
(release.daocloud.io/skoala/hive:v1 -> HOST:PORT/skoala/hive:v1, or HOST:PORT/PATH/skoala/hive:v1 when
the registry is given with a path as global.imageRegistry often is); --repository names them as
charts-syncer's containerRepository does (HOST:PORT/<repository>/hive:v1). Images of one reference in
bundles of several platforms go up as one multi-platform index. Blobs the registry has are skipped, so
an interrupted push resumes. A tag that already holds another digest is a conflict: reported, left as it
is (exit 3) unless --overwrite.`,
		Args: cobra.NoArgs,
		RunE: run(o),
	}
	fs := cmd.Flags()
	fs.StringSliceVar(&o.Bundles, "bundle", o.Bundles, "Offline bundle <chart>_<version>.bundle.tar (repeatable)")
	fs.StringVar(&o.Registry, "registry", o.Registry, "Registry to push into, HOST[:PORT][/PATH] (as global.imageRegistry)")
	fs.StringVar(&o.Repository, "repository", o.Repository, "Repository prefix in the registry, as charts-syncer's containerRepository")
	fs.BoolVar(&o.Overwrite, "overwrite", o.Overwrite, "Replace tags that hold another digest")
	fs.IntVar(&o.Parallel, "parallel", o.Parallel, "Images pushed at once (layers of each go in parallel too)")
	cli.AddOutputFlag(cmd, &o.Output)
	addRegistryFlags(cmd, &o.Reg, false)
	return cmd
}

func newCmdCheck(g *cli.Globals) *cobra.Command {
	o := NewCheckOptions(g)
	cmd := &cobra.Command{
		Use:   "check [--version V | --chart DIR|TGZ... | --bundle FILE...] [--image-registry R]",
		Short: "Check that the registry holds every image the upgrade target needs",
		Long: `Render the target charts with each release's values (and global.imageRegistry when
--image-registry is given) and ask the registry for every image (manifest HEAD; the index's platforms or
the image's config) for each architecture of the clusters' nodes. Exit 0 when every image is there, 3
naming each missing one and the push command that fixes it.`,
		Args: cobra.NoArgs,
		RunE: run(o),
	}
	addTargetFlags(cmd, g, &o.Target)
	addRegistryFlags(cmd, &o.Reg, true)
	return cmd
}

func newCmdList(g *cli.Globals) *cobra.Command {
	o := NewListOptions(g)
	cmd := &cobra.Command{
		Use:   "list [--version V | --chart DIR|TGZ... | --bundle FILE...] [--image-registry R]",
		Short: "List the images the target charts render for this fleet",
		Long: `Render the target charts with each release's own values (and global.imageRegistry when
--image-registry is given) and list every container image, per release and workload.`,
		Args: cobra.NoArgs,
		RunE: run(o),
	}
	addTargetFlags(cmd, g, &o.Target)
	return cmd
}

func newCmdLoadConfig(g *cli.Globals) *cobra.Command {
	o := NewLoadConfigOptions(g)
	cmd := &cobra.Command{
		Use:   "load-config --bundle-dir DIR --registry HOST[:PORT]",
		Short: "Write a charts-syncer load-image.yaml for the bundles",
		Long: `Write the load-image.yaml charts-syncer reads to load offline bundles into a registry (and a chart
repository). No password is written: charts-syncer reads them from TARGET_CONTAINERS_AUTH_PASSWORD and
TARGET_AUTH_PASSWORD.`,
		Args: cobra.NoArgs,
		RunE: run(o),
	}
	fs := cmd.Flags()
	fs.StringVar(&o.In.BundleDir, "bundle-dir", o.In.BundleDir, "Folder holding the <chart>_<version>.bundle.tar files")
	fs.StringVar(&o.In.Registry, "registry", o.In.Registry, "Registry the images go to, HOST[:PORT]")
	fs.StringVar(&o.In.Repository, "repository", o.In.Repository, "Repository prefix in the registry (containerRepository)")
	fs.StringVar(&o.In.RegistryUser, "registry-username", o.In.RegistryUser, "Registry user (its password: TARGET_CONTAINERS_AUTH_PASSWORD)")
	fs.StringVar(&o.In.RepoKind, "chart-repo-kind", o.In.RepoKind, "Chart repository kind: HELM, CHARTMUSEUM, HARBOR, OCI, LOCAL or JFROG (default: charts not loaded)")
	fs.StringVar(&o.In.RepoURL, "chart-repo-url", o.In.RepoURL, "Chart repository URL")
	fs.StringVar(&o.In.RepoPath, "chart-repo-path", o.In.RepoPath, "Chart folder (kind LOCAL)")
	fs.StringVar(&o.In.RepoUser, "chart-repo-username", o.In.RepoUser, "Chart repository user (its password: TARGET_AUTH_PASSWORD)")
	fs.StringVarP(&o.File, "output-file", "f", o.File, "Write to this file instead of stdout")
	return cmd
}
