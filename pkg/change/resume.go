package change

import (
	"context"
	"fmt"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmops"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
)

// Recorded is what the lock recorded of its holder's helm call, for helmops.DecidePending (nil when l is).
func (l *LockInfo) Recorded() *helmops.Recorded {
	if l == nil {
		return nil
	}
	return &helmops.Recorded{Holder: l.Holder, Revision: l.Revision, Duration: l.Duration, Timeout: l.Timeout, Atomic: l.Atomic}
}

// resumeGate decides, once this process holds the lock, whether the pending revision last may be
// resumed (helmops.DecidePending, the decision rollback applies too): refused says why not; otherwise it
// first waits out what the interrupted helm operation could still do (an error when ctx ends or the lock
// is lost meanwhile).
func resumeGate(ctx context.Context, lk *Lock, in helmops.PendingInput, progress func(string, ...any)) (refused string, err error) {
	in.Lock = lk.Previous.Recorded()
	in.Observed = true
	in.Quiet, in.Gone = lk.PreviousQuiet()
	d := helmops.DecidePending(in)
	if d.Refused != "" || d.Wait <= 0 {
		return d.Refused, nil
	}
	progress("waiting %s before resuming revision %d: the interrupted upgrade's helm wait (--timeout %s%s) could still be running",
		d.Wait.Round(time.Second), in.Revision, lk.Previous.Timeout, map[bool]string{true: ", atomic", false: ""}[lk.Previous.Atomic])
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
	if err := lk.SetRevision(nextRevision(hc, release)); err != nil {
		return nil, fmt.Errorf("recording the rollback in its lock: %w", err)
	}
	return hc.Rollback(ctx, release, deployed.Revision, helmsdk.RollbackOptions{Timeout: timeout, Wait: true})
}
