package upgrade

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/skoala-dev/kubectl-skoala/pkg/backup"
	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/inspect"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
	"github.com/skoala-dev/kubectl-skoala/pkg/upgradepath"
)

// FieldManager is the server-side apply field manager of the CRDs kubectl-skoala applies.
const FieldManager = "kubectl-skoala"

// Execute carries out a runnable plan: locks, then backups of every release, then the releases one by
// one, control plane first, stopping at the first failure. Before every step that changes a cluster it
// asks Deps.Guard and the release's lock ((*Lock).Confirm). It returns the plan's report with the outcome
// of the run and of each release (also with an error, which is only the context's: an interruption). A
// plan that is not Runnable is returned as it is, and nothing is observed.
func Execute(ctx context.Context, d Deps, p *Planned) (*Report, error) {
	if !p.Runnable() {
		return p.Report, nil
	}
	x := &executor{d: d.withDefaults(), cfg: p.cfg, rep: p.Report, ws: p.works}
	for _, w := range x.ws {
		switch {
		case w.plan.changes():
			x.todo = append(x.todo, w)
			w.plan.Result = &Result{Outcome: OutcomeNotStarted}
		case w.plan.Action == ActionUpToDate:
			w.plan.Result = &Result{Outcome: OutcomeUpToDate}
		case w.plan.Action == ActionSkipped:
			w.plan.Result = &Result{Outcome: OutcomeSkipped}
		}
	}
	x.d.Observe(Event{Kind: EventRunStart, Plan: x.rep})
	err := x.run(ctx)
	x.d.Observe(Event{Kind: EventRunDone, Plan: x.rep})
	return x.rep, err
}

// executor is one run of Execute.
type executor struct {
	d    Deps
	cfg  Config
	rep  *Report
	ws   []*work
	todo []*work
}

func (x *executor) run(ctx context.Context) error {
	defer x.releaseLocks()
	if !x.lockAll(ctx) {
		return nil
	}
	jr, err := journalBegin(ctx, x.d, x.cfg, x.rep, x.ws) // the journal (pkg/journal): before the first change, then per release
	if err != nil {
		x.failRun("the run could not be recorded in the journal: "+err.Error(), journalHint(err, x.cfg))
		return nil
	}
	defer jr.finish(x.rep, x.ws)
	if !x.backupAll() {
		return nil
	}
	for _, w := range x.todo {
		start := x.d.Now()
		x.d.Observe(Event{Kind: EventReleaseStart, Context: w.plan.Context, Release: w.plan.Release, Plan: x.rep})
		jr.update(x.ws, w)
		rctx, cancelRun := w.lock.Bind(ctx) // issue 12 §1: a lost lock cancels the run
		stop := x.runRelease(rctx, w)
		cancelRun()
		jr.update(x.ws, nil)
		w.plan.Result.Duration = x.d.Now().Sub(start).Round(time.Second).String()
		interrupted := !stop && ctx.Err() != nil
		if interrupted {
			w.plan.Result.Outcome = OutcomeInterrupted
			x.rep.Outcome = OutcomeInterrupted
		}
		x.d.Observe(Event{Kind: EventReleaseDone, Context: w.plan.Context, Release: w.plan.Release, Done: x.done(w)})
		if stop {
			return nil
		}
		if interrupted {
			return ctx.Err()
		}
	}
	x.rep.Outcome = OutcomeUpgraded
	x.rep.Message = fmt.Sprintf("%d release(s) upgraded (or installed) and verified", len(x.todo))
	return nil
}

// done is what w's steps did, for EventReleaseDone.
func (x *executor) done(w *work) *ReleaseDone {
	p := w.plan
	d := &ReleaseDone{Chart: p.Chart, ToVersion: p.To, ToRevision: p.Result.Revision, Outcome: p.Result.Outcome,
		Error: p.Result.Error, CRDsApplied: w.crdsApplied, JobsDeleted: w.jobsDeleted}
	if b := baseRelease(w); b != nil {
		d.FromVersion, d.FromRevision = b.ChartVersion, b.Revision
	}
	if p.Result.Outcome != OutcomeUpgraded && p.Result.Outcome != OutcomeInstalled {
		// The release did not reach the target: it runs what its newest revision runs (a rollback's).
		d.ToVersion = ""
		if last, err := w.helm.Last(p.Release); err == nil {
			d.ToVersion, d.ToRevision = last.ChartVersion, last.Revision
		}
	}
	for _, o := range append(append([]Override{}, p.Overrides...), p.Dropped...) {
		d.ValuesChanged = append(d.ValuesChanged, o.Key)
	}
	return d
}

