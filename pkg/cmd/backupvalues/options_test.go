package backupvalues

import (
	"testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
	"github.com/skoala-dev/kubectl-skoala/pkg/cli/clitest"
)

func TestValidate(t *testing.T) {
	cases := clitest.OutputCases(func(o *Options) *string { return &o.Output })
	cases = append(cases, clitest.FleetCases(func(o *Options) *cli.FleetFlags { return &o.Fleet })...)
	cases = append(cases, []clitest.ValidateCase[*Options]{
		{Name: "rejects --list with --all", Mod: func(o *Options) { o.List = true; o.All = true }, Want: "--list and --all/--redact are mutually exclusive"},
		{Name: "rejects --list with --redact", Mod: func(o *Options) { o.List = true; o.Redact = true }, Want: "--list and --all/--redact are mutually exclusive"},
	}...)
	clitest.RunValidate(t, NewOptions, cases)
}
