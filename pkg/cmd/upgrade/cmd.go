// Package upgrade implements 'kubectl skoala upgrade'.
package upgrade

import (
	"github.com/spf13/cobra"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
	"github.com/skoala-dev/kubectl-skoala/pkg/cmd/apply"
	"github.com/skoala-dev/kubectl-skoala/pkg/upgrade"
)

var example = templates.Examples(`
	# Plan and run the upgrade of skoala (current context) and skoala-init on two workspace clusters
	# to the newest version in the repository; it asks before changing anything
	kubectl skoala upgrade -w workspace-1,workspace-2

	# What would change? (values and manifests, per resource; nothing is changed)
	kubectl skoala upgrade -w workspace-1 --version 0.57.2 --dry-run

	# The newest patch of the installed minor, without a prompt (CI)
	kubectl skoala upgrade -w workspace-1 --to-latest-patch --yes

	# Offline: the original-chart folders of the bundles, images from the local registry
	kubectl skoala upgrade -w workspace-1 --chart ./skoala/original-chart --chart ./skoala-init/original-chart --image-registry 10.16.23.145 --yes

	# First install of skoala, with the database of the product guide
	kubectl skoala upgrade --db-host mcamel-common-mysql-cluster-mysql-master.mcamel-system.svc.cluster.local --db-user skoala --db-password-file ./db-password --yes`)

