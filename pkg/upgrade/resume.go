package upgrade

import (
	"context"
	"fmt"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
)

// assumedHelmTimeout stands for the --timeout of a lock that did not record one (an older
// kubectl-skoala): the longest Helm wait the upgrade allows by default, assumed atomic.
const assumedHelmTimeout = 5 * time.Minute

// ResumeInput is what decides whether a pending revision may be resumed.
type ResumeInput struct {
	// Revision and Status are the release's newest revision.
	Revision int
	Status   string
	// Lock is what the lock said (nil: there was none).
	Lock *LockInfo
	// Observed says whether Quiet and Gone were measured: false while planning, before the lock is taken;
	// true once this process took the lock over.
	Observed bool
	// Quiet is how long this process saw the Lease unchanged, on its own monotonic clock; Gone says its
	// holder was a process of this host that no longer runs.
	Quiet time.Duration
	Gone  bool
}

// ResumeDecision is the answer: Refused says why the revision must not be resumed ("" = it may be);
// when it may, Wait is how much longer this process must let the interrupted helm operation's own
// wait and atomic rollback run out before it touches the release.
type ResumeDecision struct {
	Refused string
	Wait    time.Duration
}

// DecideResume says whether a pending revision can be resumed: only the very revision the interrupted
// kubectl-skoala upgrade recorded in its lock, and only once Helm's own wait (and the atomic rollback
// after it) could have ended, measured on this process's clock from when it first saw the Lease
// unchanged. Anything else is another operation (a 'helm rollback --wait' started since, say) and is
// refused, naming what is running.
func DecideResume(in ResumeInput) ResumeDecision {
	li := in.Lock
	switch {
	case li == nil:
		return ResumeDecision{Refused: fmt.Sprintf("revision %d is %s and no kubectl-skoala upgrade left it: a helm operation may still be running", in.Revision, in.Status)}
	case li.Revision == 0:
		return ResumeDecision{Refused: fmt.Sprintf("revision %d is %s, but the upgrade by %s had not started a helm operation: another operation may be running", in.Revision, in.Status, li.Holder)}
	case in.Revision > li.Revision:
		return ResumeDecision{Refused: fmt.Sprintf("revision %d is %s (%s), newer than revision %d that the interrupted upgrade by %s started: that operation was started since and may still be running",
			in.Revision, in.Status, runningOp(in.Status), li.Revision, li.Holder)}
	case in.Revision < li.Revision:
		return ResumeDecision{Refused: fmt.Sprintf("revision %d is %s, but the interrupted upgrade by %s recorded revision %d: another operation left it", in.Revision, in.Status, li.Holder, li.Revision)}
	case !in.Observed || in.Gone:
		return ResumeDecision{}
	case in.Quiet < li.Duration:
		return ResumeDecision{Refused: fmt.Sprintf("revision %d is %s and the upgrade by %s may still hold the lock", in.Revision, in.Status, li.Holder)}
	}
	// The holder stopped within a lease duration of its last renewal; Helm's wait ran at most the recorded
	// timeout more, and --atomic's rollback waits as long again.
	timeout, atomic := li.Timeout, li.Atomic
	if timeout <= 0 {
		timeout, atomic = assumedHelmTimeout, true
	}
	need := li.Duration + timeout
	if atomic {
		need += timeout
	}
	if in.Quiet < need {
		return ResumeDecision{Wait: need - in.Quiet}
	}
	return ResumeDecision{}
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

// resumeGate decides, once this process holds the lock, whether the pending revision rev may be
// resumed: refused says why not; otherwise it first waits out what the interrupted helm operation could
// still do (an error when ctx ends or the lock is lost meanwhile).
func resumeGate(ctx context.Context, lk *Lock, rev int, status string, progress func(string, ...any)) (refused string, err error) {
	quiet, gone := lk.PreviousQuiet()
	d := DecideResume(ResumeInput{Revision: rev, Status: status, Lock: lk.Previous, Observed: true, Quiet: quiet, Gone: gone})
	if d.Refused != "" || d.Wait <= 0 {
		return d.Refused, nil
	}
	progress("waiting %s before resuming revision %d: the interrupted upgrade's helm wait (--timeout %s%s) could still be running",
		d.Wait.Round(time.Second), rev, lk.Previous.Timeout, map[bool]string{true: ", atomic", false: ""}[lk.Previous.Atomic])
	lctx, cancel := lk.Bind(ctx)
	defer cancel()
	if err := sleep(lctx, lk.opts.Clock, d.Wait); err != nil {
		if lerr := lk.Err(); lerr != nil {
			return "", lerr
		}
		return "", err
	}
	return "", lk.Confirm(ctx)
}

// resumeRollback brings a release whose pending revision was just marked failed back to its deployed
// revision, as 'helm rollback' does (the caller has confirmed the lock): Helm applies the deployed revision's manifest against the failed
// one's, so fields and objects that only the interrupted revision added are removed (an upgrade from the
// deployed revision would three-way-merge against it and keep them). It returns the new revision, nil
// when there is no deployed revision to go back to.
func resumeRollback(ctx context.Context, lk *Lock, hc *helmsdk.Client, release string, deployed *helmsdk.Release, timeout time.Duration) (*helmsdk.Release, error) {
	if deployed == nil {
		return nil, nil
	}
	if err := lk.SetRevision(deployedNext(hc, release)); err != nil {
		return nil, fmt.Errorf("recording the rollback in its lock: %w", err)
	}
	return hc.Rollback(ctx, release, deployed.Revision, helmsdk.RollbackOptions{Timeout: timeout, Wait: true})
}

// deployedNext is the revision the next helm operation on release creates (0 when unknown).
func deployedNext(hc *helmsdk.Client, release string) int {
	last, err := hc.Last(release)
	if err != nil {
		return 0
	}
	return last.Revision + 1
}