// progress sends a progress line about w, with every secret masked.
func (x *executor) progress(w *work, format string, a ...any) {
	x.d.Observe(Event{Kind: EventProgress, Context: w.plan.Context, Release: w.plan.Release, Message: scrub(fmt.Sprintf(format, a...), x.ws)})
}

// log sends a line of progress that names what it is about itself, with every secret masked.
func (x *executor) log(w *work, format string, a ...any) {
	x.d.Observe(Event{Kind: EventLog, Context: w.plan.Context, Release: w.plan.Release, Message: scrub(fmt.Sprintf(format, a...), x.ws)})
}

// fail records the failure of w as the outcome of the run; it returns true (the run stops).
func (x *executor) fail(w *work, outcome, msg, hint string) bool {
	res := w.plan.Result
	res.Outcome = outcome
	res.Error = scrub(msg, x.ws)
	res.Hint = hint
	x.rep.Outcome = outcome
	x.rep.Message = fmt.Sprintf("%s/%s: %s", w.plan.Context, w.plan.Release, res.Error)
	x.rep.Hint = hint
	return true
}

// failRun records a failure that belongs to no release, before any change.
func (x *executor) failRun(msg, hint string) {
	x.rep.Outcome = OutcomeFailed
	x.rep.Message = "nothing was changed: " + scrub(msg, x.ws)
	x.rep.Hint = hint
}

// guard asks whether the run may go on with a change to w: Deps.Guard, then w's lock confirms it is still
// held (issue 12 §1). An error stops the run before the change.
func (x *executor) guard(ctx context.Context, w *work) error {
	if x.d.Guard != nil {
		if err := x.d.Guard(ctx); err != nil {
			return err
		}
	}
	return w.lock.Confirm(ctx)
}

// failGuard records a stop by the guard; it returns true.
func (x *executor) failGuard(w *work, err error) bool {
	return x.fail(w, OutcomeFailed, err.Error(), exit.HintOf(err))
}

func (x *executor) releaseLocks() {
	for _, w := range x.todo {
		if w.lock != nil {
			if err := w.lock.Release(); err != nil {
				x.rep.Warnings = append(x.rep.Warnings, scrub(err.Error(), x.ws))
			}
		}
	}
}

// lockAll takes the lock of every release to change (creating the namespace of an install first), checks
// that each is still what was planned and, for a resume, that it may go on; false means the run stops.
func (x *executor) lockAll(ctx context.Context) bool {
	for _, w := range x.todo {
		if w.plan.Action == ActionInstall {
			if err := x.guard(ctx, w); err != nil {
				return !x.failGuard(w, err)
			}
			if err := ensureNamespace(ctx, w, x.cfg.Namespace); err != nil {
				return !x.fail(w, OutcomeFailed, err.Error(), "")
			}
		}
		if !x.lock(ctx, w) || !x.unchanged(w) || !x.resumable(ctx, w) {
			return false
		}
	}
	return true
}

// lock takes w's lock; false means the run stops. The lock records --timeout and --atomic, and watches a
// held Lease before it judges it stale (issue 12 §1).
func (x *executor) lock(ctx context.Context, w *work) bool {
	ns := x.cfg.Namespace
	lk, err := AcquireLock(ctx, w.cluster.Client, ns, w.target.Release, LockOptions{Target: w.plan.To, Timeout: x.cfg.Timeout, Atomic: x.cfg.Atomic,
		Progress: func(s string) { x.progress(w, "%s", s) }})
	var le *LockedError
	switch {
	case errors.As(err, &le):
		x.rep.Outcome = OutcomeRefused
		x.rep.Message = le.Error()
		x.rep.Hint = "wait for the other upgrade to finish, then run this one again"
		w.plan.Result.Error = le.Error()
		return false
	case err != nil:
		msg, hint := kube.Explain(err, "create", "leases in namespace "+ns)
		return !x.fail(w, OutcomeFailed, "taking the upgrade lock: "+msg, hint)
	}
	w.lock = lk
	return true
}

