package rollback

import (
	"strings"
	"testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/render"
)

// The table flow prints the plan, then, once executed, the result: a blank line between them, as between
// upgrade's plan and its result.
func TestResultIsSetOffFromThePlan(t *testing.T) {
	rep, err := Plan(cfg, fleetState())
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	p := render.NewPalette(&b, false)
	if err := rep.WriteTable(&b, p); err != nil {
		t.Fatal(err)
	}
	for i := range rep.Releases {
		rep.Releases[i].Result = &Result{Outcome: OutcomeRolledBack, Revision: 3}
	}
	rep.Outcome, rep.Message = OutcomeRolledBack, "2 release(s) rolled back and verified"
	if err := rep.WriteTable(&b, p); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "are not reverted\n\nRollback result\n") {
		t.Errorf("no blank line between the plan and the result:\n%s", out)
	}
	if strings.Contains(out, "\n\n\n") {
		t.Errorf("two blank lines in a row:\n%s", out)
	}
}
