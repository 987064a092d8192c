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
		{"rejects a --check-timeout that is not positive", func(o *Options) { o.CheckTimeout = -time.Second }, "--check-timeout must be positive"},
		{"rejects a --to that is no version", func(o *Options) { o.To = "next" }, `--to: "next" is not a semantic version (want MAJOR.MINOR.PATCH, e.g. 0.28.1)`},
		{"rejects an unknown --category", func(o *Options) { o.Categories = []string{"dns"} }, `--category "dns" is not a category (want one of: kubernetes, control-plane, database, workspaces, repository, enterprise-package)`},
		{"rejects an empty --insight-namespace", func(o *Options) { o.InsightNamespace = "" }, "--insight-namespace must not be empty"},
	}...)
	clitest.RunValidate(t, NewOptions, cases)
}
