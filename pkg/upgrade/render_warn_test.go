package upgrade

import (
	"bytes"
	"strings"
	"testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/render"
)

func TestWritePlanOfADryRunPrintsTheReportWarnings(t *testing.T) {
	r := &Report{Outcome: OutcomeDryRun, Message: "nothing was changed", Releases: []ReleasePlan{},
		Warnings: []string{"could not refresh the index of skoala-release, using the cached one: 500"}}
	var b bytes.Buffer
	if err := r.WritePlan(&b, render.NewPalette(&b, false)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "warning: could not refresh the index of skoala-release") {
		t.Fatalf("the plan of a dry run hides the warning:\n%s", b.String())
	}
}
