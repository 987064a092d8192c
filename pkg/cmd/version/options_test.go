package version

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
