package rollback

import (
	"bytes"
	"testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/golden"
	"github.com/skoala-dev/kubectl-skoala/pkg/inspect"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
	"github.com/skoala-dev/kubectl-skoala/pkg/rollback"
)

// executedReport is the report of a rollback of an upgrade run that ran: the workspace rolled back and
// verified, the control plane's rollback timed out, as Execute leaves it (issue 22: the golden of an
// executed rollback, written before the executor moved into pkg/change, so the move is proven not to
// change the output).
func executedReport() *rollback.Report {
	comps := []inspect.Component{{Kind: "Deployment", Name: "hive", Desired: 1, Ready: 1, State: "Running", Tag: "v0.28.1"}}
	return &rollback.Report{Schema: rollback.SchemaVersion, Namespace: "skoala-system", Mode: "run", Run: "20261206T070000Z-abcdef",
		RunSummary: "upgrade of 2026-12-06 07:00 by admin to 0.57.2", JournalRun: "20261206T071000Z-012345", Timeout: "5m0s",
		BackupDir: "/home/op/.kube/skoala/backups",
		Releases: []rollback.ReleasePlan{
			{Context: "workspace-1", Role: "workspace", Release: "skoala-init", Chart: "skoala-init", From: "0.57.2", FromRevision: 2, Status: "deployed",
				To: "0.28.1", ToRevision: 1, Action: rollback.ActionRollback, Steps: []string{"backup", "jobs", "helm rollback to 1", "verify"},
				Result: &rollback.Result{Outcome: rollback.OutcomeRolledBack, Revision: 3, Backup: "/home/op/.kube/skoala/backups/workspace-1-skoala-init-r2.yaml",
					Done: []string{"backup", "jobs", "helm", "verify"}, Components: comps, Duration: "41s"}},
			{Context: "global", Role: "control-plane", Release: "skoala", Chart: "skoala", From: "0.57.2", FromRevision: 4, Status: "deployed",
				To: "0.28.1", ToRevision: 3, Action: rollback.ActionRollback, Steps: []string{"backup", "helm rollback to 3", "verify"},
				Result: &rollback.Result{Outcome: rollback.OutcomeTimedOut, Revision: 5, Backup: "/home/op/.kube/skoala/backups/global-skoala-r4.yaml",
					Done: []string{"backup"}, Error: "context deadline exceeded; now revision 5 pending-rollback (skoala 0.28.1)",
					Hint: "see 'kubectl skoala status' and 'kubectl skoala doctor'; run the rollback again once the cause is fixed", Duration: "5m0s"}},
		},
		NotUndone: []string{"database schema changes and data written by the newer version are not reverted"},
		Outcome:   rollback.OutcomeTimedOut, Message: "global/skoala: context deadline exceeded; now revision 5 pending-rollback (skoala 0.28.1)",
		Hint:     "see 'kubectl skoala status' and 'kubectl skoala doctor'; run the rollback again once the cause is fixed",
		Warnings: []string{"the journal was not updated: conflict"}}
}

func TestExecutedRollbackGolden(t *testing.T) {
	rep := executedReport()
	var table, js, yml bytes.Buffer
	if err := (view{rep}).WriteTable(&table, render.NewPalette(&table, false)); err != nil {
		t.Fatal(err)
	}
	if err := (view{rep}).WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if err := (view{rep}).WriteYAML(&yml); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "executed.txt", table.Bytes())
	golden.Assert(t, "executed.json", js.Bytes())
	golden.Assert(t, "executed.yaml", yml.Bytes())
}
