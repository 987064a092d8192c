package upgrade

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/inspect"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
	"github.com/skoala-dev/kubectl-skoala/pkg/upgradepath"
)

// FieldManager is the server-side apply field manager of the CRDs kubectl-skoala applies.
const FieldManager = "kubectl-skoala"

// execute runs the plan: locks, then backups of every release, then the releases one by one, control
// plane first, stopping at the first failure.
func execute(ctx context.Context, d Deps, cfg Config, rep *Report, ws []*work) (err error) {
	var todo []*work
	for _, w := range ws {
		switch w.plan.Action {
		case ActionUpgrade, ActionInstall, ActionResume:
			todo = append(todo, w)
			w.plan.Result = &Result{Outcome: OutcomeNotStarted}
		case ActionUpToDate:
			w.plan.Result = &Result{Outcome: OutcomeUpToDate}
		case ActionSkipped:
			w.plan.Result = &Result{Outcome: OutcomeSkipped}
		}
	}
	progress := func(format string, a ...any) {
		if d.ErrOut != nil {
			fmt.Fprintln(d.ErrOut, scrub(fmt.Sprintf(format, a...), ws))
		}
	}
	fail := func(w *work, outcome, msg, hint string) error {
		w.plan.Result.Outcome = outcome
		w.plan.Result.Error = scrub(msg, ws)
		w.plan.Result.Hint = hint
		rep.Outcome = outcome
		rep.Message = fmt.Sprintf("%s/%s: %s", w.plan.Context, w.plan.Release, w.plan.Result.Error)
		rep.Hint = hint
		return nil
	}
	// 1. Locks, each released at the end whatever happens.
	defer func() {
		for _, w := range todo {
			if w.lock != nil {
				if lerr := w.lock.Release(); lerr != nil {
					rep.Warnings = append(rep.Warnings, scrub(lerr.Error(), ws))
				}
			}
		}
	}()
	for _, w := range todo {
		if w.plan.Action == ActionInstall {
			if err := ensureNamespace(ctx, w, cfg.Namespace); err != nil {
				return fail(w, OutcomeFailed, err.Error(), "")
			}
		}
		// issue 12 §1: the lock records --timeout/--atomic; it watches a held Lease before judging it stale.
		lk, err := AcquireLock(ctx, w.cluster.Client, cfg.Namespace, w.target.Release, LockOptions{Target: w.plan.To, Timeout: cfg.Timeout, Atomic: cfg.Atomic,
			Progress: func(s string) { progress("%s/%s: %s", w.plan.Context, w.plan.Release, s) }})
		if err != nil {
			var le *LockedError
			if errors.As(err, &le) {
				rep.Outcome = OutcomeRefused
				rep.Message = le.Error()
				rep.Hint = "wait for the other upgrade to finish, then run this one again"
				w.plan.Result.Error = le.Error()
				return nil
			}
			msg, hint := kube.Explain(err, "create", "leases in namespace "+cfg.Namespace)
			return fail(w, OutcomeFailed, "taking the upgrade lock: "+msg, hint)
		}
		w.lock = lk
		// The release must still be what was planned.
		last, err := w.helm.Last(w.target.Release)
		var nf *helmsdk.NotFoundError
		switch {
		case errors.As(err, &nf) && w.last == nil:
		case err != nil:
			msg, hint := kube.Explain(err, "list", "secrets in namespace "+cfg.Namespace)
			return fail(w, OutcomeFailed, msg, hint)
		case w.last == nil || last.Revision != w.last.Revision || last.Status != w.last.Status:
			return fail(w, OutcomeRefused, fmt.Sprintf("the release changed since the plan (now revision %d, %s)", last.Revision, last.Status), "run the upgrade again to plan afresh")
		}
		// issue 12 §1: resume only the revision the lock recorded, once Helm's own wait and rollback could have ended.
		if w.plan.Action == ActionResume {
			if refused, err := resumeGate(ctx, lk, w.last.Revision, w.last.Status, progress); refused != "" || err != nil {
				if err != nil {
					return fail(w, OutcomeFailed, err.Error(), "")
				}
				return fail(w, OutcomeRefused, refused, fmt.Sprintf("wait for that operation to end, then run the upgrade again (see '%s doctor')", cfg.Name))
			}
		}
	}
	jr := journalBegin(ctx, d, cfg, rep, ws) // the journal (pkg/journal): before the first change, then per release
	defer jr.finish(rep, ws)
	// 2. Backups of every release before the first change.
	if warn, err := backup.EnsureDir(cfg.BackupDir); err != nil {
		rep.Outcome = OutcomeFailed
		rep.Message = "nothing was changed: " + err.Error()
		rep.Hint = "give a writable --backup-dir"
		return nil
	} else if warn != "" {
		rep.Warnings = append(rep.Warnings, warn)
	}
	for _, w := range todo {
		b := baseRelease(w)
		if b == nil {
			continue
		}
		src, err := backup.SourceOf(w.target.Context, b, false, d.Now(), cfg.Tool)
		if err != nil {
			return fail(w, OutcomeFailed, "nothing was changed: "+err.Error(), "")
		}
		files, err := backup.Write(src, backup.Options{Dir: cfg.BackupDir})
		if err != nil {
			rep.Outcome = OutcomeFailed
			rep.Message = "nothing was changed: " + scrub(err.Error(), ws)
			rep.Hint = "give a writable --backup-dir"
			return nil
		}
		for _, f := range files {
			w.plan.Result.Backups = append(w.plan.Result.Backups, f.Path)
			progress("backed up %s/%s revision %d to %s", w.plan.Context, w.plan.Release, b.Revision, f.Path)
		}
		w.plan.Result.Done = append(w.plan.Result.Done, StepBackup)
	}
	// 3. The releases, one by one.
	for _, w := range todo {
		start := d.Now()
		jr.update(ws, w)
		rctx, cancelRun := w.lock.Bind(ctx) // issue 12 §1: a lost lock cancels the run
		stop := runRelease(rctx, d, cfg, rep, w, ws, progress)
		cancelRun()
		w.plan.Result.Duration = d.Now().Sub(start).Round(time.Second).String()
		jr.update(ws, nil)
		if stop {
			return nil
		}
		if ctx.Err() != nil {
			w.plan.Result.Outcome = OutcomeInterrupted
			rep.Outcome = OutcomeInterrupted
			return ctx.Err()
		}
	}
	rep.Outcome = OutcomeUpgraded
	rep.Message = fmt.Sprintf("%d release(s) upgraded (or installed) and verified", len(todo))
	return nil
}

