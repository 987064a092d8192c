package status

import (
	"testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
	"github.com/skoala-dev/kubectl-skoala/pkg/cli/clitest"
)

func TestValidate(t *testing.T) {
	cases := clitest.OutputCases(func(o *Options) *string { return &o.Output })
	cases = append(cases, clitest.FleetCases(func(o *Options) *cli.FleetFlags { return &o.Fleet })...)
	clitest.RunValidate(t, NewOptions, cases)
}
