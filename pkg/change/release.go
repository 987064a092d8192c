package change

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

// FieldManager is the server-side apply field manager of the CRDs kubectl-skoala applies.
const FieldManager = "kubectl-skoala"

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// runRelease runs the steps of one change; false means it failed (the failure is recorded).
func (x *run) runRelease(ctx context.Context, c *Change) bool {
	x.progress(c, "%s %s -> %s", c.Action, orDash(c.FromVersion), orDash(c.ToVersion))
	if c.Unlock != nil && !x.unlock(ctx, c) {
		return false
	}
	if c.RollbackTo != nil {
		// The interrupted revision's Jobs carry its pod template, which the rollback cannot patch back
		// (immutable): they go first. The revision rolled back to creates its own, deleted below.
		if len(c.Jobs) > 0 && !x.deleteJobs(ctx, c) {
			return false
		}
		if !x.rollbackFirst(ctx, c) {
			return false
		}
	}
	if len(c.Jobs) > 0 && !x.deleteJobs(ctx, c) {
		return false
	}
	for _, files := range c.CRDs {
		if !x.applyCRDs(ctx, c, files) {
			return false
		}
	}
	if c.Op.Kind == OpUninstall {
		return x.uninstall(ctx, c)
	}
	rel, ok := x.helmStep(ctx, c)
	if !ok {
		return false
	}
	return x.verifyStep(ctx, c, rel)
}

// unlock marks the pending revision failed, so that Helm accepts the next operation.
func (x *run) unlock(ctx context.Context, c *Change) bool {
	if err := x.guard(ctx, c); err != nil {
		return x.failGuard(c, err)
	}
	if err := c.Helm.Unlock(c.Release, c.Unlock.Revision, c.UnlockWhy); err != nil {
		return x.fail(c, OutcomeFailed, err.Error(), "")
	}
	x.did(c, StepUnlock)
	x.progress(c, "marked the %s %s revision %d failed", unlockWord(x.cfg.Verb), c.Unlock.Status, c.Unlock.Revision)
	return true
}

func unlockWord(verb string) string {
	if verb == VerbRollback {
		return "stuck"
	}
	return "stale"
}

// rollbackFirst brings a resumed release back to its deployed revision before the upgrade (issue 12 §2),
// so that what only the interrupted revision added goes.
func (x *run) rollbackFirst(ctx context.Context, c *Change) bool {
	if err := x.guard(ctx, c); err != nil {
		return x.failGuard(c, err)
	}
	rb, err := resumeRollback(ctx, c.lock, c.Helm, c.Release, c.RollbackTo, x.cfg.Timeout)
	if err != nil {
		return x.fail(c, OutcomeFailed, err.Error(), fmt.Sprintf("see '%s doctor'", x.cfg.Name))
	}
	if rb != nil {
		x.emit(Event{Type: EventRollback, Context: c.Context, Release: c.Release, ToRevision: c.RollbackTo.Revision})
		x.progress(c, "rolled back to revision %d (now revision %d)", c.RollbackTo.Revision, rb.Revision)
	}
	return true
}

// deleteJobs deletes the chart's Jobs (their pod template is immutable: Helm creates them again).
func (x *run) deleteJobs(ctx context.Context, c *Change) bool {
	ns := x.cfg.Namespace
	if err := x.guard(ctx, c); err != nil {
		return x.failGuard(c, err)
	}
	if err := kube.DeleteJobs(ctx, c.Cluster.Client, ns, c.Jobs); err != nil {
		msg, hint := kube.Explain(err, "delete", "jobs in namespace "+ns)
		return x.fail(c, OutcomeFailed, "deleting the Jobs: "+msg, hint)
	}
	for _, j := range c.Jobs {
		if !slices.Contains(c.jobsDeleted, j) {
			c.jobsDeleted = append(c.jobsDeleted, j)
		}
	}
	x.did(c, StepJobs)
	x.emit(Event{Type: EventJobs, Context: c.Context, Release: c.Release, Names: c.Jobs})
	x.progress(c, "deleted Jobs %s", strings.Join(c.Jobs, ", "))
	return true
}

// applyCRDs applies the crds/ files of one CRD step, keeping a live CRD the chart's would downgrade
// unless ForceCRDs.
func (x *run) applyCRDs(ctx context.Context, c *Change, files []helmsdk.CRDFile) bool {
	if err := x.guard(ctx, c); err != nil {
		return x.failGuard(c, err)
	}
	var names, paths []string
	for _, f := range files {
		paths = append(paths, f.Path)
		applied, kept, err := applyCRDs(ctx, c.Cluster, f.Data, c.ForceCRDs)
		c.crdsApplied = append(c.crdsApplied, applied...)
		names = append(names, applied...)
		for _, k := range kept {
			x.progress(c, "kept the live CRD %s: %s (give --force to apply the chart's)", k.Name, k.Reason)
		}
		if err != nil {
			msg, hint := kube.Explain(err, "patch", "customresourcedefinitions")
			return x.fail(c, OutcomeFailed, fmt.Sprintf("applying %s: %s", f.Path, msg), hint)
		}
		x.progress(c, "applied %d CRD(s) of %s", len(applied), f.Path)
	}
	x.did(c, StepCRDs+":"+strings.Join(paths, ","))
	x.emit(Event{Type: EventCRDs, Context: c.Context, Release: c.Release, Names: names})
	return true
}

