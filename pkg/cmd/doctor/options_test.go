package doctor

import (
	"testing"
	"time"

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
		{"rejects a --check-timeout that is not positive", func(o *Options) { o.CheckTimeout = -time.Second }, "--check-timeout must be positive"},
		{"rejects a --to that is no version", func(o *Options) { o.To = "next" }, `--to: "next" is not a semantic version (want MAJOR.MINOR.PATCH, e.g. 0.28.1)`},
		{"rejects an unknown --category", func(o *Options) { o.Categories = []string{"dns"} }, `--category "dns" is not a category (want one of: kubernetes, control-plane, database, workspaces, repository, enterprise-package)`},
		{"rejects an empty --insight-namespace", func(o *Options) { o.InsightNamespace = "" }, "--insight-namespace must not be empty"},
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
