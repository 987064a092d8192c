package doctor

import (
	"testing"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
	"github.com/skoala-dev/kubectl-skoala/pkg/cli/clitest"
)

func TestValidate(t *testing.T) {
	cases := clitest.OutputCases(func(o *Options) *string { return &o.Output })
	cases = append(cases, clitest.FleetCases(func(o *Options) *cli.FleetFlags { return &o.Fleet })...)
	cases = append(cases, []clitest.ValidateCase[*Options]{
		{Name: "rejects a --check-timeout that is not positive", Mod: func(o *Options) { o.CheckTimeout = -time.Second }, Want: "--check-timeout must be positive"},
		{Name: "rejects a --to that is no version", Mod: func(o *Options) { o.To = "next" }, Want: `--to: "next" is not a semantic version (want MAJOR.MINOR.PATCH, e.g. 0.28.1)`},
		{Name: "rejects an unknown --category", Mod: func(o *Options) { o.Categories = []string{"dns"} }, Want: `--category "dns" is not a category (want one of: kubernetes, control-plane, database, workspaces, repository, enterprise-package)`},
		{Name: "rejects an empty --insight-namespace", Mod: func(o *Options) { o.InsightNamespace = "" }, Want: "--insight-namespace must not be empty"},
	}...)
	clitest.RunValidate(t, NewOptions, cases)
}
