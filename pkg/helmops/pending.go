// Package helmops decides whether this tool may act on a release that another operation may be working
// on: a revision left pending-* (by an interrupted kubectl-skoala upgrade, or by a helm run elsewhere) and
// kpanda's own Helm operations (Jobs owned by a HelmApp). upgrade and rollback both ask it, so the two
// verbs refuse and allow exactly the same cases.
package helmops

import (
	"fmt"
	"time"
)

// DefaultHelmTimeout is Helm's own default --timeout: the wait assumed of a helm operation whose timeout
// nobody recorded (an older kubectl-skoala's lock, a helm run by hand, kpanda), with --atomic's rollback
// after it.
const DefaultHelmTimeout = 5 * time.Minute

// Recorded is what the lock of an interrupted kubectl-skoala operation recorded of its helm call.
type Recorded struct {
	Holder string
	// Revision is the release revision its helm call was creating (0: it had started none); Timeout and
	// Atomic are that call's --timeout and --atomic (0: not recorded); Duration is the lease duration.
	Revision int
	Duration time.Duration
	Timeout  time.Duration
	Atomic   bool
}

// PendingInput is what decides whether a pending revision may be acted on.
type PendingInput struct {
	// Revision and Status are the release's newest revision; Started is when Helm created it (its
	// last-deployed time; zero when unknown) and Now this process's time.
	Revision int
	Status   string
	Started  time.Time
	Now      time.Time
	// Lock is what the release's lock recorded (nil: there was none).
	Lock *Recorded
	// Observed says whether Quiet and Gone were measured: false while planning, before the lock is taken;
	// true once this process took the lock over. Quiet is how long this process saw the Lease unchanged,
	// on its own monotonic clock; Gone says its holder is proven to be a process of this machine that
	// no longer runs.
	Observed bool
	Quiet    time.Duration
	Gone     bool
	// Timeout is this run's --timeout: a foreign helm operation is assumed to wait at most the longer of
	// it and DefaultHelmTimeout (see LongestWait).
	Timeout time.Duration
	// Force is --force: a foreign pending revision is acted on even though an operation may still run.
	Force bool
}

// PendingDecision is the answer. Refused says why the revision must not be touched ("" = it may be);
// Started says when the pending revision was created, for the refusal's reader. Foreign is set when no
// kubectl-skoala lock recorded the revision; Why says then why it may be touched anyway (--force, or it
// is older than any wait that could still be running). Wait is how much longer this process must let an
// interrupted kubectl-skoala upgrade's own helm wait and atomic rollback run out before it acts.
type PendingDecision struct {
	Refused string
	Foreign bool
	Why     string
	Wait    time.Duration
}

// LongestWait is the longest a helm operation nobody recorded could still be waiting after it created its
// revision: its --timeout (assumed the longer of DefaultHelmTimeout and timeout), twice for --atomic's
// rollback after it, plus a lease duration (60 s) of margin for clock skew between hosts.
func LongestWait(timeout time.Duration) time.Duration {
	return time.Minute + 2*assumedTimeout(timeout)
}

func assumedTimeout(timeout time.Duration) time.Duration {
	return max(timeout, DefaultHelmTimeout)
}

// DecidePending says whether a pending revision may be acted on (marked failed, rolled back, resumed).
//
// The very revision an interrupted kubectl-skoala operation recorded in its lock may be, once Helm's own
// wait (and the atomic rollback after it) could have ended, measured on this process's clock from when it
// first saw the Lease unchanged (Wait). Any other pending revision is another operation's (a 'helm
// upgrade --wait' from CI, a UI, another host; a 'helm rollback --wait' started since a crash): it is
// refused, naming the revision and when it started, unless it started longer ago than LongestWait, or
// Force is set.
func DecidePending(in PendingInput) PendingDecision {
	li := in.Lock
	var foreign string
	switch {
	case li == nil:
		foreign = fmt.Sprintf("revision %d is %s%s and no kubectl-skoala upgrade left it: a helm operation may still be running", in.Revision, in.Status, startedText(in))
	case li.Revision == 0:
		foreign = fmt.Sprintf("revision %d is %s%s, but the upgrade by %s had not started a helm operation: another operation may be running", in.Revision, in.Status, startedText(in), li.Holder)
	case in.Revision > li.Revision:
		foreign = fmt.Sprintf("revision %d is %s (%s)%s, newer than revision %d that the interrupted upgrade by %s started: that operation was started since and may still be running",
			in.Revision, in.Status, runningOp(in.Status), startedText(in), li.Revision, li.Holder)
	case in.Revision < li.Revision:
		foreign = fmt.Sprintf("revision %d is %s%s, but the interrupted upgrade by %s recorded revision %d: another operation left it", in.Revision, in.Status, startedText(in), li.Holder, li.Revision)
	}
	if foreign != "" {
		longest := LongestWait(in.Timeout)
		switch {
		case in.Force:
			return PendingDecision{Foreign: true, Why: "--force: " + foreign}
		case !in.Started.IsZero() && !in.Now.IsZero() && in.Now.Sub(in.Started) >= longest:
			return PendingDecision{Foreign: true, Why: fmt.Sprintf("revision %d is %s since %s (%s ago), longer than any helm wait that could still be running (%s: twice a --timeout of %s, and a minute)",
				in.Revision, in.Status, in.Started.UTC().Format(time.RFC3339), in.Now.Sub(in.Started).Round(time.Second), longest, assumedTimeout(in.Timeout))}
		}
		return PendingDecision{Refused: foreign, Foreign: true}
	}
	switch {
	case !in.Observed || in.Gone:
		return PendingDecision{}
	case in.Quiet < li.Duration:
		return PendingDecision{Refused: fmt.Sprintf("revision %d is %s and the upgrade by %s may still hold the lock", in.Revision, in.Status, li.Holder)}
	}
	// The holder stopped within a lease duration of its last renewal; Helm's wait ran at most the recorded
	// timeout more, and --atomic's rollback waits as long again.
	timeout, atomic := li.Timeout, li.Atomic
	if timeout <= 0 {
		timeout, atomic = DefaultHelmTimeout, true
	}
	need := li.Duration + timeout
	if atomic {
		need += timeout
	}
	if in.Quiet < need {
		return PendingDecision{Wait: need - in.Quiet}
	}
	return PendingDecision{}
}

// startedText says when a pending revision was created ("" when unknown).
func startedText(in PendingInput) string {
	if in.Started.IsZero() {
		return ""
	}
	s := " since " + in.Started.UTC().Format(time.RFC3339)
	if !in.Now.IsZero() && in.Now.After(in.Started) {
		s += fmt.Sprintf(" (%s ago)", in.Now.Sub(in.Started).Round(time.Second))
	}
	return s
}

// runningOp names the helm operation a pending status stands for.
func runningOp(status string) string {
	switch status {
	case "pending-rollback":
		return "a helm rollback"
	case "pending-install":
		return "a helm install"
	case "pending-upgrade":
		return "a helm upgrade"
	}
	return "a helm operation"
}
