package change

import (
	"fmt"
	"time"
)

// Observer receives what Execute does, as it does it: the command renders the progress and the live
// view, pkg/events writes the machine-readable stream. Events of releases in flight at once come from
// several goroutines: an observer that keeps state must lock. It must not block for long. No event
// carries a value or a secret the changes know of.
type Observer func(Event)

// Event types. The first group is the contract of the event stream (docs/output.md, skoala.events/v1);
// the second are progress lines only the terminal shows.
const (
	EventPlan        = "plan"
	EventWave        = "wave"
	EventLock        = "lock"
	EventBackup      = "backup"
	EventJobs        = "jobs"
	EventCRDs        = "crds"
	EventHelmStart   = "helm-start"
	EventWait        = "wait"
	EventVerify      = "verify"
	EventRollback    = "rollback"
	EventReleaseDone = "release-done"
	EventPause       = "pause"
	EventDone        = "done"

	// EventReleaseStart: a release's steps begin (no stream event: the stream has lock and helm-start).
	EventReleaseStart = "release-start"
	// EventProgress: a step of a release done or begun (Message, shown as "context/release: message").
	EventProgress = "progress"
	// EventLog: a line of progress that names what it is about itself.
	EventLog = "log"
	// EventDebug: a Helm debug line.
	EventDebug = "debug"
)

// Event is one thing a run did. Only the fields its Type lists are set.
type Event struct {
	Type string
	Verb string
	Run  string
	// Context and Release name the release ("" for the run's own events); Namespace is its namespace.
	Context, Release, Namespace string
	// Chart, FromVersion, ToVersion, FromRevision: a plan event's release.
	Chart                  string
	FromVersion, ToVersion string
	FromRevision           int
	ToRevision             int
	// Wave is the release's wave (plan) or the wave that begins (wave); Releases its size.
	Wave     int
	Releases int
	// Path is a backup's file; Names the Jobs deleted or CRDs applied; Action the helm operation.
	Path   string
	Names  []string
	Action string
	// Kind, Name, Ready, Total: one workload observed during the wait; Elapsed since the helm call began.
	Kind         string
	Name         string
	Ready, Total int
	Elapsed      time.Duration
	// OK: the verify's result. Outcome: release-done's or done's. Error: release-done's (masked).
	OK       bool
	Outcome  string
	Error    string
	ExitCode int
	// Message is the progress line (progress, log, debug, and the rollout line of wait), pause's hint and
	// verify's problems (masked).
	Message string
	// Line is the terminal's line of a wait event (the component's state), "" for the others.
	Line string
}

// Line is the event as the progress stream without a terminal shows it ("" for the events that are not a
// progress line).
func (e Event) ProgressLine() string {
	switch e.Type {
	case EventProgress:
		return fmt.Sprintf("%s/%s: %s", e.Context, e.Release, e.Message)
	case EventWait:
		if e.Line == "" {
			return ""
		}
		return fmt.Sprintf("  [%4s] %s/%s: %s", e.Elapsed.Round(time.Second), e.Context, e.Release, e.Line)
	case EventLog, EventDebug, EventPause:
		return e.Message
	}
	return ""
}