// NewCmdUpgrade returns the upgrade command.
func NewCmdUpgrade(g *cli.Globals) *cobra.Command {
	o := NewOptions(g)
	cmd := &cobra.Command{
		Use:   "upgrade",
		Short: "Upgrade skoala and every skoala-init together, with backups, checks and rollback",
		Long: `Upgrade the skoala release on the control-plane cluster (the current context, or --context) and
the skoala-init release on every workspace cluster (-w, or --all-contexts) to one version: the newest
in the repository, --version, or with --to-latest-patch the newest patch of the installed minor.

It first prints the plan: from -> to per cluster and release, the image tags it sets (v<version>),
the values it changes, the steps in order and the manual steps the product needs for the version
range (the 0.19.0 DB migration; the CRDs of 0.35, 0.37 and 0.52.1, which it applies itself; the
gateway-api-admission Jobs, which it deletes). Then it runs the pre-upgrade checks (a failure stops
it unless --force), asks for confirmation (--yes skips it; without a terminal and without --yes
nothing is changed), backs up the values of every release it will touch (mode 0600 in
--backup-dir), and upgrades the releases in waves, control plane first and alone, each with Helm's
--atomic --wait (a failed rollout is rolled back) and --cleanup-on-fail, showing the rollout as it
happens and then checking that every component is ready and runs the new tags. The workspaces follow:
--canary first and alone, then the rest, --max-parallel at a time (default 1). The first failed
release stops every later release (--max-failures tolerates more; releases in flight finish), and the
report says what was and was not upgraded. --pause-after-canary ends the run after the canary;
--resume continues a paused, failed or killed run.

A release is upgraded with its own user-supplied values (the backup), minus a pinned ui.image.tag
(unless --ui-tag), plus -f/--set. A missing release is installed (skoala needs --db-dsn or --db-*).
A Lease in the namespace keeps two upgrades of a release from running at once. A release left
pending-* by an interrupted kubectl-skoala upgrade is resumed once its lock expires; any other
pending release is refused with the recovery steps. Passwords never appear in the output.

Offline: --chart takes the original-chart folder (or a .tgz) of an offline bundle instead of the
repository, and --image-registry sets global.imageRegistry (with a warning for every per-image
registry override in the saved values).

--dry-run renders the upgrade server-side and prints the unified diff of the values and of every
resource, and changes nothing.`,
		Example: example,
		Args:    resumeArg(o),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(cmd); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			cmd.SilenceUsage = true
			return o.Run(cli.RunContext(cmd))
		},
	}
	apply.AddFleetFlags(cmd, g, &o.Fleet, &o.Output, "Time allowed for each release's rollout (helm --wait --timeout)")
	fs := cmd.Flags()
	fs.StringVar(&o.Version, "version", o.Version, "Chart version to upgrade to (default: the newest stable version in the repository)")
	fs.BoolVar(&o.ToLatestPatch, "to-latest-patch", o.ToLatestPatch, "Upgrade each release to the newest patch of its installed minor")
	fs.StringArrayVar(&o.Charts, "chart", o.Charts, "Local chart (directory such as an offline bundle's original-chart, or .tgz) named skoala or skoala-init, instead of the repository (repeatable)")
	fs.StringVar(&o.ImageRegistry, "image-registry", o.ImageRegistry, "Set global.imageRegistry (offline: your registry)")
	fs.StringArrayVar(&o.Bundles, "bundle", o.Bundles, "Offline bundle <chart>_<version>.bundle.tar to upgrade from (its original-chart), after checking that the registry holds its images (repeatable)")
	fs.StringVar(&o.RegistryCAFile, "registry-ca-file", o.RegistryCAFile, "CA bundle of the image registry, for the image check of --bundle")
	fs.StringVar(&o.UITag, "ui-tag", o.UITag, "Pin ui.image.tag (default: drop a pinned one, the chart's own UI version applies)")
	fs.StringVar(&o.DB.DSN, "db-dsn", o.DB.DSN, "Database DSN of hive (user:password@tcp(host:port)/db?...) for an install or to replace it")
	fs.StringVar(&o.DB.Driver, "db-driver", o.DB.Driver, "Database driver of hive (mysql)")
	fs.StringVar(&o.DB.Host, "db-host", o.DB.Host, "Database host (builds the DSN as the product guide does)")
	fs.IntVar(&o.DB.Port, "db-port", o.DB.Port, "Database port")
	fs.StringVar(&o.DB.User, "db-user", o.DB.User, "Database user")
	fs.StringVar(&o.DB.Name, "db-name", o.DB.Name, "Database name")
	fs.StringVar(&o.DB.Password, "db-password", o.DB.Password, "Database password (prefer --db-password-file: a flag is visible in ps)")
	fs.StringVar(&o.DBPasswordFile, "db-password-file", o.DBPasswordFile, "File holding the database password")
	addValueFlags(fs, &o.Values)
	fs.BoolVar(&o.SkipUnreachable, "skip-unreachable", o.SkipUnreachable, "With --fleet kpanda, upgrade the registered clusters that can be reached and name the others in the plan (by default a run that would leave one behind is refused)")
	fs.BoolVar(&o.Install, "install", o.Install, "Install a release missing on the control plane or on a workspace named with -w (never with --all-contexts)")
	fs.BoolVar(&o.Atomic, "atomic", o.Atomic, "Roll a release back to its previous revision when its rollout fails")
	fs.BoolVar(&o.CleanupOnFail, "cleanup-on-fail", o.CleanupOnFail, "Delete the resources a failed upgrade created")
	fs.BoolVar(&o.Force, "force", o.Force, "Go on despite failed pre-upgrade checks, a downgrade or a mandatory stop")
	cli.AddRepoFlags(cmd, &o.Repo, &o.Refresh)
	_ = cmd.MarkFlagFilename("values", "yaml", "yml")
	apply.AddChangeFlags(cmd, &o.DryRun, "Render the upgrade server-side, print the diff of values and manifests, change nothing", &o.Yes, &o.BackupDir)
	apply.AddWaveFlags(cmd, &o.Waves)
	fs.StringVar(&o.Canary, "canary", o.Canary, "Upgrade this workspace context alone, after the control plane and verified, before any other workspace")
	fs.BoolVar(&o.PauseAfterCanary, "pause-after-canary", o.PauseAfterCanary, "End the run after the canary, recorded as paused in the journal (continue with --resume)")
	fs.StringVar(&o.Resume, "resume", o.Resume, "Continue a paused, failed or killed upgrade run of the journal (default: the newest one): only what is left, to the run's target version")
	fs.Lookup("resume").NoOptDefVal = upgrade.ResumeLatest
	return cmd
}

// resumeArg takes 'upgrade --resume RUN' as the run to resume, as every hint prints it: pflag gives a bare
// --resume its default (the newest resumable run) and leaves RUN an argument. Any other argument is refused.
func resumeArg(o *Options) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == 1 && cmd.Flags().Changed("resume") && o.Resume == upgrade.ResumeLatest {
			o.Resume = args[0]
			return nil
		}
		return cobra.NoArgs(cmd, args)
	}
}