// unchanged checks that the release is still what was planned; false means the run stops.
func (x *executor) unchanged(w *work) bool {
	last, err := w.helm.Last(w.target.Release)
	var nf *helmsdk.NotFoundError
	switch {
	case errors.As(err, &nf) && w.last == nil:
	case err != nil:
		msg, hint := kube.Explain(err, "list", "secrets in namespace "+x.cfg.Namespace)
		return !x.fail(w, OutcomeFailed, msg, hint)
	case w.last == nil || last.Revision != w.last.Revision || last.Status != w.last.Status:
		return !x.fail(w, OutcomeRefused, fmt.Sprintf("the release changed since the plan (now revision %d, %s)", last.Revision, last.Status), "run the upgrade again to plan afresh")
	}
	return true
}

// resumable lets a resume go on only for the revision the lock recorded, once Helm's own wait and
// rollback could have ended (issue 12 §1); false means the run stops.
func (x *executor) resumable(ctx context.Context, w *work) bool {
	if w.plan.Action != ActionResume {
		return true
	}
	logf := func(format string, a ...any) { x.log(w, format, a...) }
	refused, err := resumeGate(ctx, w.lock, pendingInput(x.cfg, w.last, x.d.Now()), logf)
	switch {
	case err != nil:
		return !x.fail(w, OutcomeFailed, err.Error(), "")
	case refused != "":
		return !x.fail(w, OutcomeRefused, refused, fmt.Sprintf("wait for that operation to end, then run the upgrade again (see '%s doctor'), or give --force if none is running", x.cfg.Name))
	}
	return true
}

// backupAll backs up every release before the first change; false means the run stops.
func (x *executor) backupAll() bool {
	warn, err := backup.EnsureDir(x.cfg.BackupDir)
	if err != nil {
		x.failRun(err.Error(), "give a writable --backup-dir")
		return false
	}
	if warn != "" {
		x.rep.Warnings = append(x.rep.Warnings, warn)
	}
	for _, w := range x.todo {
		b := baseRelease(w)
		if b == nil {
			continue
		}
		src, err := backup.SourceOf(w.target.Context, b, false, x.d.Now(), x.cfg.Tool)
		if err != nil {
			return !x.fail(w, OutcomeFailed, "nothing was changed: "+err.Error(), "")
		}
		files, err := backup.Write(src, backup.Options{Dir: x.cfg.BackupDir})
		if err != nil {
			x.failRun(err.Error(), "give a writable --backup-dir")
			return false
		}
		for _, f := range files {
			w.plan.Result.Backups = append(w.plan.Result.Backups, f.Path)
			x.log(w, "backed up %s/%s revision %d to %s", w.plan.Context, w.plan.Release, b.Revision, f.Path)
		}
		w.plan.Result.Done = append(w.plan.Result.Done, StepBackup)
	}
	return true
}

// runRelease upgrades one release; it returns true when the fleet upgrade must stop.
func (x *executor) runRelease(ctx context.Context, w *work) bool {
	p := w.plan
	x.progress(w, "%s %s -> %s", p.Action, orDash(p.From), p.To)
	if p.Action == ActionResume && x.resume(ctx, w) {
		return true
	}
	for _, s := range p.Steps {
		switch s.Kind {
		case StepJobs:
			if x.deleteJobs(ctx, w) {
				return true
			}
		case StepCRDs:
			if x.applyCRDs(ctx, w, s) {
				return true
			}
		}
	}
	rel, stop := x.helmStep(ctx, w)
	if stop {
		return true
	}
	return x.verifyStep(ctx, w, rel)
}

// resume marks the stale pending revision failed, so that Helm accepts the upgrade, and brings the
// release back to its deployed revision first (issue 12 §2), so that what only the interrupted revision
// added goes.
func (x *executor) resume(ctx context.Context, w *work) bool {
	p := w.plan
	if err := x.guard(ctx, w); err != nil {
		return x.failGuard(w, err)
	}
	desc := fmt.Sprintf("kubectl-skoala: marked failed: left %s by an interrupted upgrade", w.last.Status)
	if err := w.helm.Unlock(p.Release, w.last.Revision, desc); err != nil {
		return x.fail(w, OutcomeFailed, err.Error(), "")
	}
	p.Result.Done = append(p.Result.Done, StepUnlock)
	x.progress(w, "marked the stale %s revision %d failed", w.last.Status, w.last.Revision)
	if w.deployed == nil {
		return false
	}
	if err := x.guard(ctx, w); err != nil {
		return x.failGuard(w, err)
	}
	rb, err := resumeRollback(ctx, w.lock, w.helm, p.Release, w.deployed, x.cfg.Timeout)
	if err != nil {
		return x.fail(w, OutcomeFailed, err.Error(), fmt.Sprintf("see '%s doctor'", x.cfg.Name))
	}
	if rb != nil {
		w.last = rb
		x.progress(w, "rolled back to revision %d (now revision %d)", w.deployed.Revision, rb.Revision)
	}
	return false
}

