package change

import (
	"context"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmops"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/inspect"
	"github.com/skoala-dev/kubectl-skoala/pkg/journal"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

// Operation is the Helm call of a change.
type Operation struct {
	// Kind is "upgrade", "install", "rollback" or "uninstall".
	Kind string
	// Chart and Values: upgrade and install.
	Chart  *helmsdk.Chart
	Values map[string]any
	// ToRevision: rollback.
	ToRevision    int
	Atomic        bool
	CleanupOnFail bool
	Description   string
}

// Operation kinds.
const (
	OpUpgrade   = "upgrade"
	OpInstall   = "install"
	OpRollback  = "rollback"
	OpUninstall = "uninstall"
)

// Verify is what the verification after the rollout checks besides the components' health.
type Verify struct {
	// Tags are the image tags the components must run (by component).
	Tags map[string]string
	// ChartVersion is the chart version the inspection expects (inspect.Objects), "" for none.
	ChartVersion string
	// Registry is the registry every container must pull from ("" for any).
	Registry string
	// Images: every container must run the image the new revision's manifest gives it.
	Images bool
}

// Change is one release to change, as a planner describes it. Execute fills in Result.
type Change struct {
	Context, Role, Release, Chart string
	// Action is the planner's word for it (upgrade, install, resume, rollback, recover, restore, uninstall).
	Action                 string
	FromVersion, ToVersion string
	// FromRevision and FromStatus are the release before the run (the journal's "from").
	FromRevision int
	FromStatus   string
	Cluster      *kube.Cluster
	Helm         *helmsdk.Client
	// Passive changes are only journaled (up to date, skipped): Result.Outcome is preset.
	Passive bool
	// Expect is the newest revision as planned (nil: not installed); the change is refused when the release
	// moved since. ExpectAbsent: nothing is installed.
	Expect *helmsdk.Release
	// Pending is the decision input of a pending revision the change resumes or recovers (nil: none): once
	// the lock is held, helmops.DecidePending refuses or waits.
	Pending *helmops.PendingInput
	// CreateNamespace creates the release namespace first (an install).
	CreateNamespace bool
	// Base is the revision backed up before the first change of the run (nil: none).
	Base *helmsdk.Release
	// Unlock is a pending revision to mark failed first, with UnlockWhy in its description; RollbackTo the
	// deployed revision to roll back to right after (a resumed upgrade).
	Unlock     *helmsdk.Release
	UnlockWhy  string
	RollbackTo *helmsdk.Release
	// Jobs are the Jobs to delete before the Helm call; CRDs the CRD files to apply, per step.
	Jobs      []string
	CRDs      [][]helmsdk.CRDFile
	ForceCRDs bool
	Op        Operation
	// Objects are the workloads the live view watches during the Helm call.
	Objects []helmsdk.ManifestObject
	Verify  Verify
	// Success is the release's outcome when every step succeeded.
	Success string
	// ValuesChanged are the keys of the user-supplied values set or dropped (never a value).
	ValuesChanged []string
	// Secrets are masked in every message.
	Secrets []string
	// Wave is the wave Execute gives the change (0: the control plane).
	Wave   int
	Result Result

	lock        *Lock
	crdsApplied []string
	jobsDeleted []string
}

// Result is what happened to one change.
type Result struct {
	Outcome  string
	Revision int
	Backups  []string
	// Done lists the steps completed, in order.
	Done       []string
	Components []inspect.Component
	Error      string
	Hint       string
	Duration   time.Duration
	// ToVersion is the chart version the release runs after the change ("" when no helm operation ran).
	ToVersion string
}

// Waves are the scheduling flags.
type Waves struct {
	// Canary is the workspace context changed alone, verified, before the others ("" for none).
	Canary string
	// PauseAfterCanary ends the run after the canary, paused.
	PauseAfterCanary bool
	// MaxParallel is how many releases of a workspace wave change at once (at least 1).
	MaxParallel int
	// MaxFailures is how many failed releases the workspace waves tolerate before no other release starts.
	MaxFailures int
	// Reverse runs the workspaces first and the control plane last (a rollback).
	Reverse bool
}

// Config is what Execute needs, with no flags in sight.
type Config struct {
	// Verb is VerbUpgrade or VerbRollback; Name the command's name for hints.
	Verb, Name string
	Namespace  string
	Timeout    time.Duration
	// Atomic is recorded in the lock (a resumed run waits out an atomic rollback too).
	Atomic     bool
	MaxHistory int
	BackupDir  string
	Tool       string
	Waves      Waves
	Journal    JournalConfig
}

// JournalConfig is what the run records in the journal.
type JournalConfig struct {
	// Kind is journal.KindUpgrade or journal.KindRollback; Target the version an upgrade goes to.
	Kind   string
	Target string
	// Undoes is the run a rollback undoes (marked undone on success).
	Undoes string
	// Resume is the run this one continues ("" for a new run): its record is reopened and kept.
	Resume string
	// Success and SuccessMessage are the run's outcome in the journal when every change succeeded.
	Success, SuccessMessage string
	// ControlPlane is the cluster the journal lives in (nil: the control plane's change's cluster).
	ControlPlane *kube.Cluster
	// NoControlPlane is the warning when no control plane is among the changes ("" for none).
	NoControlPlane string
	Identities     journal.Identities
	RequestTimeout time.Duration
}

// Deps are what Execute talks to.
type Deps struct {
	// Guard is called before every step that changes a cluster, before the release's lock confirms it is
	// still held ((*Lock).Confirm): an error of either stops the release before that step, as a failure.
	Guard   func(ctx context.Context) error
	Observe Observer
	Now     func() time.Time
}

// Outcome is the run's outcome. Outcome is "" when every change succeeded: the planner says so in its words.
type Outcome struct {
	Outcome, Message, Hint string
	Warnings               []string
	// JournalRun is the run's journal entry ("" when it was not written).
	JournalRun string
	// Failures counts the failed changes.
	Failures int
}

func (d Deps) withDefaults() Deps {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Observe == nil {
		d.Observe = func(Event) {}
	}
	return d
}
