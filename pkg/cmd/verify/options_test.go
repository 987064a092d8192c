package verify

import (
	"testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
	"github.com/skoala-dev/kubectl-skoala/pkg/cli/clitest"
)

func TestValidate(t *testing.T) {
	cases := clitest.OutputCases(func(o *Options) *string { return &o.Output })
	cases = append(cases, clitest.FleetCases(func(o *Options) *cli.FleetFlags { return &o.Fleet })...)
	cases = append(cases, clitest.ValidateCase[*Options]{Name: "an --ignore that is not a JSON pointer",
		Mod:  func(o *Options) { o.Ignore = []string{"spec/replicas"} },
		Want: `--ignore "spec/replicas": want a JSON pointer such as /spec/replicas (or KIND/NAME:/spec/replicas)`})
	clitest.RunValidate(t, NewOptions, cases)
}
