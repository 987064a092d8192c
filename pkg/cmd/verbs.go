package cmd

import (
	"github.com/spf13/cobra"

	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
	"github.com/skoala-dev/kubectl-skoala/pkg/cmd/backupvalues"
	"github.com/skoala-dev/kubectl-skoala/pkg/cmd/bundle"
	"github.com/skoala-dev/kubectl-skoala/pkg/cmd/doctor"
	"github.com/skoala-dev/kubectl-skoala/pkg/cmd/images"
	"github.com/skoala-dev/kubectl-skoala/pkg/cmd/rollback"
	"github.com/skoala-dev/kubectl-skoala/pkg/cmd/status"
	"github.com/skoala-dev/kubectl-skoala/pkg/cmd/upgrade"
	"github.com/skoala-dev/kubectl-skoala/pkg/cmd/verify"
	"github.com/skoala-dev/kubectl-skoala/pkg/cmd/versions"
)

// verbs returns the verb commands. Each verb lives in its own package under pkg/cmd.
func verbs(g *cli.Globals) []*cobra.Command {
	return []*cobra.Command{
		doctor.NewCmdDoctor(g),
		status.NewCmdStatus(g),
		verify.NewCmdVerify(g),
		versions.NewCmdVersions(g),
		backupvalues.NewCmdBackupValues(g),
		upgrade.NewCmdUpgrade(g),
		rollback.NewCmdRollback(g),
		bundle.NewCmdBundle(g),
		images.NewCmdImages(g),
	}
}
