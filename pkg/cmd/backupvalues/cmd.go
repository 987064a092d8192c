// Package backupvalues implements 'kubectl skoala backup-values'.
package backupvalues

import (
	"github.com/spf13/cobra"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
)

var example = templates.Examples(`
	# Back up the values of skoala (current context) and of skoala-init on two workspace clusters
	kubectl skoala backup-values -w workspace-1,workspace-2

	# Also the computed values (chart defaults included), and a copy safe to share
	kubectl skoala backup-values --all --redact --dir ./backups

	# What backups are there?
	kubectl skoala backup-values --list

	# Restore one: the files are valid input for helm
	helm upgrade skoala skoala-release/skoala -n skoala-system --version 0.28.1 -f <file>`)

// NewCmdBackupValues returns the backup-values command.
func NewCmdBackupValues(g *cli.Globals) *cobra.Command {
	o := NewOptions(g)
	cmd := &cobra.Command{
		Use:   "backup-values",
		Short: "Back up the values of skoala and skoala-init to files, or list the backups",
		Long: `Write the user-supplied values of the skoala release on the control-plane cluster and of the
skoala-init release on every workspace cluster to files in --dir, one per release, named by cluster,
namespace, release, revision, chart version and UTC time. With --all the computed values (chart
defaults included) are written too.

Every file starts with a header of YAML comments (cluster, release, revision, chart, version, time)
and is valid input for 'helm upgrade -f'. The files hold secrets (the database DSN password): they
are created with mode 0600 in a directory of mode 0700, written to a temporary file, synced and
linked into place, and an existing backup is never overwritten. --redact also writes a copy with
every DSN password and every key named like password, secret or token masked, safe to share.

--list shows the backups in --dir.`,
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
	o.Fleet.Add(cmd, g)
	cli.AddOutputFlag(cmd, &o.Output)
	cmd.Flags().StringVar(&o.Dir, "dir", o.Dir, "Directory of the backups (default: <user config dir>/kubectl-skoala/backups)")
	cmd.Flags().BoolVar(&o.All, "all", o.All, "Also write the computed values (as 'helm get values --all')")
	cmd.Flags().BoolVar(&o.Redact, "redact", o.Redact, "Also write a copy with passwords, secrets and tokens masked, safe to share")
	cmd.Flags().BoolVar(&o.List, "list", o.List, "List the backups in --dir instead of writing new ones")
	_ = cmd.MarkFlagDirname("dir")
	return cmd
}