// runRelease upgrades one release; it returns true when the fleet upgrade must stop.
func runRelease(ctx context.Context, d Deps, cfg Config, rep *Report, w *work, ws []*work, progress func(string, ...any)) bool {
	p := w.plan
	res := p.Result
	name := p.Context + "/" + p.Release
	stopWith := func(outcome, msg, hint string) bool {
		res.Outcome = outcome
		res.Error = scrub(msg, ws)
		res.Hint = hint
		rep.Outcome = outcome
		rep.Message = fmt.Sprintf("%s: %s", name, res.Error)
		rep.Hint = hint
		return true
	}
	progress("%s: %s %s -> %s", name, p.Action, orDash(p.From), p.To)
	if p.Action == ActionResume {
		if err := w.lock.Confirm(ctx); err != nil { // issue 12 §1: confirm the lock before every change
			return stopWith(OutcomeFailed, err.Error(), "")
		}
		desc := fmt.Sprintf("kubectl-skoala: marked failed: left %s by an interrupted upgrade", w.last.Status)
		if err := w.helm.Unlock(p.Release, w.last.Revision, desc); err != nil {
			return stopWith(OutcomeFailed, err.Error(), "")
		}
		res.Done = append(res.Done, StepUnlock)
		progress("%s: marked the stale %s revision %d failed", name, w.last.Status, w.last.Revision)
		// issue 12 §2: back to the deployed revision first, so what only the interrupted revision added goes.
		if rb, err := resumeRollback(ctx, w.lock, w.helm, p.Release, w.deployed, cfg.Timeout); err != nil {
			return stopWith(OutcomeFailed, err.Error(), fmt.Sprintf("see '%s doctor'", cfg.Name))
		} else if rb != nil {
			w.last = rb
			progress("%s: rolled back to revision %d (now revision %d)", name, w.deployed.Revision, rb.Revision)
		}
	}
	for _, s := range p.Steps {
		if err := w.lock.Confirm(ctx); err != nil { // issue 12 §1: confirm the lock before every change
			return stopWith(OutcomeFailed, err.Error(), "")
		}
		switch s.Kind {
		case StepJobs:
			if err := deleteJobs(ctx, w, cfg.Namespace); err != nil {
				msg, hint := kube.Explain(err, "delete", "jobs in namespace "+cfg.Namespace)
				return stopWith(OutcomeFailed, "deleting the admission Jobs: "+msg, hint)
			}
			res.Done = append(res.Done, StepJobs)
			progress("%s: deleted Jobs %s", name, strings.Join(upgradepath.AdmissionJobs, ", "))
		case StepCRDs:
			for _, f := range s.Files {
				for _, cf := range w.crds {
					if cf.Path != f {
						continue
					}
					n, kept, err := applyCRDs(ctx, w.cluster, cf.Data, cfg.Force)
					for _, k := range kept {
						progress("%s: kept the live CRD %s: %s (give --force to apply the chart's)", name, k.Name, k.Reason)
					}
					if err != nil {
						msg, hint := kube.Explain(err, "patch", "customresourcedefinitions")
						return stopWith(OutcomeFailed, fmt.Sprintf("applying %s: %s", f, msg), hint)
					}
					progress("%s: applied %d CRD(s) of %s", name, n, f)
				}
			}
			res.Done = append(res.Done, StepCRDs+":"+strings.Join(s.Files, ","))
		}
	}
	// The helm operation, with the live view of the rollout.
	next := 1
	if w.last != nil {
		next = w.last.Revision + 1
	}
	if err := w.lock.Confirm(ctx); err != nil { // issue 12 §1: confirm the lock before every change
		return stopWith(OutcomeFailed, err.Error(), "")
	}
	if err := w.lock.SetRevision(next); err != nil {
		return stopWith(OutcomeFailed, "recording the upgrade in its lock: "+err.Error(), "")
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
		watch(watchCtx, w, cfg.Namespace, d.Now, progress)
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
		return helmFailed(ctx, cfg, rep, w, ws, err, stopWith)
	}
	res.Revision = rel.Revision
	res.Done = append(res.Done, StepHelm)
	progress("%s: helm %s done: revision %d deployed", name, p.Action, rel.Revision)
	// Verify.
	w.objects = rel.Objects()
	vctx, cancel := context.WithTimeout(ctx, verifyTimeout(cfg.Timeout))
	comps, problems := verify(vctx, w, cfg, d.Now, progress)
	cancel()
	res.Components = comps
	if len(problems) > 0 {
		return stopWith(OutcomeFailed, "verification failed: "+strings.Join(problems, "; "),
			fmt.Sprintf("see '%s status' and '%s doctor'; roll back with 'helm --kube-context %s -n %s rollback %s'", cfg.Name, cfg.Name, p.Context, cfg.Namespace, p.Release))
	}
	res.Done = append(res.Done, StepVerify)
	if p.Action == ActionInstall {
		res.Outcome = OutcomeInstalled
	} else {
		res.Outcome = OutcomeUpgraded
	}
	progress("%s: verified", name)
	return false
}

