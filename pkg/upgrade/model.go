// Package upgrade implements 'kubectl skoala upgrade': it plans the upgrade of skoala on the control-plane
// cluster and of skoala-init on every workspace cluster (versions, values, image tags, the product's
// version-specific steps), runs the pre-upgrade checks, backs up every release it will touch, and upgrades
// the releases one by one, control plane first, with Helm's atomic wait, a live view of the rollout and a
// verification of the new image tags, stopping at the first failure with a report of what was and was not
// upgraded. A Lease per release keeps two upgrades from running at once; a pending revision left by an
// interrupted upgrade is resumed, any other pending revision is refused with the recovery steps.
package upgrade

import (
	"github.com/skoala-dev/kubectl-skoala/pkg/change"
	"github.com/skoala-dev/kubectl-skoala/pkg/doctor"
	"github.com/skoala-dev/kubectl-skoala/pkg/inspect"
)

// SchemaVersion is the version of the JSON/YAML schema of the upgrade report.
const SchemaVersion = "skoala.upgrade/v1"

// Actions of a release plan.
const (
	ActionUpgrade  = "upgrade"
	ActionInstall  = "install"
	ActionResume   = "resume"
	ActionUpToDate = "up-to-date"
	ActionRefused  = "refused"
)

// Outcomes of the whole run and of each release: the engine's (pkg/change), one vocabulary for every verb.
const (
	OutcomePlanned     = change.OutcomePlanned     // printed, nothing done (no confirmation)
	OutcomeDryRun      = change.OutcomeDryRun      // rendered, nothing done
	OutcomeRefused     = change.OutcomeRefused     // a release cannot be upgraded now (pending, locked, stop needed, checks failed)
	OutcomeCancelled   = change.OutcomeCancelled   // the operator said no
	OutcomeUpgraded    = change.OutcomeUpgraded    // every release upgraded and verified
	OutcomeInstalled   = change.OutcomeInstalled   // (per release)
	OutcomeUpToDate    = change.OutcomeUpToDate    // nothing to do
	OutcomeRolledBack  = change.OutcomeRolledBack  // a release failed and Helm rolled it back
	OutcomeTimedOut    = change.OutcomeTimedOut    // a release's wait ran out of time and it was not rolled back
	OutcomeFailed      = change.OutcomeFailed      // a release failed
	OutcomeInterrupted = change.OutcomeInterrupted // Ctrl-C
	OutcomeNotStarted  = change.OutcomeNotStarted  // a release after the first failure
	OutcomePaused      = change.OutcomePaused      // the run stopped after its canary (--pause-after-canary)
)

// Report is the plan and, once executed, the result of 'upgrade'.
type Report struct {
	Schema    string `json:"schema"`
	Namespace string `json:"namespace"`
	// Source is where the charts come from: "repository <name> (<url>)" or the --chart paths.
	Source  string `json:"source"`
	DryRun  bool   `json:"dryRun"`
	Timeout string `json:"timeout"`
	Atomic  bool   `json:"atomic"`
	// BackupDir is where the backups go.
	BackupDir string           `json:"backupDir"`
	Releases  []ReleasePlan    `json:"releases"`
	Preflight *PreflightResult `json:"preflight,omitempty"`
	Outcome   string           `json:"outcome"`
	// Message and Hint explain the outcome in one line each.
	Message  string   `json:"message,omitempty"`
	Hint     string   `json:"hint,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	// Skipped are the registered clusters of --fleet kpanda left out with --skip-unreachable.
	Skipped []Skipped `json:"skipped,omitempty"`
	// JournalRun is the run's entry of the journal ("" when it was not written); Resumes the run it continues.
	JournalRun string `json:"journalRun,omitempty"`
	Resumes    string `json:"resumes,omitempty"`
}

// Skipped is a registered cluster the run leaves out (it could not be reached).
type Skipped struct {
	Cluster string `json:"cluster"`
	Reason  string `json:"reason"`
	Hint    string `json:"hint,omitempty"`
}

// ReleasePlan is one release of the plan and what became of it.
type ReleasePlan struct {
	Context string `json:"context"`
	Role    string `json:"role"`
	Release string `json:"release"`
	Chart   string `json:"chart"`
	// From is the installed chart version ("" when absent), FromRevision its revision, Status Helm's status.
	From         string `json:"from,omitempty"`
	FromRevision int    `json:"fromRevision,omitempty"`
	Status       string `json:"status"`
	To           string `json:"to"`
	Action       string `json:"action"`
	// Reason explains a refusal or a resume; Hint says what to do.
	Reason string `json:"reason,omitempty"`
	Hint   string `json:"hint,omitempty"`
	// ImageTags are the components whose image tag the upgrade sets, and the tag.
	ImageTags []ImageTag        `json:"imageTags,omitempty"`
	Overrides []Override        `json:"overrides,omitempty"`
	Dropped   []Override        `json:"dropped,omitempty"`
	Steps     []Step            `json:"steps"`
	Manual    []Step            `json:"manual,omitempty"`
	Warnings  []string          `json:"warnings,omitempty"`
	Diff      []change.FileDiff `json:"diff,omitempty"`
	Result    *Result           `json:"result,omitempty"`
}

// ImageTag is a component and the tag it will run.
type ImageTag struct {
	Component string `json:"component"`
	Key       string `json:"key"`
	Tag       string `json:"tag"`
}

// Step is one step of a release's upgrade, in order.
type Step struct {
	Kind        string   `json:"kind"`
	Description string   `json:"description"`
	Automated   bool     `json:"automated"`
	Mandatory   bool     `json:"mandatory,omitempty"`
	Command     string   `json:"command,omitempty"`
	Files       []string `json:"files,omitempty"`
}

// Step kinds of the plan (besides upgradepath's): the engine's steps (pkg/change), and the manual ones.
const (
	StepBackup = change.StepBackup
	StepUnlock = change.StepUnlock
	StepJobs   = change.StepJobs
	StepCRDs   = change.StepCRDs
	StepHelm   = change.StepHelm
	StepVerify = change.StepVerify
	StepManual = "manual"
)

// Result is what happened to one release.
type Result struct {
	Outcome  string   `json:"outcome"`
	Revision int      `json:"revision,omitempty"`
	Backups  []string `json:"backups,omitempty"`
	// Done lists the steps completed, in order.
	Done       []string            `json:"done,omitempty"`
	Components []inspect.Component `json:"components,omitempty"`
	Error      string              `json:"error,omitempty"`
	Hint       string              `json:"hint,omitempty"`
	Duration   string              `json:"duration,omitempty"`
}

// PreflightResult is the outcome of the pre-upgrade checks (doctor).
type PreflightResult struct {
	// Ran is false when no checks were available.
	Ran    bool `json:"ran"`
	Failed bool `json:"failed"`
	// Forced is set when --force went on despite failures.
	Forced bool `json:"forced,omitempty"`
	// Error says why the checks could not run (then Failed is set).
	Error string `json:"error,omitempty"`
	// Checks are the failures and warnings, as doctor reports them (id, cluster, status, message, hint), in
	// doctor's order.
	Checks []PreflightCheck `json:"checks,omitempty"`
}

// PreflightCheck is one failed or warning doctor check of the pre-upgrade checks.
type PreflightCheck struct {
	doctor.Result
	// Repaired is set on a failure the upgrade itself repairs (a release it brings back from a failed or
	// pending state): it does not stop the upgrade.
	Repaired bool `json:"repairedByUpgrade,omitempty"`
}
