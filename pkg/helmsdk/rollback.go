package helmsdk

import (
	"context"
	"fmt"
	"time"

	"helm.sh/helm/v4/pkg/action"
)

// RollbackOptions are the settings of a rollback, as 'helm rollback' takes them.
type RollbackOptions struct {
	Timeout       time.Duration
	Wait          bool
	WaitForJobs   bool
	CleanupOnFail bool
	MaxHistory    int
	// ForceReplace is what helm 4's --force means (--force-replace); no verb sets it.
	ForceReplace bool
}

// Rollback does what 'helm rollback name revision' does: a new revision whose chart, values and manifest
// are those of revision, applied against the newest revision's manifest (so what only the newest one
// added is removed). Helm allows it on a release whose newest revision is pending. It returns the new
// revision. ctx bounds it only between Helm's steps: Helm's rollback takes no context.
func (c *Client) Rollback(ctx context.Context, name string, revision int, opts RollbackOptions) (*Release, error) {
	if revision <= 0 {
		return nil, fmt.Errorf("rolling back %s: no revision to roll back to", name)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("rolling back %s to revision %d: %w", name, revision, err)
	}
	rb := c.newRollback(ctx, revision, opts)
	if err := rb.Run(name); err != nil {
		return nil, classify("rollback", name, fmt.Errorf("rolling back %s to revision %d: %w", name, revision, err))
	}
	last, err := c.Last(name)
	if err != nil {
		return nil, err
	}
	return last, nil
}

// newRollback is the Helm rollback action of opts, every setting that decides how it applies and waits
// set explicitly (apply.go).
func (c *Client) newRollback(ctx context.Context, revision int, opts RollbackOptions) *action.Rollback {
	rb := action.NewRollback(c.cfg)
	rb.Version = revision
	rb.Timeout = opts.Timeout
	rb.WaitStrategy = waitStrategy(opts.Wait)
	rb.WaitOptions = c.waitOptions(ctx)
	rb.WaitForJobs = opts.WaitForJobs
	rb.CleanupOnFail = opts.CleanupOnFail
	rb.MaxHistory = opts.MaxHistory
	rb.ServerSideApply = rollbackApply
	rb.ForceReplace = opts.ForceReplace
	rb.ForceConflicts = false
	rb.DryRunStrategy = action.DryRunNone
	return rb
}

// Uninstall does what 'helm uninstall name --wait' does: it deletes the release's objects and its
// history. It is used for a release stuck pending-install that has no deployed revision, so that it can
// be installed again.
func (c *Client) Uninstall(ctx context.Context, name string, timeout time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("uninstalling %s: %w", name, err)
	}
	u := action.NewUninstall(c.cfg)
	u.Timeout = timeout
	u.WaitStrategy = waitStrategy(true)
	u.WaitOptions = c.waitOptions(ctx)
	if _, err := u.Run(name); err != nil {
		return fmt.Errorf("uninstalling %s: %w", name, err)
	}
	return nil
}
