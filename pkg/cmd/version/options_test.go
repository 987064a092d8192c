package version

import (
	"testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/cli/clitest"
)

func TestValidate(t *testing.T) {
	cases := clitest.OutputCases(func(o *Options) *string { return &o.Output })
	clitest.RunValidate(t, NewOptions, cases)
}