func (x *executor) deleteJobs(ctx context.Context, w *work) bool {
	ns := x.cfg.Namespace
	if err := x.guard(ctx, w); err != nil {
		return x.failGuard(w, err)
	}
	if err := deleteJobs(ctx, w, ns); err != nil {
		msg, hint := kube.Explain(err, "delete", "jobs in namespace "+ns)
		return x.fail(w, OutcomeFailed, "deleting the admission Jobs: "+msg, hint)
	}
	w.jobsDeleted = append(w.jobsDeleted, upgradepath.AdmissionJobs...)
	w.plan.Result.Done = append(w.plan.Result.Done, StepJobs)
	x.progress(w, "deleted Jobs %s", strings.Join(upgradepath.AdmissionJobs, ", "))
	return false
}

// applyCRDs applies the crds/ files of a CRD step, keeping a live CRD the chart's would downgrade unless
// --force.
func (x *executor) applyCRDs(ctx context.Context, w *work, s Step) bool {
	if err := x.guard(ctx, w); err != nil {
		return x.failGuard(w, err)
	}
	for _, f := range s.Files {
		for _, cf := range w.crds {
			if cf.Path != f {
				continue
			}
			applied, kept, err := applyCRDs(ctx, w.cluster, cf.Data, x.cfg.Force)
			w.crdsApplied = append(w.crdsApplied, applied...)
			for _, k := range kept {
				x.progress(w, "kept the live CRD %s: %s (give --force to apply the chart's)", k.Name, k.Reason)
			}
			if err != nil {
				msg, hint := kube.Explain(err, "patch", "customresourcedefinitions")
				return x.fail(w, OutcomeFailed, fmt.Sprintf("applying %s: %s", f, msg), hint)
			}
			x.progress(w, "applied %d CRD(s) of %s", len(applied), f)
		}
	}
	w.plan.Result.Done = append(w.plan.Result.Done, StepCRDs+":"+strings.Join(s.Files, ","))
	return false
}

// helmStep runs the helm operation, with the live view of the rollout.
func (x *executor) helmStep(ctx context.Context, w *work) (*helmsdk.Release, bool) {
	p, cfg := w.plan, x.cfg
	next := 1
	if w.last != nil {
		next = w.last.Revision + 1
	}
	if err := x.guard(ctx, w); err != nil {
		return nil, x.failGuard(w, err)
	}
	if err := w.lock.SetRevision(next); err != nil {
		return nil, x.fail(w, OutcomeFailed, "recording the upgrade in its lock: "+err.Error(), "")
	}
	opts := helmsdk.UpgradeOptions{Values: w.values, Timeout: cfg.Timeout, Wait: true, Atomic: cfg.Atomic,
		CleanupOnFail: cfg.CleanupOnFail, MaxHistory: cfg.MaxHistory,
		Description: fmt.Sprintf("%s by kubectl-skoala %s", p.Action, cfg.Tool)}
	if p.Action == ActionInstall {
		opts.Description = ""
	}
	watchCtx, stopWatch := context.WithCancel(context.Background())
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		x.watch(watchCtx, w)
	}()
	var rel *helmsdk.Release
	var err error
	if p.Action == ActionInstall {
		rel, err = w.helm.Install(ctx, p.Release, w.chart, opts)
	} else {
		rel, err = w.helm.Upgrade(ctx, p.Release, w.chart, opts)
	}
	stopWatch()
	<-watchDone
	if err != nil {
		return nil, x.helmFailed(w, err)
	}
	p.Result.Revision = rel.Revision
	p.Result.Done = append(p.Result.Done, StepHelm)
	x.progress(w, "helm %s done: revision %d deployed", p.Action, rel.Revision)
	return rel, false
}

