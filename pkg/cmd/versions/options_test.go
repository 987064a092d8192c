package versions

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

func TestComplete(t *testing.T) {
	o := NewOptions(clitest.Globals())
	if err := o.Complete([]string{"skoala-init"}); err != nil || len(o.Charts) != 1 || o.Charts[0] != "skoala-init" {
		t.Fatalf("Complete(skoala-init) = %v, charts %v", err, o.Charts)
	}
	if err := o.Complete([]string{"nacos"}); err == nil || err.Error() != `unknown chart "nacos": want skoala or skoala-init` {
		t.Fatalf("Complete(nacos) = %v", err)
	}
}
