package change

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/skoala-dev/kubectl-skoala/pkg/backup"
	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmops"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/journal"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
	"github.com/skoala-dev/kubectl-skoala/pkg/redact"
)

// Execute carries out the changes: it takes the lock of every active change, checks that each release
// is still what was planned, records the run in the journal, backs up every release, then runs the
// changes in waves (Schedule), asking Deps.Guard and the release's lock before every step that changes
// a cluster. It fills in each change's Result and returns the run's outcome (its error is only the
// context's: an interruption).
func Execute(ctx context.Context, d Deps, cfg Config, changes []*Change) (*Outcome, error) {
	x := &run{d: d.withDefaults(), cfg: cfg, all: changes, out: &Outcome{}, inflight: map[*Change]bool{}}
	x.runFn = x.runRelease
	for _, c := range changes {
		if !c.Passive {
			x.todo = append(x.todo, c)
			c.Result = Result{Outcome: OutcomeNotStarted}
		}
	}
	x.id = cfg.Journal.Resume
	if x.id == "" {
		x.id = journal.NewID(x.d.Now())
	}
	x.waves = Schedule(changes, cfg.Waves)
	for _, c := range changes {
		x.emit(PlanEvent(c, cfg.Namespace))
	}
	err := x.run(ctx)
	return x.out, err
}

// Announce sends the plan events of changes that will not be executed (a dry run, a refused or
// unconfirmed plan): their run is "" (there is no journal entry).
func Announce(d Deps, cfg Config, changes []*Change) {
	d = d.withDefaults()
	Schedule(changes, cfg.Waves)
	for _, c := range changes {
		e := PlanEvent(c, cfg.Namespace)
		e.Verb = cfg.Verb
		d.Observe(e)
	}
}

// PlanEvent is the plan event of c, a release in namespace ns.
func PlanEvent(c *Change, ns string) Event {
	return Event{Type: EventPlan, Context: c.Context, Release: c.Release, Namespace: ns, Chart: c.Chart, FromVersion: c.FromVersion,
		ToVersion: orNone(c.ToVersion), FromRevision: c.FromRevision, Wave: c.Wave, Action: c.Action}
}

// orNone is a target version, "none" for an uninstall.
func orNone(v string) string {
	if v == "" {
		return "none"
	}
	return v
}

// run is one run of Execute.
type run struct {
	d     Deps
	cfg   Config
	id    string // the run's id: the journal's, also when no journal is written
	all   []*Change
	todo  []*Change
	waves [][]*Change
	jr    *journalRun
	// mu guards out, the changes' results, inflight and stop: releases of a wave run at once.
	mu       sync.Mutex
	out      *Outcome
	inflight map[*Change]bool
	stop     bool
	// runFn runs one change's steps (x.runRelease; the scheduler's tests give a fake).
	runFn func(context.Context, *Change) bool
}

func (x *run) run(ctx context.Context) error {
	defer x.releaseLocks()
	if !x.lockAll(ctx) {
		return nil
	}
	jr, err := journalBegin(ctx, x)
	if err != nil {
		x.failRun("the run could not be recorded in the journal: "+err.Error(), journalHint(err, x.cfg))
		return nil
	}
	x.jr = jr
	defer jr.finish(x)
	if !x.backupAll() {
		return nil
	}
	return x.runWaves(ctx)
}

// emit sends e, with the run's verb and journal id.
func (x *run) emit(e Event) {
	e.Verb, e.Run = x.cfg.Verb, x.id
	x.d.Observe(e)
}

// scrub masks every secret the changes know of in s.
func (x *run) scrub(s string) string {
	var secrets []string
	for _, c := range x.all {
		secrets = append(secrets, c.Secrets...)
	}
	return redact.Scrub(s, secrets)
}

// progress sends a progress line about c, with every secret masked.
func (x *run) progress(c *Change, format string, a ...any) {
	x.emit(Event{Type: EventProgress, Context: c.Context, Release: c.Release, Message: x.scrub(fmt.Sprintf(format, a...))})
}

// log sends a line of progress that names what it is about itself, with every secret masked.
func (x *run) log(c *Change, format string, a ...any) {
	x.emit(Event{Type: EventLog, Context: c.Context, Release: c.Release, Message: x.scrub(fmt.Sprintf(format, a...))})
}