// verifyStep checks that every component of the new revision is ready and runs the new tags.
func (x *executor) verifyStep(ctx context.Context, w *work, rel *helmsdk.Release) bool {
	p, cfg := w.plan, x.cfg
	w.objects = rel.Objects()
	vctx, cancel := context.WithTimeout(ctx, VerifyTimeout(cfg.Timeout))
	comps, problems := verify(vctx, w, cfg)
	cancel()
	p.Result.Components = comps
	if len(problems) > 0 {
		return x.fail(w, OutcomeFailed, "verification failed: "+strings.Join(problems, "; "),
			fmt.Sprintf("see '%s status' and '%s doctor'; roll back with 'helm --kube-context %s -n %s rollback %s'", cfg.Name, cfg.Name, p.Context, cfg.Namespace, p.Release))
	}
	p.Result.Done = append(p.Result.Done, StepVerify)
	p.Result.Outcome = OutcomeUpgraded
	if p.Action == ActionInstall {
		p.Result.Outcome = OutcomeInstalled
	}
	x.progress(w, "verified")
	return false
}

// VerifyTimeout is how long the verification after a release's rollout may take: the rollout's timeout,
// within 20s and 2m.
func VerifyTimeout(t time.Duration) time.Duration {
	if t > 2*time.Minute {
		return 2 * time.Minute
	}
	if t < 20*time.Second {
		return 20 * time.Second
	}
	return t
}

// helmFailed classifies a failed helm operation and reads what state it left; it returns true.
func (x *executor) helmFailed(w *work, err error) bool {
	p, name := w.plan, x.cfg.Name
	var oe *helmsdk.OperationError
	errors.As(err, &oe)
	msg := scrub(err.Error(), x.ws)
	rollback := fmt.Sprintf("helm --kube-context %s -n %s rollback %s", p.Context, x.cfg.Namespace, p.Release)
	// What did it leave?
	state := ""
	if last, lerr := w.helm.Last(p.Release); lerr == nil {
		state = fmt.Sprintf("revision %d %s (%s %s)", last.Revision, last.Status, last.Chart, last.ChartVersion)
		p.Result.Revision = last.Revision
		if last.Pending() {
			return x.fail(w, outcomeOf(oe), msg+"; the release is left "+state,
				fmt.Sprintf("run '%s upgrade' again to resume (it waits until the lock lease is stale, %ds, and helm's own wait could have ended), or roll back: '%s'", name, defaultLockSeconds, rollback))
		}
	} else {
		state = "unknown (the cluster cannot be read: " + scrub(lerr.Error(), x.ws) + ")"
	}
	if oe != nil && oe.RolledBack { // issue 12 §4: what the rollback did not undo
		if n := notRolledBack(p.Result.Done); n != "" {
			state += "; " + n
		}
	}
	switch {
	case oe != nil && oe.Interrupted && oe.RolledBack:
		// Ctrl-C during the wait: Helm's --atomic rolled the release back; that is an interruption, not a
		// rollout that failed (exit 130, not 3).
		return x.fail(w, OutcomeInterrupted, msg+"; now "+state,
			fmt.Sprintf("the release runs its previous version again; run '%s upgrade' again when ready", name))
	case oe != nil && oe.RolledBack:
		return x.fail(w, OutcomeRolledBack, msg+"; now "+state,
			fmt.Sprintf("the release runs its previous version again; see '%s status' and '%s doctor' for why the new pods did not become ready, fix it and upgrade again", name, name))
	case oe != nil && oe.Interrupted:
		return x.fail(w, OutcomeInterrupted, msg+"; now "+state,
			fmt.Sprintf("run '%s upgrade' again to resume, or roll back: '%s'", name, rollback))
	case oe != nil && oe.TimedOut:
		return x.fail(w, OutcomeTimedOut, msg+"; now "+state,
			fmt.Sprintf("see '%s status'; run '%s upgrade' again with a longer --timeout to resume, or roll back: '%s'", name, name, rollback))
	}
	return x.fail(w, OutcomeFailed, msg+"; now "+state, fmt.Sprintf("see '%s doctor'; roll back with '%s'", name, rollback))
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

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func ensureNamespace(ctx context.Context, w *work, ns string) error {
	_, err := w.cluster.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err == nil {
		return nil
	}
	if !apierrors.IsNotFound(err) {
		msg, _ := kube.Explain(err, "get", "namespaces")
		return fmt.Errorf("reading namespace %s: %s", ns, msg)
	}
	_, err = w.cluster.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		msg, _ := kube.Explain(err, "create", "namespaces")
		return fmt.Errorf("creating namespace %s: %s", ns, msg)
	}
	return nil
}

