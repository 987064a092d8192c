// Package rollback implements 'kubectl skoala rollback'.
package rollback

import (
	"github.com/spf13/cobra"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
	"github.com/skoala-dev/kubectl-skoala/pkg/cmd/apply"
)

var example = templates.Examples(`
	# Undo the last upgrade run (the journal says what it changed): workspaces first, then the control plane
	kubectl skoala rollback -w workspace-1,workspace-2

	# What would it do? (the plan and the diff of values and manifests; nothing is changed)
	kubectl skoala rollback -w workspace-1,workspace-2 --dry-run

	# Undo an older run of the journal (see 'kubectl skoala status -o json': journal.runs)
	kubectl skoala rollback -w workspace-1 --run 20261202T010203Z-a1b2c3 --yes

	# One release to one revision
	kubectl skoala rollback --context workspace-1 --release skoala-init --to-revision 3

	# Restore a backup-values file at the chart version it names (Helm's history no longer holds the revision)
	kubectl skoala rollback --from-backup ~/.config/kubectl-skoala/backups/global_skoala-system_skoala_r1_skoala-0.28.1_20261127T090522Z.yaml`)

// NewCmdRollback returns the rollback command.
func NewCmdRollback(g *cli.Globals) *cobra.Command {
	o := NewOptions(g)
	cmd := &cobra.Command{
		Use:   "rollback",
		Short: "Undo the last upgrade of the fleet, or recover a release stuck pending",
		Long: `Undo the last upgrade run that has not been undone yet, as the journal (a ConfigMap in the control
plane's release namespace, written by every upgrade and rollback) recorded it: every release that run
changed returns to the revision it had before the run, workspaces first (--max-parallel at a time),
then the control plane. A
release the run did not reach is left alone. A release among the targets that is stuck pending-upgrade
or pending-rollback (a killed helm or plugin) goes back to its last deployed revision first, whatever the
journal says; one stuck pending-install with no deployed revision is uninstalled, after a confirmation
that names what goes, so that it can be installed again.

--run ID undoes an older run; --release R --context C --to-revision N rolls one release back;
--from-backup FILE restores a backup-values file at the chart version it names (when Helm's history,
10 revisions by default, no longer holds the revision).

The same discipline as upgrade: the plan, --dry-run with the values and manifest diff, a confirmation
(--yes skips it; without a terminal and without --yes nothing is changed), the per-release lock, a
backup of the current values before the first change, Helm's wait with a live view of the rollout, and
a verification that the components are ready and run the images of the revision rolled back to.

A rollback does not undo the CRDs an upgrade applied (Helm does not manage crds/), nor database schema
changes or data written by the newer version; the plan says so before the confirmation.`,
		Example: example,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Validate(cmd); err != nil {
				return err
			}
			cmd.SilenceUsage = true
			return o.Run(cli.RunContext(cmd))
		},
	}
	apply.AddFleetFlags(cmd, g, &o.Fleet, &o.Output, "Time allowed for each release's rollback (helm --wait --timeout)")
	fs := cmd.Flags()
	fs.StringVar(&o.RunID, "run", o.RunID, "Undo this upgrade run of the journal (default: the newest one not undone yet)")
	fs.IntVar(&o.ToRevision, "to-revision", o.ToRevision, "Roll the one release --release on --context back to this revision")
	fs.StringVar(&o.FromBackup, "from-backup", o.FromBackup, "Restore this backup-values file at the chart version it names (on the cluster and release it names)")
	fs.StringVar(&o.Repo, "repo", o.Repo, "Name or URL of the skoala repository in repositories.yaml, for --from-backup (default: found by URL, then by name)")
	fs.BoolVar(&o.Force, "force", o.Force, "Recover a release left pending by an operation no kubectl-skoala lock recorded, even though it may still be running")
	_ = cmd.MarkFlagFilename("from-backup", "yaml", "yml")
	cmd.Flags().BoolVar(&o.SkipUnreachable, "skip-unreachable", o.SkipUnreachable, "With --fleet kpanda, roll back the registered clusters that can be reached and name the others (by default such a run is refused)")
	apply.AddChangeFlags(cmd, &o.DryRun, "Print the plan and the diff of values and manifests, change nothing", &o.Yes, &o.BackupDir)
	apply.AddWaveFlags(cmd, &o.Waves)
	return cmd
}
