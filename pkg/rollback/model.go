// Package rollback implements 'kubectl skoala rollback': the way back for a fleet after an upgrade run,
// and for a release stuck pending-*. Gather reads the clusters and the journal (pkg/journal), Plan
// (pure) decides per release what to do, Execute does it with the discipline of 'upgrade': the
// per-release lock, a backup of the current values before the first change, Helm's wait with a live
// view of the rollout, a verification that the components are ready and run the images of the revision
// rolled back to, the journal written before the first change and after each release.
package rollback

import (
	"github.com/skoala-dev/kubectl-skoala/pkg/change"
	"github.com/skoala-dev/kubectl-skoala/pkg/inspect"
)

// SchemaVersion is the version of the JSON/YAML schema of the rollback report.
const SchemaVersion = "skoala.rollback/v1"

// Actions of a release.
const (
	// ActionRollback returns a release to the revision it had before the run (or --to-revision).
	ActionRollback = "rollback"
	// ActionRecover returns a release stuck pending-upgrade or pending-rollback to its deployed revision.
	ActionRecover = "recover"
	// ActionUninstall uninstalls a release stuck pending-install that has no deployed revision.
	ActionUninstall = "uninstall"
	// ActionRestore upgrades a release to the chart version and values of a backup-values file.
	ActionRestore = "restore"
	// ActionNone leaves a release alone (the run did not change it, or it is already back).
	ActionNone = "none"
	// ActionRefused is a release that cannot be rolled back now (the reason and hint say why).
	ActionRefused = "refused"
)

// Outcomes of the run and of each release: the engine's (pkg/change), one spelling and one exit code
// for every verb (see pkg/cmd/apply).
const (
	OutcomePlanned     = change.OutcomePlanned
	OutcomeDryRun      = change.OutcomeDryRun
	OutcomeNothing     = change.OutcomeNothing
	OutcomeRefused     = change.OutcomeRefused
	OutcomeCancelled   = change.OutcomeCancelled
	OutcomeRolledBack  = change.OutcomeRolledBack
	OutcomeRecovered   = change.OutcomeRecovered
	OutcomeUninstalled = change.OutcomeUninstalled
	OutcomeRestored    = change.OutcomeRestored
	OutcomeFailed      = change.OutcomeFailed
	OutcomeTimedOut    = change.OutcomeTimedOut
	OutcomeInterrupted = change.OutcomeInterrupted
	OutcomeNotStarted  = change.OutcomeNotStarted
	OutcomeLeftAlone   = change.OutcomeLeftAlone
)

// Report is the plan and, once executed, the result of 'rollback'.
type Report struct {
	Schema    string `json:"schema"`
	Namespace string `json:"namespace"`
	// Mode is "run" (undo an upgrade run of the journal), "revision" (--to-revision) or "backup"
	// (--from-backup).
	Mode string `json:"mode"`
	// Run is the upgrade run undone ("" when none); RunSummary its journal line.
	Run        string `json:"run,omitempty"`
	RunSummary string `json:"runSummary,omitempty"`
	// JournalRun is this rollback's own entry of the journal ("" when it was not written).
	JournalRun string        `json:"journalRun,omitempty"`
	DryRun     bool          `json:"dryRun"`
	Timeout    string        `json:"timeout"`
	BackupDir  string        `json:"backupDir"`
	Releases   []ReleasePlan `json:"releases"`
	// NotUndone is what a rollback does not undo (said before the confirmation).
	NotUndone []string `json:"notUndone,omitempty"`
	Outcome   string   `json:"outcome"`
	Message   string   `json:"message,omitempty"`
	Hint      string   `json:"hint,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`
}

// ReleasePlan is one release of the plan and what became of it.
type ReleasePlan struct {
	Context string `json:"context"`
	Role    string `json:"role"`
	Release string `json:"release"`
	Chart   string `json:"chart"`
	// From and FromRevision are the release now (its newest revision), Status Helm's status of it.
	From         string `json:"from,omitempty"`
	FromRevision int    `json:"fromRevision,omitempty"`
	Status       string `json:"status"`
	// To and ToRevision are where it goes (ToRevision 0: a new revision of a backup, or an uninstall).
	To         string `json:"to,omitempty"`
	ToRevision int    `json:"toRevision,omitempty"`
	Action     string `json:"action"`
	Reason     string `json:"reason,omitempty"`
	Hint       string `json:"hint,omitempty"`
	// Steps are what Execute does, in order; Removes the objects an uninstall deletes.
	Steps   []string          `json:"steps,omitempty"`
	Removes []string          `json:"removes,omitempty"`
	Diff    []change.FileDiff `json:"diff,omitempty"`
	Result  *Result           `json:"result,omitempty"`
}

// Result is what happened to one release.
type Result struct {
	Outcome    string              `json:"outcome"`
	Revision   int                 `json:"revision,omitempty"`
	Backup     string              `json:"backup,omitempty"`
	Done       []string            `json:"done,omitempty"`
	Components []inspect.Component `json:"components,omitempty"`
	Error      string              `json:"error,omitempty"`
	Hint       string              `json:"hint,omitempty"`
	Duration   string              `json:"duration,omitempty"`
}

// Active reports whether the action changes the release.
func Active(a string) bool {
	switch a {
	case ActionRollback, ActionRecover, ActionUninstall, ActionRestore:
		return true
	}
	return false
}

// Executed reports whether Execute ran (some release has a result).
func (r *Report) Executed() bool {
	for _, rp := range r.Releases {
		if rp.Result != nil {
			return true
		}
	}
	return false
}
