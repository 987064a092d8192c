// Package bundle implements 'kubectl skoala bundle'.
package bundle

import (
	"github.com/spf13/cobra"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
)

var example = templates.Examples(`
	# One support bundle of the control plane (current context) and two workspaces
	kubectl skoala bundle -w workspace-1,workspace-2

	# With the containers' logs of the last 2 hours, at most 200 lines each, the archive at most 20 MiB
	kubectl skoala bundle -w workspace-1 --logs --since 2h --tail 200 --max-size 20Mi

	# To a file of your choice (never overwritten)
	kubectl skoala bundle --all-contexts -f ticket-4711.zip`)

// NewCmdBundle returns the bundle command.
func NewCmdBundle(g *cli.Globals) *cobra.Command {
	o := NewOptions(g)
	cmd := &cobra.Command{
		Use:   "bundle [-f FILE]",
		Short: "Write one redacted support bundle (a zip) of the control plane and the workspaces",
		Long: `Write one zip archive for a support ticket: at the top doctor.json and status.json of the fleet
(the same reports as 'doctor -o json' and 'status -o json'), the tool's version, the flags used and
manifest.json, which lists every file collected and every part that is missing, with the reason
(forbidden, timed out, unreachable, over the size bound, not present); then one folder per cluster
with the skoala (or skoala-init) release's status, history, the user-supplied values of the last
revisions and chart metadata, the objects of the release namespace (Deployments, ReplicaSets, Pods,
Jobs, Services, Events, PVCs, ConfigMaps, ServiceMonitors, the tool's Leases), nodes, the Kubernetes
version, the Contour, Gateway API and Higress CRDs' versions, common-mysql's StatefulSet on the
control plane and insight-agent's release on the workspaces. With --logs, the logs of every
container (the previous container's too), within --since and --tail.

Secrets appear by name, type and key names only; values, ConfigMaps and logs pass through the
redactor (DSN passwords, password-like keys, tokens, registry and URL credentials). No option turns
redaction off. The archive stays within --max-size: the largest logs are cut first, and the cut is
recorded in manifest.json. It is written to a temporary file (mode 0600) and renamed, and never
overwrites a file.

Clusters are read concurrently, each within --timeout. A cluster that is unreachable, a part that is
forbidden or that timed out still yields a bundle, with the gap explained, and exit code 3; a part
that does not exist there (no insight-agent, no ServiceMonitor API, no common-mysql) is noted and is
not a gap.`,
		Example: example,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Complete(cmd)
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cli.RunContext(cmd))
		},
	}
	o.Fleet.Add(cmd, g)
	cli.AddOutputFlag(cmd, &o.Output)
	fs := cmd.Flags()
	fs.StringVarP(&o.File, "file", "f", o.File, "Archive to write (default skoala-bundle-<UTC time>.zip in the current directory; never overwritten)")
	fs.BoolVar(&o.Logs, "logs", o.Logs, "Collect the logs of every container of the release namespace's pods (and the previous container's)")
	fs.DurationVar(&o.Since, "since", o.Since, "With --logs: only the logs newer than this")
	fs.Int64Var(&o.Tail, "tail", o.Tail, "With --logs: only the last lines of each log (-1: all)")
	fs.StringVar(&o.MaxSize, "max-size", o.MaxSize, "Bound of the archive's size (the largest logs are cut first), e.g. 100Mi, 500Ki")
	fs.StringVar(&o.InsightNamespace, "insight-namespace", o.InsightNamespace, "Namespace of insight-agent on the workspaces")
	fs.StringVar(&o.MySQLNamespace, "mysql-namespace", o.MySQLNamespace, "Namespace of common-mysql on the control plane")
	_ = cmd.MarkFlagFilename("file", "zip")
	return cmd
}
