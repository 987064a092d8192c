package upgrade

import "github.com/skoala-dev/kubectl-skoala/pkg/change"

// Observer receives what Plan and Execute do, as they do it (change.Observer): Plan sends only
// EventDebug; Execute sends the engine's events (pkg/change).
type Observer = change.Observer

// Event is one thing Plan or Execute did (change.Event).
type Event = change.Event

// The event types upgrade's own code sends.
const (
	EventDebug    = change.EventDebug
	EventProgress = change.EventProgress
)
