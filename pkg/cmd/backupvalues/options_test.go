package backupvalues

import (
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
)

func TestValidate(t *testing.T) {
	g := cli.NewGlobals(genericiooptions.NewTestIOStreamsDiscard())
	for _, c := range []struct {
		name string
		mod  func(o *Options)
		want string
	}{
		{"accepts the defaults", func(o *Options) {}, ""},
		{"rejects an unknown -o", func(o *Options) { o.Output = "xml" }, `unknown output format "xml" (want one of: table, json, yaml)`},
		{"rejects --all-contexts with --workspace-context", func(o *Options) { o.Fleet.AllContexts = true; o.Fleet.Workspaces = []string{"w"} }, "--all-contexts and --workspace-context are mutually exclusive"},
		{"rejects a --timeout that is not positive", func(o *Options) { o.Fleet.ClusterTimeout = 0 }, "--timeout must be positive"},
		{"rejects an empty --release", func(o *Options) { o.Fleet.SkoalaRelease = " " }, "--release and --init-release must not be empty"},
		{"rejects --list with --all", func(o *Options) { o.List = true; o.All = true }, "--list and --all/--redact are mutually exclusive"},
		{"rejects --list with --redact", func(o *Options) { o.List = true; o.Redact = true }, "--list and --all/--redact are mutually exclusive"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := NewOptions(g)
			c.mod(o)
			err := o.Validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != c.want {
				t.Fatalf("Validate() = %q, want %q", got, c.want)
			}
		})
	}
}
