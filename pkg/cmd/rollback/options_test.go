package rollback

import (
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
)

// TestValidate is the table of rollback's flag conflicts, with their exact messages.
func TestValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		set  func(o *Options)
		want string
	}{
		{"the defaults: undo the last run", func(*Options) {}, ""},
		{"--to-revision alone", func(o *Options) { o.ToRevision = 3 }, ""},
		{"--from-backup alone", func(o *Options) { o.FromBackup = "b.yaml" }, ""},
		{"--from-backup with --repo", func(o *Options) { o.FromBackup, o.Repo = "b.yaml", "https://charts.example" }, ""},
		{"a negative revision", func(o *Options) { o.ToRevision = -1 }, "--to-revision must be a positive revision"},
		{"--from-backup and --to-revision", func(o *Options) { o.FromBackup, o.ToRevision = "b.yaml", 2 },
			"--from-backup and --to-revision are mutually exclusive"},
		{"--run and --to-revision", func(o *Options) { o.RunID, o.ToRevision = "r1", 2 },
			"--run and --to-revision/--from-backup are mutually exclusive"},
		{"--run and --from-backup", func(o *Options) { o.RunID, o.FromBackup = "r1", "b.yaml" },
			"--run and --to-revision/--from-backup are mutually exclusive"},
		{"--to-revision with -w", func(o *Options) { o.ToRevision, o.Fleet.Workspaces = 2, []string{"ws"} },
			"--to-revision rolls back one release (--release on --context): it takes no --workspace-context or --all-contexts"},
		{"--from-backup with --all-contexts", func(o *Options) { o.FromBackup, o.Fleet.AllContexts = "b.yaml", true },
			"--from-backup restores the release and cluster the backup names: it takes no --workspace-context or --all-contexts"},
		{"--repo without --from-backup", func(o *Options) { o.Repo = "https://charts.example" },
			"--repo is for --from-backup only (a rollback takes its revisions from Helm's history)"},
		{"a bad -o", func(o *Options) { o.Output = "xml" }, `unknown output format "xml" (want one of: table, json, yaml)`},
		{"--all-contexts with -w", func(o *Options) { o.Fleet.AllContexts, o.Fleet.Workspaces = true, []string{"ws"} },
			"--all-contexts and --workspace-context are mutually exclusive"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := NewOptions(cli.NewGlobals(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &strings.Builder{}, ErrOut: &strings.Builder{}}))
			c.set(o)
			err := o.Validate(nil)
			if c.want == "" {
				if err != nil {
					t.Fatalf("err %v, want none", err)
				}
				return
			}
			if err == nil || err.Error() != c.want || exit.CodeOf(err) != exit.Usage {
				t.Fatalf("err %v (exit %d), want usage error %q", err, exit.CodeOf(err), c.want)
			}
		})
	}
}
