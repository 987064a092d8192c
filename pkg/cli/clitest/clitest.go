// Package clitest holds what the tests of the pkg/cmd/<verb> packages share.
package clitest

import (
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
)

// ValidateCase is one row of a Validate table: a change to the defaults and the exact message ("" = ok).
type ValidateCase[O any] struct {
	Name string
	Mod  func(o O)
	Want string
}

// Validator is a verb's Options.
type Validator interface{ Validate() error }

// Globals returns globals over discarded streams.
func Globals() *cli.Globals { return cli.NewGlobals(genericiooptions.NewTestIOStreamsDiscard()) }

// RunValidate runs each case on fresh defaults (newOptions) and compares Validate's message exactly.
func RunValidate[O Validator](t *testing.T, newOptions func(*cli.Globals) O, cases []ValidateCase[O]) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			o := newOptions(Globals())
			c.Mod(o)
			got := ""
			if err := o.Validate(); err != nil {
				got = err.Error()
			}
			if got != c.Want {
				t.Fatalf("Validate() = %q, want %q", got, c.Want)
			}
		})
	}
}

// FleetCases are the fleet flags' rows, shared by every fleet verb.
func FleetCases[O any](fleet func(O) *cli.FleetFlags) []ValidateCase[O] {
	return []ValidateCase[O]{
		{"rejects --all-contexts with --workspace-context", func(o O) { f := fleet(o); f.AllContexts = true; f.Workspaces = []string{"w"} }, "--all-contexts and --workspace-context are mutually exclusive"},
		{"rejects a --timeout that is not positive", func(o O) { fleet(o).ClusterTimeout = 0 }, "--timeout must be positive"},
		{"rejects an empty --release", func(o O) { fleet(o).SkoalaRelease = " " }, "--release and --init-release must not be empty"},
		{"accepts --fleet kpanda with --dce-url and --dce-token-file", func(o O) {
			f := fleet(o)
			f.Fleet = "kpanda"
			f.DCEURL = "https://dce.example.com"
			f.DCETokenFile = "t"
		}, ""},
		{"rejects an unknown --fleet", func(o O) { fleet(o).Fleet = "rancher" }, `--fleet "rancher" is not known: the one fleet source is "kpanda"`},
		{"rejects --fleet with --workspace-context", func(o O) { f := fleet(o); f.Fleet = "kpanda"; f.Workspaces = []string{"w"} }, "--fleet and --workspace-context/--all-contexts are mutually exclusive"},
		{"rejects --dce-url without --dce-token-file", func(o O) { f := fleet(o); f.Fleet = "kpanda"; f.DCEURL = "https://dce.example.com" }, "--dce-url and --dce-token-file go together"},
		{"rejects --dce-url without --fleet kpanda", func(o O) { f := fleet(o); f.DCEURL = "https://dce.example.com"; f.DCETokenFile = "t" }, "--dce-url and --dce-token-file are for --fleet kpanda"},
		{"rejects plain http to another host", func(o O) {
			f := fleet(o)
			f.Fleet = "kpanda"
			f.DCEURL = "http://dce.example.com"
			f.DCETokenFile = "t"
		}, "--dce-url http://dce.example.com is plain http to a non-loopback address: use https"},
	}
}

// OutputCases are the -o rows, shared by every verb.
func OutputCases[O any](output func(O) *string) []ValidateCase[O] {
	return []ValidateCase[O]{
		{"accepts the defaults", func(O) {}, ""},
		{"rejects an unknown -o", func(o O) { *output(o) = "xml" }, `unknown output format "xml" (want one of: table, json, yaml)`},
	}
}