// uninstall uninstalls a release stuck pending-install.
func (x *run) uninstall(ctx context.Context, c *Change) bool {
	if !x.startHelm(ctx, c) {
		return false
	}
	if err := c.Helm.Uninstall(ctx, c.Release, x.cfg.Timeout); err != nil {
		return x.fail(c, OutcomeFailed, err.Error(), fmt.Sprintf("see 'helm --kube-context %s -n %s status %s'", c.Context, x.cfg.Namespace, c.Release))
	}
	x.result(c, func(r *Result) { r.Done, r.Outcome = append(r.Done, StepUninstall), OutcomeUninstalled })
	x.progress(c, "uninstalled")
	return true
}

// startHelm guards the helm operation and records its revision in the lock.
func (x *run) startHelm(ctx context.Context, c *Change) bool {
	if err := x.guard(ctx, c); err != nil {
		return x.failGuard(c, err)
	}
	if err := c.lock.SetRevision(nextRevision(c.Helm, c.Release)); err != nil {
		return x.fail(c, OutcomeFailed, "recording the operation in its lock: "+err.Error(), "")
	}
	if c.Op.Kind != OpUninstall {
		x.emit(Event{Type: EventHelmStart, Context: c.Context, Release: c.Release, Action: c.Op.Kind, ToRevision: c.Op.ToRevision})
	}
	return true
}

// helmStep runs the helm operation, with the live view of the rollout.
func (x *run) helmStep(ctx context.Context, c *Change) (*helmsdk.Release, bool) {
	if !x.startHelm(ctx, c) {
		return nil, false
	}
	watchCtx, stopWatch := context.WithCancel(context.Background())
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		x.watch(watchCtx, c)
	}()
	rel, err := x.callHelm(ctx, c)
	stopWatch()
	<-watchDone
	if err != nil {
		return nil, x.helmFailed(c, err)
	}
	x.result(c, func(r *Result) {
		r.Revision, r.ToVersion, r.Done = rel.Revision, rel.ChartVersion, append(r.Done, StepHelm)
	})
	x.progress(c, "helm %s done: revision %d deployed (%s)", c.Op.Kind, rel.Revision, rel.ChartVersion)
	return rel, true
}

func (x *run) callHelm(ctx context.Context, c *Change) (*helmsdk.Release, error) {
	op := c.Op
	if op.Kind == OpRollback {
		return c.Helm.Rollback(ctx, c.Release, op.ToRevision, helmsdk.RollbackOptions{Timeout: x.cfg.Timeout, Wait: true,
			CleanupOnFail: op.CleanupOnFail, MaxHistory: x.cfg.MaxHistory})
	}
	opts := helmsdk.UpgradeOptions{Values: op.Values, Timeout: x.cfg.Timeout, Wait: true, Atomic: op.Atomic,
		CleanupOnFail: op.CleanupOnFail, MaxHistory: x.cfg.MaxHistory, Description: op.Description}
	if op.Kind == OpInstall {
		return c.Helm.Install(ctx, c.Release, op.Chart, opts)
	}
	return c.Helm.Upgrade(ctx, c.Release, op.Chart, opts)
}

// nextRevision is the revision the next helm operation on release creates (0 when unknown).
func nextRevision(hc *helmsdk.Client, release string) int {
	last, err := hc.Last(release)
	if err != nil {
		return 1
	}
	return last.Revision + 1
}

// verifyStep checks that every component of the new revision is ready and runs what it must.
func (x *run) verifyStep(ctx context.Context, c *Change, rel *helmsdk.Release) bool {
	vctx, cancel := context.WithTimeout(ctx, VerifyTimeout(x.cfg.Timeout))
	comps, problems := verify(vctx, c, x.cfg.Namespace, rel.Objects())
	cancel()
	x.result(c, func(r *Result) { r.Components = comps })
	if len(problems) > 0 {
		msg := "verification failed: " + strings.Join(problems, "; ")
		x.emit(Event{Type: EventVerify, Context: c.Context, Release: c.Release, OK: false, Message: x.scrub(msg)})
		hint := fmt.Sprintf("see '%s status' and '%s doctor'", x.cfg.Name, x.cfg.Name)
		if x.cfg.Verb == VerbUpgrade {
			hint += "; roll back with '" + x.helmRollback(c) + "'"
		}
		return x.fail(c, OutcomeFailed, msg, hint)
	}
	x.emit(Event{Type: EventVerify, Context: c.Context, Release: c.Release, OK: true})
	x.result(c, func(r *Result) { r.Done, r.Outcome = append(r.Done, StepVerify), c.Success })
	x.progress(c, "verified")
	return true
}

func (x *run) helmRollback(c *Change) string {
	return fmt.Sprintf("helm --kube-context %s -n %s rollback %s", c.Context, x.cfg.Namespace, c.Release)
}