// deleteJobs deletes the admission Jobs (and their pods) and waits until they are gone.
func deleteJobs(ctx context.Context, w *work, ns string) error {
	return kube.DeleteJobs(ctx, w.cluster.Client, ns, upgradepath.AdmissionJobs)
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

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
		u := &unstructured.Unstructured{Object: obj}
		body, err := u.MarshalJSON()
		if err != nil {
			return applied, kept, err
		}
		forceOwnership := true
		if _, err := dyn.Resource(crdGVR).Patch(ctx, u.GetName(), types.ApplyPatchType, body,
			metav1.PatchOptions{FieldManager: FieldManager, Force: &forceOwnership}); err != nil {
			return applied, kept, fmt.Errorf("applying CRD %s: %w", u.GetName(), err)
		}
		applied = append(applied, u.GetName())
	}
	return applied, kept, nil
}

// watch reports the rollout of w's workloads (EventRollout) whenever a component changes, until ctx ends.
func (x *executor) watch(ctx context.Context, w *work) {
	if len(inspect.Workloads(w.objects)) == 0 {
		return
	}
	ns := x.cfg.Namespace
	start := x.d.Now()
	last := map[string]string{}
	lastErr := ""
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		comps, err := components(rctx, w, ns)
		cancel()
		if ctx.Err() != nil {
			return
		}
		ev := Event{Kind: EventRollout, Context: w.plan.Context, Release: w.plan.Release, Elapsed: x.d.Now().Sub(start).Round(time.Second)}
		if err != nil {
			msg, _ := kube.Explain(err, "list", "workloads in namespace "+ns)
			if msg != lastErr {
				ev.Message = scrub("cannot read the rollout: "+msg, x.ws)
				x.d.Observe(ev)
				lastErr = msg
			}
		} else {
			lastErr = ""
			for _, c := range comps {
				if line := componentLine(c); last[c.Name] != line {
					ev.Message = scrub(line, x.ws)
					x.d.Observe(ev)
					last[c.Name] = line
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// components inspects the workloads of w's objects in the cluster.
func components(ctx context.Context, w *work, ns string) ([]inspect.Component, error) {
	return inspect.Objects(ctx, w.cluster.Client, ns, inspect.Workloads(w.objects), w.plan.To)
}

func componentLine(c inspect.Component) string {
	s := fmt.Sprintf("%-32s %d/%d %-11s %s", c.Name, c.Ready, c.Desired, c.State, orDash(c.Tag))
	if len(c.Problems) > 0 {
		s += " (" + c.Problems[0] + ")"
	}
	phases := map[string]int{}
	var order []string
	for _, p := range c.Pods {
		if p.Phase == "Running" || p.Phase == "Succeeded" {
			continue
		}
		if phases[p.Phase] == 0 {
			order = append(order, p.Phase)
		}
		phases[p.Phase]++
	}
	for _, ph := range order {
		s += fmt.Sprintf(" (%d pod %s)", phases[ph], ph)
	}
	return strings.TrimRight(s, " ")
}

// verify waits until every component is healthy, runs the expected tag and (with --image-registry) pulls
// from that registry, or ctx ends; it returns the components and what is still wrong.
func verify(ctx context.Context, w *work, cfg Config) ([]inspect.Component, []string) {
	var comps []inspect.Component
	var problems []string
	for {
		var err error
		comps, err = components(ctx, w, cfg.Namespace)
		problems = nil
		if err != nil {
			msg, _ := kube.Explain(err, "list", "workloads in namespace "+cfg.Namespace)
			problems = append(problems, msg)
		}
		for _, c := range comps {
			if p := c.Unhealthy(); p != "" {
				problems = append(problems, p)
			}
			if want, ok := w.tags[c.Name]; ok && c.Tag != want {
				problems = append(problems, fmt.Sprintf("%s runs %s, not %s", c.Name, orDash(c.Tag), want))
			}
			if cfg.ImageRegistry != "" {
				for _, im := range c.Images {
					if !strings.HasPrefix(im.Image, strings.TrimSuffix(cfg.ImageRegistry, "/")+"/") {
						problems = append(problems, fmt.Sprintf("%s container %s pulls %s, not from %s", c.Name, im.Container, im.Image, cfg.ImageRegistry))
					}
				}
			}
		}
		for name := range w.tags {
			found := false
			for _, c := range comps {
				found = found || c.Name == name
			}
			if !found && err == nil {
				problems = append(problems, name+" is not in the release")
			}
		}
		if len(problems) == 0 {
			return comps, nil
		}
		select {
		case <-ctx.Done():
			return comps, problems
		case <-time.After(2 * time.Second):
		}
	}
}
