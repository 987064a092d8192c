package upgrade

import (
	"fmt"
	"time"
)

// Observer receives what Plan and Execute do, as they do it: the command renders the progress lines on
// stderr, the upgrade journal (issue 14) records the run, each release's start and each release's end.
//
// Plan sends only EventDebug. Execute sends, in this order: EventRunStart (once, before the first
// change), then per release EventReleaseStart, any number of EventProgress and EventRollout, and
// EventReleaseDone (also when the release failed), and last EventRunDone. A release that is not started
// (an earlier one failed) gets neither start nor done. EventProgress and EventRollout may come from
// several goroutines at once: an observer that keeps state must lock. An observer must not block for
// long: the run waits for it. No event carries a value or a secret the plan knows of.
type Observer func(Event)

// EventKind says what an Event is about.
type EventKind string

// The kinds of Event.
const (
	// EventRunStart: Execute is about to make its first change; Event.Plan is the plan it carries out.
	EventRunStart EventKind = "run-start"
	// EventReleaseStart: a release's steps begin; Event.Release names it, Event.Plan is the whole plan.
	EventReleaseStart EventKind = "release-start"
	// EventReleaseDone: a release's steps ended; Event.Done says how.
	EventReleaseDone EventKind = "release-done"
	// EventRunDone: Execute ends; Event.Plan is the report with every release's result.
	EventRunDone EventKind = "run-done"
	// EventProgress: a step of a release done or begun (Event.Message, shown as "context/release: message").
	EventProgress EventKind = "progress"
	// EventLog: a line of progress that names what it is about itself (a backup written, a wait).
	EventLog EventKind = "log"
	// EventRollout: a component changed during the helm operation's wait (Event.Elapsed since it began).
	EventRollout EventKind = "rollout"
	// EventDebug: a Helm debug line (Config.Debug).
	EventDebug EventKind = "debug"
)

// Event is one thing Plan or Execute did.
type Event struct {
	Kind EventKind
	// Context and Release name the release the event is about ("" for the run's own events).
	Context string
	Release string
	// Message is the line of EventProgress, EventLog, EventRollout and EventDebug.
	Message string
	// Elapsed is the time since the helm operation began (EventRollout).
	Elapsed time.Duration
	// Plan is the report (EventRunStart, EventReleaseStart, EventRunDone). It is the run's own report:
	// read it during the call, do not keep or change it.
	Plan *Report
	// Done is what became of a release (EventReleaseDone).
	Done *ReleaseDone
}

// ReleaseDone is what one release's steps did: enough to say later what the run changed and how to go
// back, and nothing that holds a value.
type ReleaseDone struct {
	Chart string
	// FromVersion and FromRevision are the release before the run (0 and "" for an install).
	FromVersion  string
	FromRevision int
	// ToVersion and ToRevision are the release after it (ToRevision is the newest revision, whatever its
	// status: also the one a rollback left; 0 when no helm operation ran).
	ToVersion  string
	ToRevision int
	// Outcome is the release's (OutcomeUpgraded, OutcomeInstalled, OutcomeRolledBack, OutcomeFailed, ...).
	Outcome string
	// CRDsApplied are the names of the CRDs applied, JobsDeleted the Jobs deleted: a rollback undoes
	// neither.
	CRDsApplied []string
	JobsDeleted []string
	// ValuesChanged are the keys of the user-supplied values the run set or dropped.
	ValuesChanged []string
	// Error is the failure, with every secret masked ("" on success).
	Error string
}

// Line is the event as the progress stream shows it ("" for the events that are not progress lines).
func (e Event) Line() string {
	switch e.Kind {
	case EventProgress:
		return fmt.Sprintf("%s/%s: %s", e.Context, e.Release, e.Message)
	case EventRollout:
		return fmt.Sprintf("  [%4s] %s/%s: %s", e.Elapsed, e.Context, e.Release, e.Message)
	case EventLog, EventDebug:
		return e.Message
	}
	return ""
}