// result changes c's result under the run's lock.
func (x *run) result(c *Change, fn func(r *Result)) {
	x.mu.Lock()
	defer x.mu.Unlock()
	fn(&c.Result)
}

// did records a step of c done.
func (x *run) did(c *Change, step string) {
	x.result(c, func(r *Result) { r.Done = append(r.Done, step) })
}

// fail records the failure of c; the first failure of the run is the run's outcome. It returns false
// (the release stops).
func (x *run) fail(c *Change, outcome, msg, hint string) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	res := &c.Result
	res.Outcome, res.Error, res.Hint = outcome, x.scrub(msg), hint
	x.out.Failures++
	if x.out.Outcome == "" || x.out.Outcome == OutcomePaused {
		x.out.Outcome = outcome
		x.out.Message = fmt.Sprintf("%s/%s: %s", c.Context, c.Release, res.Error)
		x.out.Hint = hint
	}
	if c.Wave == 0 || x.isCanary(c) || x.out.Failures > x.cfg.Waves.MaxFailures || outcome == OutcomeInterrupted {
		x.stop = true
	}
	return false
}

// failRun records a failure that belongs to no release, before any change.
func (x *run) failRun(msg, hint string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.out.Outcome = OutcomeFailed
	x.out.Message = "nothing was changed: " + x.scrub(msg)
	x.out.Hint = hint
	x.stop = true
}

func (x *run) warn(s string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.out.Warnings = append(x.out.Warnings, x.scrub(s))
}

// guard asks whether the run may go on with a change to c: Deps.Guard, then c's lock confirms it is
// still held (issue 12 §1).
func (x *run) guard(ctx context.Context, c *Change) error {
	if x.d.Guard != nil {
		if err := x.d.Guard(ctx); err != nil {
			return err
		}
	}
	return c.lock.Confirm(ctx)
}

// failGuard records a stop by the guard; it returns false.
func (x *run) failGuard(c *Change, err error) bool {
	return x.fail(c, OutcomeFailed, err.Error(), exit.HintOf(err))
}

func (x *run) releaseLocks() {
	for _, c := range x.todo {
		if c.lock != nil {
			if err := c.lock.Release(); err != nil {
				x.warn(err.Error())
			}
		}
	}
}

// lockAll takes the lock of every change (creating the namespace of an install first) and checks that
// each release is still what was planned and may be changed now; false means the run stops.
func (x *run) lockAll(ctx context.Context) bool {
	for _, c := range x.todo {
		if c.CreateNamespace {
			if err := x.guard(ctx, c); err != nil {
				return x.failGuard(c, err)
			}
			if err := ensureNamespace(ctx, c.Cluster, x.cfg.Namespace); err != nil {
				return x.fail(c, OutcomeFailed, err.Error(), "")
			}
		}
		if !x.lock(ctx, c) || !x.noKpanda(ctx, c) || !x.unchanged(c) || !x.pendingGate(ctx, c) {
			x.stop = true
			return false
		}
	}
	return true
}

// lock takes c's lock; false means the run stops. The lock records --timeout and --atomic, and watches
// a held Lease before it judges it stale (issue 12 §1).
func (x *run) lock(ctx context.Context, c *Change) bool {
	ns := x.cfg.Namespace
	lk, err := AcquireLock(ctx, c.Cluster.Client, ns, c.Release, LockOptions{Target: c.ToVersion, Timeout: x.cfg.Timeout, Atomic: x.cfg.Atomic,
		Progress: func(s string) { x.progress(c, "%s", s) }})
	var le *LockedError
	switch {
	case errors.As(err, &le):
		return x.fail(c, OutcomeRefused, le.Error(), fmt.Sprintf("wait for the other operation to finish, then run the %s again", x.cfg.Verb))
	case err != nil:
		msg, hint := kube.Explain(err, "create", "leases in namespace "+ns)
		return x.fail(c, OutcomeFailed, "taking the lock: "+msg, hint)
	}
	c.lock = lk
	x.emit(Event{Type: EventLock, Context: c.Context, Release: c.Release})
	return true
}

