// Package change is the engine that changes releases, for 'upgrade' and 'rollback' alike: the per-release
// lock (a Lease), the guard before every change, the values backups, the journal (pkg/journal), one
// vocabulary of steps and outcomes, the per-release runner (kpanda's Helm Jobs, the chart's Jobs, the
// CRDs, the Helm call with its wait, the verification) and the scheduling of the releases in waves:
// the control plane first and alone, then a canary, then the rest with a bounded parallelism and a
// failure budget. The planners (pkg/upgrade, pkg/rollback) turn the fleet and the flags into a list of
// Change; Execute carries it out and says what happened through events (Observer). It prints nothing.
package change

import "time"

// Outcomes of a run and of each release: one spelling for every verb (the exit codes map them: see
// pkg/cmd/apply).
const (
	OutcomePlanned     = "planned"       // printed, nothing done (no confirmation)
	OutcomeDryRun      = "dry-run"       // rendered, nothing done
	OutcomeRefused     = "refused"       // a release cannot be changed now (pending, locked, checks failed)
	OutcomeCancelled   = "cancelled"     // the operator said no
	OutcomeUpgraded    = "upgraded"      // upgraded and verified
	OutcomeInstalled   = "installed"     // installed and verified (per release)
	OutcomeUpToDate    = "up-to-date"    // nothing to do
	OutcomeSkipped     = "skipped"       // left out of the run (per release)
	OutcomeRolledBack  = "rolled-back"   // rolled back: by a rollback, or by Helm after a failed upgrade
	OutcomeRecovered   = "recovered"     // a release stuck pending-* returned to its deployed revision
	OutcomeUninstalled = "uninstalled"   // a release stuck pending-install uninstalled
	OutcomeRestored    = "restored"      // a backup's values and chart version restored
	OutcomeNothing     = "nothing-to-do" // a rollback with nothing to undo
	OutcomeLeftAlone   = "left-alone"    // a rollback leaves the release as it is (per release)
	OutcomeTimedOut    = "timed-out"     // the wait ran out of time and the release was not rolled back
	OutcomeFailed      = "failed"        // a release failed
	OutcomeInterrupted = "interrupted"   // Ctrl-C
	OutcomeNotStarted  = "not-started"   // a release after the failure that stopped the run
	OutcomePaused      = "paused"        // the run stopped after its canary (--pause-after-canary)
)

// Steps done, as a release's result and the journal list them (one spelling for every verb).
const (
	StepBackup    = "backup"
	StepUnlock    = "unlock"
	StepJobs      = "admission-jobs"
	StepCRDs      = "crds"
	StepHelm      = "helm"
	StepVerify    = "verify"
	StepUninstall = "uninstall"
)

// Verbs of a run.
const (
	VerbUpgrade  = "upgrade"
	VerbRollback = "rollback"
)

// VerifyTimeout is how long the verification after a release's rollout may take: the rollout's timeout,
// within 20s and 2m.
func VerifyTimeout(t time.Duration) time.Duration {
	if t > 2*time.Minute {
		return 2 * time.Minute
	}
	if t < 20*time.Second {
		return 20 * time.Second
	}
	return t
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
