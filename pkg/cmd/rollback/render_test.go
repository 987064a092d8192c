package rollback

import (
	"strings"
	"testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/render"
	"github.com/skoala-dev/kubectl-skoala/pkg/rollback"
	"github.com/skoala-dev/kubectl-skoala/pkg/upgrade"
)

// The table flow prints the plan, then, once executed, the result: a blank line between them, as between
// upgrade's plan and its result.
func TestResultIsSetOffFromThePlan(t *testing.T) {
	rep := &rollback.Report{Schema: rollback.SchemaVersion, Namespace: "skoala-system", Mode: "run", Run: "r1", Outcome: upgrade.OutcomePlanned,
		Releases: []rollback.ReleasePlan{
			{Context: "workspace-1", Role: "workspace", Release: "skoala-init", Chart: "skoala-init", From: "0.57.2", FromRevision: 2, Status: "deployed", To: "0.28.1", ToRevision: 1, Action: rollback.ActionRollback},
			{Context: "global", Role: "control-plane", Release: "skoala", Chart: "skoala", From: "0.57.2", FromRevision: 2, Status: "deployed", To: "0.28.1", ToRevision: 1, Action: rollback.ActionRollback},
		},
		NotUndone: []string{"database schema changes and data written by the newer version are not reverted"}}
	var b strings.Builder
	p := render.NewPalette(&b, false)
	if err := (view{rep}).WriteTable(&b, p); err != nil {
		t.Fatal(err)
	}
	for i := range rep.Releases {
		rep.Releases[i].Result = &rollback.Result{Outcome: upgrade.OutcomeRolledBack, Revision: 3}
	}
	rep.Outcome, rep.Message = upgrade.OutcomeRolledBack, "2 release(s) rolled back and verified"
	if err := (view{rep}).WriteTable(&b, p); err != nil {
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