// noKpanda refuses a release on which kpanda's Helm operations started since the plan: they take no
// lock, and two helm operations must not run on one release.
func (x *run) noKpanda(ctx context.Context, c *Change) bool {
	ns := x.cfg.Namespace
	ops, err := helmops.ActiveOperations(ctx, c.Cluster.Client, ns, c.Release)
	switch {
	case err != nil:
		msg, hint := kube.Explain(err, "list", "jobs in namespace "+ns)
		return x.fail(c, OutcomeFailed, msg, hint)
	case len(ops) > 0:
		return x.fail(c, OutcomeRefused, ops[0].String()+": it takes no kubectl-skoala lock, and two helm operations must not run on one release",
			fmt.Sprintf("wait for it to finish, then run the %s again", x.cfg.Verb))
	}
	return true
}

// unchanged checks that the release is still what was planned; false means the run stops.
func (x *run) unchanged(c *Change) bool {
	last, err := c.Helm.Last(c.Release)
	var nf *helmsdk.NotFoundError
	switch {
	case errors.As(err, &nf) && c.Expect == nil:
	case err != nil:
		msg, hint := kube.Explain(err, "list", "secrets in namespace "+x.cfg.Namespace)
		return x.fail(c, OutcomeFailed, msg, hint)
	case c.Expect == nil || last.Revision != c.Expect.Revision || last.Status != c.Expect.Status:
		return x.fail(c, OutcomeRefused, fmt.Sprintf("the release changed since the plan (now revision %d, %s)", last.Revision, last.Status),
			fmt.Sprintf("run the %s again to plan afresh", x.cfg.Verb))
	}
	return true
}

// pendingGate lets a pending revision be resumed or recovered only as helmops.DecidePending allows, once
// the lock is held, and once what the interrupted operation could still do has ended; false means the
// run stops.
func (x *run) pendingGate(ctx context.Context, c *Change) bool {
	if c.Pending == nil {
		return true
	}
	refused, err := resumeGate(ctx, c.lock, *c.Pending, func(format string, a ...any) { x.log(c, format, a...) })
	switch {
	case err != nil && ctx.Err() != nil:
		return x.fail(c, OutcomeInterrupted, err.Error(), "")
	case err != nil:
		return x.fail(c, OutcomeFailed, err.Error(), "")
	case refused != "":
		return x.fail(c, OutcomeRefused, refused, fmt.Sprintf("wait for that operation to end, then run the %s again (see '%s doctor'), or give --force if none is running", x.cfg.Verb, x.cfg.Name))
	}
	return true
}

// backupAll backs up every release before the first change; false means the run stops.
func (x *run) backupAll() bool {
	warn, err := backup.EnsureDir(x.cfg.BackupDir)
	if err != nil {
		x.failRun(err.Error(), "give a writable --backup-dir")
		return false
	}
	if warn != "" {
		x.warn(warn)
	}
	for _, c := range x.todo {
		if c.Base == nil {
			continue
		}
		src, err := backup.SourceOf(c.Context, c.Base, false, x.d.Now(), x.cfg.Tool)
		if err != nil {
			x.stop = true
			return x.fail(c, OutcomeFailed, "nothing was changed: "+err.Error(), "")
		}
		files, err := backup.Write(src, backup.Options{Dir: x.cfg.BackupDir})
		if err != nil {
			x.failRun(err.Error(), "give a writable --backup-dir")
			return false
		}
		for _, f := range files {
			x.result(c, func(r *Result) { r.Backups = append(r.Backups, f.Path) })
			x.emit(Event{Type: EventBackup, Context: c.Context, Release: c.Release, Path: f.Path})
			x.log(c, "backed up %s/%s revision %d to %s", c.Context, c.Release, c.Base.Revision, f.Path)
		}
		x.did(c, StepBackup)
	}
	return true
}

func ensureNamespace(ctx context.Context, kc *kube.Cluster, ns string) error {
	_, err := kc.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err == nil {
		return nil
	}
	if !apierrors.IsNotFound(err) {
		msg, _ := kube.Explain(err, "get", "namespaces")
		return fmt.Errorf("reading namespace %s: %s", ns, msg)
	}
	_, err = kc.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		msg, _ := kube.Explain(err, "create", "namespaces")
		return fmt.Errorf("creating namespace %s: %s", ns, msg)
	}
	return nil
}

// elapsed is the duration since start, rounded as the reports show it.
func (x *run) elapsed(start time.Time) time.Duration {
	return x.d.Now().Sub(start).Round(time.Second)
}