func verifyTimeout(t time.Duration) time.Duration {
	if t > 2*time.Minute {
		return 2 * time.Minute
	}
	if t < 20*time.Second {
		return 20 * time.Second
	}
	return t
}

// helmFailed classifies a failed helm operation and reads what state it left.
func helmFailed(ctx context.Context, cfg Config, rep *Report, w *work, ws []*work, err error, stopWith func(string, string, string) bool) bool {
	p := w.plan
	var oe *helmsdk.OperationError
	errors.As(err, &oe)
	msg := scrub(err.Error(), ws)
	rollback := fmt.Sprintf("helm --kube-context %s -n %s rollback %s", p.Context, cfg.Namespace, p.Release)
	// What did it leave? (a fresh context: the run's may be cancelled)
	state := ""
	rctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_ = rctx
	if last, lerr := w.helm.Last(p.Release); lerr == nil {
		state = fmt.Sprintf("revision %d %s (%s %s)", last.Revision, last.Status, last.Chart, last.ChartVersion)
		p.Result.Revision = last.Revision
		if last.Pending() {
			return stopWith(outcomeOf(oe), msg+"; the release is left "+state,
				fmt.Sprintf("run '%s upgrade' again to resume (it waits until the lock lease is stale, %ds, and helm's own wait could have ended), or roll back: '%s'", cfg.Name, defaultLockSeconds, rollback))
		}
	} else {
		state = "unknown (the cluster cannot be read: " + scrub(lerr.Error(), ws) + ")"
	}
	switch {
	case oe != nil && oe.Interrupted && oe.RolledBack:
		// Ctrl-C during the wait: Helm's --atomic rolled the release back; that is an interruption, not a
		// rollout that failed (exit 130, not 3).
		return stopWith(OutcomeInterrupted, msg+"; now "+state,
			fmt.Sprintf("the release runs its previous version again; run '%s upgrade' again when ready", cfg.Name))
	case oe != nil && oe.RolledBack:
		return stopWith(OutcomeRolledBack, msg+"; now "+state,
			fmt.Sprintf("the release runs its previous version again; see '%s status' and '%s doctor' for why the new pods did not become ready, fix it and upgrade again", cfg.Name, cfg.Name))
	case oe != nil && oe.Interrupted:
		return stopWith(OutcomeInterrupted, msg+"; now "+state,
			fmt.Sprintf("run '%s upgrade' again to resume, or roll back: '%s'", cfg.Name, rollback))
	case oe != nil && oe.TimedOut:
		return stopWith(OutcomeTimedOut, msg+"; now "+state,
			fmt.Sprintf("see '%s status'; run '%s upgrade' again with a longer --timeout to resume, or roll back: '%s'", cfg.Name, cfg.Name, rollback))
	}
	return stopWith(OutcomeFailed, msg+"; now "+state, fmt.Sprintf("see '%s doctor'; roll back with '%s'", cfg.Name, rollback))
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
	bg := metav1.DeletePropagationBackground
	jobs := w.cluster.Client.BatchV1().Jobs(ns)
	for _, j := range upgradepath.AdmissionJobs {
		if err := jobs.Delete(ctx, j, metav1.DeleteOptions{PropagationPolicy: &bg}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	for i := 0; i < 60; i++ {
		left := 0
		for _, j := range upgradepath.AdmissionJobs {
			if _, err := jobs.Get(ctx, j, metav1.GetOptions{}); err == nil {
				left++
			} else if !apierrors.IsNotFound(err) {
				return err
			}
		}
		if left == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return fmt.Errorf("the admission Jobs are still there after 30s")
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// applyCRDs server-side applies every CustomResourceDefinition of a crds/ file (forcing ownership: Helm
// created them with a plain create).
// A CRD the chart would downgrade, or whose stored or served versions it would drop, is kept unless force.
func applyCRDs(ctx context.Context, c *kube.Cluster, data []byte, force bool) (n int, kept []CRDVerdict, err error) {
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		return 0, nil, err
	}
	for _, doc := range bytes.Split(append([]byte("\n"), data...), []byte("\n---")) {
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var obj map[string]any
		if err := yaml.Unmarshal(doc, &obj); err != nil {
			return n, kept, fmt.Errorf("parsing a CRD: %v", err)
		}
		if obj == nil || obj["kind"] != "CustomResourceDefinition" {
			continue
		}
		if !force {
			v, err := checkLiveCRD(ctx, dyn, obj)
			if err != nil {
				return n, kept, err
			}
			if v.Keep {
				kept = append(kept, v)
				continue
			}
		}
		u := &unstructured.Unstructured{Object: obj}
		body, err := u.MarshalJSON()
		if err != nil {
			return n, kept, err
		}
		forceOwnership := true
		if _, err := dyn.Resource(crdGVR).Patch(ctx, u.GetName(), types.ApplyPatchType, body,
			metav1.PatchOptions{FieldManager: FieldManager, Force: &forceOwnership}); err != nil {
			return n, kept, fmt.Errorf("applying CRD %s: %w", u.GetName(), err)
		}
		n++
	}
	return n, kept, nil
}

// watch prints the rollout of w's workloads on the progress stream whenever a component changes, until
// ctx ends.
func watch(ctx context.Context, w *work, ns string, now func() time.Time, progress func(string, ...any)) {
	if len(inspect.Workloads(w.objects)) == 0 {
		return
	}
	start := now()
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
		el := now().Sub(start).Round(time.Second)
		if err != nil {
			msg, _ := kube.Explain(err, "list", "workloads in namespace "+ns)
			if msg != lastErr {
				progress("  [%4s] %s/%s: cannot read the rollout: %s", el, w.plan.Context, w.plan.Release, msg)
				lastErr = msg
			}
		} else {
			lastErr = ""
			for _, c := range comps {
				line := componentLine(c)
				if last[c.Name] != line {
					progress("  [%4s] %s/%s: %s", el, w.plan.Context, w.plan.Release, line)
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
func verify(ctx context.Context, w *work, cfg Config, now func() time.Time, progress func(string, ...any)) ([]inspect.Component, []string) {
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
			if !c.Healthy() {
				p := fmt.Sprintf("%s is %s (%d/%d)", c.Name, c.State, c.Ready, c.Desired)
				if len(c.Problems) > 0 {
					p += ": " + c.Problems[0]
				}
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

var _ = io.Discard
