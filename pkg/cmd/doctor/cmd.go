// Package doctor implements 'kubectl skoala doctor'.
package doctor

import (
	"github.com/spf13/cobra"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
	"github.com/skoala-dev/kubectl-skoala/pkg/doctor"
)

var example = templates.Examples(`
	# Check the control plane (current context) and two workspace clusters
	kubectl skoala doctor -w workspace-1,workspace-2

	# Before an upgrade to 0.57.2: the target's Kubernetes range, the upgrade path, what blocks helm
	kubectl skoala doctor --all-contexts --to 0.57.2

	# Before the first install: namespaces, common-mysql, the database, the repository, insight-agent
	kubectl skoala doctor --pre -w workspace-1 --db --db-dsn 'skoala:<password>@tcp(127.0.0.1:3306)/skoala'

	# Also log in to the database with the release's DSN and check its tables
	kubectl skoala doctor --db

	# For scripts: JSON, and exit code 3 on warnings too
	kubectl skoala doctor -w workspace-1 -o json --strict`)

// NewCmdDoctor returns the doctor command.
func NewCmdDoctor(g *cli.Globals) *cobra.Command {
	o := NewOptions(g)
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the control plane, the workspaces, the database and the repository, and say how to fix what is wrong",
		Long: `Run a catalogue of checks against the control-plane cluster (release skoala) and every workspace
cluster (release skoala-init), and print, per category, one line per check with its verdict (ok, warn,
fail, skip) and, for every warning and failure, the cause and the fix.

Categories, in this order: ` + categories() + `.

Kubernetes: each context reachable, its version inside the range the installed or target skoala
supports, and the permissions doctor and upgrade need (a denied permission skips the checks that need
it). Control plane: namespace, release deployed (a pending or failed release is a failure, with the
recovery steps), hive, sesame and skoala-ui ready (which container crash-loops or cannot pull its image,
and why), image tags, pinned *.image.tag values, image registries. Database: the DSN of
hive.configMap.database[0].dsn parses, common-mysql is ready; with --db doctor logs in and checks that
database skoala and tables api, book and registry exist. Workspaces: skoala-init deployed and ready,
its version against the control plane's, insight-agent installed (before skoala-init, or its
ServiceMonitors are missing), leftover gateway-api-admission Jobs. Repository: configured, its index
cached and fresh, the installed versions in it, the newest version, the upgrade path and its mandatory
stops. Enterprise package (--manifest): the installer manifest enables skoala at a version the
repository has.

Checks of a cluster run concurrently, each within --check-timeout; each cluster within --timeout
(clusters are checked together, so --timeout also bounds the run).
Passwords never appear in the output. A repository that cannot be read (an offline site) is a warning,
never a failure. Exit code 3 when a check failed (with --strict, also when one warned).`,
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
	fs.BoolVar(&o.Strict, "strict", o.Strict, "Exit with code 3 when a check warns, not only when one fails")
	fs.BoolVar(&o.Pre, "pre", o.Pre, "Check what must hold before the first install (the releases are not required)")
	fs.StringVar(&o.To, "to", o.To, "Check before an upgrade to this version (the target's Kubernetes range, the upgrade path, what blocks helm)")
	fs.StringVar(&o.ImageRegistry, "image-registry", o.ImageRegistry, "With --to: check that this registry (global.imageRegistry) holds every image of the target for the nodes' architectures")
	fs.StringVar(&o.RegistryCAFile, "registry-ca-file", o.RegistryCAFile, "CA bundle of the --image-registry (credentials: the docker config)")
	fs.BoolVar(&o.DB, "db", o.DB, "Log in to the database with the DSN's credentials and check database skoala and its tables")
	fs.StringVar(&o.DBDSN, "db-dsn", o.DBDSN, "DSN to use instead of the release's (go-sql-driver syntax; user:password@tcp(host:port)/skoala); or set "+DSNEnv+" to keep the password off the command line")
	cli.AddRepoFlags(cmd, &o.Repo, &o.Refresh)
	fs.StringVar(&o.Manifest, "manifest", o.Manifest, "Check this enterprise installer manifest (manifest.yaml) too")
	fs.StringSliceVar(&o.Categories, "category", o.Categories, "Run only these categories: "+categories())
	fs.DurationVar(&o.CheckTimeout, "check-timeout", o.CheckTimeout, "Time allowed for each check")
	fs.StringVar(&o.InsightNamespace, "insight-namespace", o.InsightNamespace, "Namespace of insight-agent on the workspaces")
	_ = cmd.RegisterFlagCompletionFunc("category", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, c := range doctor.Categories {
			out = append(out, string(c))
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.MarkFlagFilename("manifest", "yaml", "yml")
	return cmd
}

func categories() string {
	s := ""
	for i, c := range doctor.Categories {
		if i > 0 {
			s += ", "
		}
		s += string(c)
	}
	return s
}