// helmFailed classifies a failed helm operation by its type (helmsdk.OperationError) and reads what state
// it left; it returns false.
func (x *run) helmFailed(c *Change, err error) bool {
	var oe *helmsdk.OperationError
	errors.As(err, &oe)
	msg := x.scrub(err.Error())
	state := ""
	if last, lerr := c.Helm.Last(c.Release); lerr == nil {
		state = fmt.Sprintf("revision %d %s (%s %s)", last.Revision, last.Status, last.Chart, last.ChartVersion)
		x.result(c, func(r *Result) { r.Revision, r.ToVersion = last.Revision, last.ChartVersion })
		if oe != nil && oe.RolledBack {
			x.emit(Event{Type: EventRollback, Context: c.Context, Release: c.Release, ToRevision: last.Revision})
		}
		if last.Pending() && x.cfg.Verb == VerbUpgrade {
			return x.fail(c, outcomeOf(oe), msg+"; the release is left "+state,
				fmt.Sprintf("run '%s upgrade' again to resume (it waits until the lock lease is stale, %ds, and helm's own wait could have ended), or roll back: '%s'", x.cfg.Name, defaultLockSeconds, x.helmRollback(c)))
		}
	} else {
		state = "unknown (the cluster cannot be read: " + x.scrub(lerr.Error()) + ")"
	}
	if oe != nil && oe.RolledBack { // issue 12 §4: what the rollback did not undo
		if n := notRolledBack(c.Result.Done); n != "" {
			state += "; " + n
		}
	}
	outcome, hint := x.failureHint(c, oe)
	return x.fail(c, outcome, msg+"; now "+state, hint)
}

// failureHint is the outcome and the hint of a failed helm operation.
func (x *run) failureHint(c *Change, oe *helmsdk.OperationError) (string, string) {
	name, rollback := x.cfg.Name, x.helmRollback(c)
	if x.cfg.Verb == VerbRollback {
		return outcomeOf(oe), fmt.Sprintf("see '%s status' and '%s doctor'; run the rollback again once the cause is fixed", name, name)
	}
	switch {
	case oe != nil && oe.Interrupted && oe.RolledBack:
		// Ctrl-C during the wait: Helm's --atomic rolled the release back; that is an interruption, not a
		// rollout that failed (exit 130, not 3).
		return OutcomeInterrupted, fmt.Sprintf("the release runs its previous version again; run '%s upgrade' again when ready", name)
	case oe != nil && oe.RolledBack:
		return OutcomeRolledBack, fmt.Sprintf("the release runs its previous version again; see '%s status' and '%s doctor' for why the new pods did not become ready, fix it and upgrade again", name, name)
	case oe != nil && oe.Interrupted:
		return OutcomeInterrupted, fmt.Sprintf("run '%s upgrade' again to resume, or roll back: '%s'", name, rollback)
	case oe != nil && oe.TimedOut:
		return OutcomeTimedOut, fmt.Sprintf("see '%s status'; run '%s upgrade' again with a longer --timeout to resume, or roll back: '%s'", name, name, rollback)
	}
	return OutcomeFailed, fmt.Sprintf("see '%s doctor'; roll back with '%s'", name, rollback)
}

func outcomeOf(oe *helmsdk.OperationError) string {
	switch {
	case oe == nil:
		return OutcomeFailed
	case oe.Interrupted:
		return OutcomeInterrupted
	case oe.TimedOut:
		return OutcomeTimedOut
	}
	return OutcomeFailed
}

// applyCRDs server-side applies every CustomResourceDefinition of a crds/ file (forcing ownership: Helm
// created them with a plain create) and returns the names of those applied. A CRD the chart would
// downgrade, or whose stored or served versions it would drop, is kept unless force.
func applyCRDs(ctx context.Context, c *kube.Cluster, data []byte, force bool) (applied []string, kept []CRDVerdict, err error) {
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		return nil, nil, err
	}
	for _, doc := range helmsdk.SplitDocuments(string(data)) {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			return applied, kept, fmt.Errorf("parsing a CRD: %v", err)
		}
		if obj == nil || obj["kind"] != "CustomResourceDefinition" {
			continue
		}
		if !force {
			v, err := checkLiveCRD(ctx, dyn, obj)
			if err != nil {
				return applied, kept, err
			}
			if v.Keep {
				kept = append(kept, v)
				continue
			}
		}
		name, err := applyCRD(ctx, dyn, obj)
		if err != nil {
			return applied, kept, err
		}
		applied = append(applied, name)
	}
	return applied, kept, nil
}

func applyCRD(ctx context.Context, dyn dynamic.Interface, obj map[string]any) (string, error) {
	u := &unstructured.Unstructured{Object: obj}
	body, err := u.MarshalJSON()
	if err != nil {
		return "", err
	}
	forceOwnership := true
	if _, err := dyn.Resource(crdGVR).Patch(ctx, u.GetName(), types.ApplyPatchType, body,
		metav1.PatchOptions{FieldManager: FieldManager, Force: &forceOwnership}); err != nil {
		return "", fmt.Errorf("applying CRD %s: %w", u.GetName(), err)
	}
	return u.GetName(), nil
}
