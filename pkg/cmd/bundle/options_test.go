package bundle

import (
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
)

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(o *Options)
		want string
	}{
		{"the defaults are valid", func(o *Options) {}, ""},
		{"rejects an unknown output format", func(o *Options) { o.Output = "xml" }, `unknown output format "xml" (want one of: table, json, yaml)`},
		{"rejects a size that does not parse", func(o *Options) { o.MaxSize = "lots" }, `invalid --max-size "lots": want a size such as 100Mi or 500Ki`},
		{"rejects a size below the smallest bundle", func(o *Options) { o.MaxSize = "10Ki" }, "--max-size 10Ki is below the smallest bundle (64Ki)"},
		{"rejects a negative --since", func(o *Options) { o.Logs = true; o.Since = -time.Second }, "--since must not be negative"},
		{"rejects --tail below -1", func(o *Options) { o.Logs = true; o.Tail = -2 }, "--tail must be -1 (all lines) or more"},
		{"rejects --since without --logs", func(o *Options) { o.flags = map[string]string{"since": "1h"} }, "--since and --tail need --logs"},
		{"rejects an empty --insight-namespace", func(o *Options) { o.InsightNamespace = " " }, "--insight-namespace and --mysql-namespace must not be empty"},
		{"rejects a directory as --file", func(o *Options) { o.File = "out/" }, `--file "out/" is a directory: give a file name`},
		{"rejects --all-contexts with --workspace-context", func(o *Options) { o.Fleet.AllContexts = true; o.Fleet.Workspaces = []string{"w"} }, "--all-contexts and --workspace-context are mutually exclusive"},
		{"rejects a zero --timeout", func(o *Options) { o.Fleet.ClusterTimeout = 0 }, "--timeout must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := NewOptions(cli.NewGlobals(genericiooptions.NewTestIOStreamsDiscard()))
			tc.set(o)
			err := o.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if exit.CodeOf(err) != exit.Usage {
				t.Errorf("exit code %d, want %d", exit.CodeOf(err), exit.Usage)
			}
		})
	}
}

func TestDefaultFile(t *testing.T) {
	if got := DefaultFile(time.Date(2026, 12, 1, 20, 5, 9, 0, time.FixedZone("x", 3600))); got != "skoala-bundle-20261201T190509Z.zip" {
		t.Errorf("DefaultFile = %q", got)
	}
}
