package rollback

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/backup"
	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmops"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/inspect"
	"github.com/skoala-dev/kubectl-skoala/pkg/journal"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
	"github.com/skoala-dev/kubectl-skoala/pkg/redact"
	"github.com/skoala-dev/kubectl-skoala/pkg/upgrade"
)

// Steps done, as the result and the journal list them.
const (
	StepBackup    = "backup"
	StepUnlock    = "unlock"
	StepHelm      = "helm"
	StepUninstall = "uninstall"
	StepJobs      = "jobs"
	StepVerify    = "verify"
)

// item is the private state of one release of the plan.
type item struct {
	plan    *ReleasePlan
	state   ReleaseState
	helm    *helmsdk.Client
	lock    *upgrade.Lock
	secrets []string
}

// Execute does what the plan says, release by release in the plan's order (workspaces first), stopping
// at the first failure: it takes every release's lock, records the run in the journal, backs up the
// current values of every release it will touch, then rolls each back, waits with a live view of the
// rollout and verifies it. rep is completed in place; the error is for what could not even start.
func Execute(ctx context.Context, d Deps, cfg Config, rep *Report, st *State) error {
	if d.Now == nil {
		d.Now = time.Now
	}
	states := map[string]ReleaseState{}
	for _, rs := range st.Releases {
		states[rs.Target.Context+"/"+rs.Target.Release] = rs
	}
	var todo []*item
	for i := range rep.Releases {
		rp := &rep.Releases[i]
		if !Active(rp.Action) {
			rp.Result = &Result{Outcome: OutcomeLeftAlone}
			continue
		}
		rp.Result = &Result{Outcome: OutcomeNotStarted}
		it := &item{plan: rp, state: states[rp.Context+"/"+rp.Release]}
		for _, h := range it.state.History {
			it.secrets = append(it.secrets, redact.Secrets(h.Values)...)
		}
		if st.Backup != nil {
			it.secrets = append(it.secrets, redact.Secrets(st.Backup.Values)...)
		}
		todo = append(todo, it)
	}
	scrub := func(s string) string {
		var secrets []string
		for _, it := range todo {
			secrets = append(secrets, it.secrets...)
		}
		return redact.Scrub(s, secrets)
	}
	progress := func(format string, a ...any) {
		if d.ErrOut != nil {
			fmt.Fprintln(d.ErrOut, scrub(fmt.Sprintf(format, a...)))
		}
	}
	fail := func(it *item, outcome, msg, hint string) error {
		it.plan.Result.Outcome = outcome
		it.plan.Result.Error = scrub(msg)
		it.plan.Result.Hint = hint
		rep.Outcome = outcome
		rep.Message = fmt.Sprintf("%s/%s: %s", it.plan.Context, it.plan.Release, it.plan.Result.Error)
		rep.Hint = hint
		return nil
	}
	// 0. Every right the rollback uses, asked before the first change (issue 24 §3, as upgrade's preflight).
	for _, it := range todo {
		rs := it.state
		if rs.Cluster == nil {
			continue
		}
		denied, err := kube.Denied(ctx, rs.Cluster.Client, rights(cfg, rs, it.plan))
		if err != nil {
			msg, hint := kube.Explain(err, "create", "selfsubjectaccessreviews")
			return fail(it, OutcomeFailed, "nothing was changed: checking the rights of the rollback: "+msg, hint)
		}
		if len(denied) > 0 {
			var names []string
			for _, r := range denied {
				names = append(names, kube.RightString(r))
			}
			return fail(it, OutcomeRefused, "nothing was changed: rollback would fail: cannot "+strings.Join(names, ", cannot "),
				fmt.Sprintf("grant them (hack/rbac/upgrade.yaml), or check one with '%s'", kube.CanICommand(it.plan.Context, denied[0])))
		}
	}
	// 1. Locks (the ones 'upgrade' takes: one operation per release), released at the end.
	defer func() {
		for _, it := range todo {
			if it.lock != nil {
				if err := it.lock.Release(); err != nil {
					rep.Warnings = append(rep.Warnings, scrub(err.Error()))
				}
			}
		}
	}()
	for _, it := range todo {
		p := it.plan
		kc := it.state.Cluster
		hc, err := helmsdk.NewClient(kc.Getter, cfg.Namespace, cfg.Env.Driver, nil)
		if err != nil {
			return fail(it, OutcomeFailed, err.Error(), "")
		}
		it.helm = hc
		lk, err := upgrade.AcquireLock(ctx, kc.Client, cfg.Namespace, p.Release, upgrade.LockOptions{Target: p.To, Timeout: cfg.Timeout,
			Progress: func(s string) { progress("%s/%s: %s", p.Context, p.Release, s) }})
		if err != nil {
			var le *upgrade.LockedError
			if errors.As(err, &le) {
				return fail(it, OutcomeRefused, le.Error(), "wait for the other operation to finish, then run the rollback again")
			}
			msg, hint := kube.Explain(err, "create", "leases in namespace "+cfg.Namespace)
			return fail(it, OutcomeFailed, "taking the lock: "+msg, hint)
		}
		it.lock = lk
		// kpanda's Helm operations take no lock: one started since the plan stops the rollback here.
		if ops, err := helmops.ActiveOperations(ctx, kc.Client, cfg.Namespace, p.Release); err != nil {
			msg, hint := kube.Explain(err, "list", "jobs in namespace "+cfg.Namespace)
			return fail(it, OutcomeFailed, msg, hint)
		} else if len(ops) > 0 {
			return fail(it, OutcomeRefused, ops[0].String()+": it takes no kubectl-skoala lock, and two helm operations must not run on one release",
				"wait for it to finish, then run the rollback again")
		}
		last, err := hc.Last(p.Release)
		if err != nil {
			msg, hint := kube.Explain(err, "list", "secrets in namespace "+cfg.Namespace)
			return fail(it, OutcomeFailed, msg, hint)
		}
		if last.Revision != p.FromRevision || last.Status != p.Status {
			return fail(it, OutcomeRefused, fmt.Sprintf("the release changed since the plan (now revision %d, %s)", last.Revision, last.Status), "run the rollback again to plan afresh")
		}
		// A pending revision: the decision upgrade applies (helmops.DecidePending), now that the lock is
		// held; for the revision an interrupted kubectl-skoala upgrade recorded, its helm wait runs out first.
		if strings.HasPrefix(p.Status, "pending-") {
			in := helmops.PendingInput{Revision: p.FromRevision, Status: p.Status, Started: last.LastDeployed, Now: d.Now(),
				Lock: lk.Previous.Recorded(), Observed: true, Timeout: cfg.Timeout, Force: cfg.Force}
			in.Quiet, in.Gone = lk.PreviousQuiet()
			dec := helmops.DecidePending(in)
			if dec.Refused != "" {
				return fail(it, OutcomeRefused, dec.Refused, "wait for that operation to end, then run the rollback again; give --force if no helm operation is running on it")
			}
			if dec.Wait > 0 {
				progress("%s/%s: waiting %s: the interrupted upgrade's helm wait could still be running", p.Context, p.Release, dec.Wait.Round(time.Second))
				select {
				case <-ctx.Done():
					return fail(it, OutcomeInterrupted, ctx.Err().Error(), "")
				case <-time.After(dec.Wait):
				}
			}
		}
	}
	// 2. The journal, before the first change.
	jr, err := journalBegin(ctx, d, cfg, rep, st)
	if err != nil {
		rep.Outcome, rep.Message = OutcomeFailed, "nothing was changed: the rollback could not be recorded in the journal: "+scrub(err.Error())
		rep.Hint = journalHint(cfg, err)
		return nil
	}
	defer jr.finish(rep)
	// 3. Backups of the current values of every release before the first change.
	if warn, err := backup.EnsureDir(cfg.BackupDir); err != nil {
		rep.Outcome, rep.Message, rep.Hint = OutcomeFailed, "nothing was changed: "+err.Error(), "give a writable --backup-dir"
		return nil
	} else if warn != "" {
		rep.Warnings = append(rep.Warnings, warn)
	}
	for _, it := range todo {
		last := it.state.Last()
		src, err := backup.SourceOf(it.plan.Context, last, false, d.Now(), cfg.Tool)
		if err == nil {
			var files []backup.Written
			files, err = backup.Write(src, backup.Options{Dir: cfg.BackupDir})
			if len(files) > 0 {
				it.plan.Result.Backup = files[0].Path
				progress("backed up %s/%s revision %d to %s", it.plan.Context, it.plan.Release, last.Revision, files[0].Path)
			}
		}
		if err != nil {
			rep.Outcome, rep.Message, rep.Hint = OutcomeFailed, "nothing was changed: "+scrub(err.Error()), "give a writable --backup-dir"
			return nil
		}
		it.plan.Result.Done = append(it.plan.Result.Done, StepBackup)
	}
	jr.update(rep)
	// 4. The releases, one by one.
	for _, it := range todo {
		start := d.Now()
		rctx, cancel := it.lock.Bind(ctx)
		stop := runRelease(rctx, d, cfg, rep, it, st, progress, fail)
		cancel()
		it.plan.Result.Duration = d.Now().Sub(start).Round(time.Second).String()
		jr.update(rep)
		if stop {
			return nil
		}
		if ctx.Err() != nil {
			return fail(it, OutcomeInterrupted, "interrupted", "")
		}
	}
	rep.Outcome = OutcomeRolledBack
	rep.Message = fmt.Sprintf("%d release(s) rolled back and verified", len(todo))
	jr.undone(rep)
	return nil
}

// runRelease rolls one release back; it returns true when the rollback must stop.
func runRelease(ctx context.Context, d Deps, cfg Config, rep *Report, it *item, st *State, progress func(string, ...any), fail func(*item, string, string, string) error) bool {
	p := it.plan
	res := p.Result
	name := p.Context + "/" + p.Release
	stop := func(outcome, msg, hint string) bool { _ = fail(it, outcome, msg, hint); return true }
	progress("%s: %s %s -> %s", name, p.Action, orDash(p.From), orDash(p.To))
	if err := it.lock.Confirm(ctx); err != nil {
		return stop(OutcomeFailed, err.Error(), "")
	}
	last := it.state.Last()
	if last.Pending() && p.Action != ActionUninstall {
		desc := fmt.Sprintf("kubectl-skoala rollback: marked failed: stuck %s", last.Status)
		if err := it.helm.Unlock(p.Release, last.Revision, desc); err != nil {
			return stop(OutcomeFailed, err.Error(), "")
		}
		res.Done = append(res.Done, StepUnlock)
		progress("%s: marked the stuck %s revision %d failed", name, last.Status, last.Revision)
	}
	if err := it.lock.Confirm(ctx); err != nil {
		return stop(OutcomeFailed, err.Error(), "")
	}
	if err := it.lock.SetRevision(last.Revision + 1); err != nil {
		return stop(OutcomeFailed, "recording the rollback in its lock: "+err.Error(), "")
	}
	if p.Action == ActionUninstall {
		if err := it.helm.Uninstall(ctx, p.Release, cfg.Timeout); err != nil {
			return stop(OutcomeFailed, err.Error(), fmt.Sprintf("see 'helm --kube-context %s -n %s status %s'", p.Context, cfg.Namespace, p.Release))
		}
		res.Done = append(res.Done, StepUninstall)
		res.Outcome = OutcomeUninstalled
		progress("%s: uninstalled (%d object(s))", name, len(p.Removes))
		return false
	}
	var objs []helmsdk.ManifestObject
	if to := it.state.Revision(p.ToRevision); to != nil {
		objs = to.Objects()
	} else {
		objs = last.Objects()
	}
	if p.Action != ActionRestore {
		if jobs := jobsOf(objs); len(jobs) > 0 {
			if err := it.lock.Confirm(ctx); err != nil {
				return stop(OutcomeFailed, err.Error(), "")
			}
			if err := deleteJobs(ctx, it.state.Cluster, cfg.Namespace, jobs); err != nil {
				msg, hint := kube.Explain(err, "delete", "jobs in namespace "+cfg.Namespace)
				return stop(OutcomeFailed, "deleting the Jobs: "+msg, hint)
			}
			res.Done = append(res.Done, StepJobs)
			progress("%s: deleted Jobs %s (the rollback creates them again)", name, strings.Join(jobs, ", "))
		}
	}
	watchCtx, stopWatch := context.WithCancel(context.Background())
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		watch(watchCtx, it, cfg.Namespace, objs, d.Now, progress)
	}()
	var rel *helmsdk.Release
	var err error
	if p.Action == ActionRestore {
		rel, err = it.helm.Upgrade(ctx, p.Release, st.Backup.Chart, helmsdk.UpgradeOptions{Values: st.Backup.Values, Timeout: cfg.Timeout, Wait: true,
			Atomic: true, CleanupOnFail: true, MaxHistory: cfg.MaxHistory, Description: "restored from a backup by kubectl-skoala rollback " + cfg.Tool})
	} else {
		rel, err = it.helm.Rollback(ctx, p.Release, p.ToRevision, helmsdk.RollbackOptions{Timeout: cfg.Timeout, Wait: true, CleanupOnFail: true, MaxHistory: cfg.MaxHistory})
	}
	stopWatch()
	<-watchDone
	if err != nil {
		outcome := OutcomeFailed
		switch {
		case ctx.Err() != nil:
			outcome = OutcomeInterrupted
		case strings.Contains(err.Error(), "timed out") || strings.Contains(err.Error(), "deadline exceeded"):
			outcome = OutcomeTimedOut
		}
		state := ""
		if l, lerr := it.helm.Last(p.Release); lerr == nil {
			state = fmt.Sprintf("; now revision %d %s (%s %s)", l.Revision, l.Status, l.Chart, l.ChartVersion)
			res.Revision = l.Revision
		}
		return stop(outcome, err.Error()+state, fmt.Sprintf("see '%s status' and '%s doctor'; run the rollback again once the cause is fixed", cfg.Name, cfg.Name))
	}
	res.Revision = rel.Revision
	res.Done = append(res.Done, StepHelm)
	progress("%s: helm %s done: revision %d deployed (%s)", name, map[bool]string{true: "upgrade", false: "rollback"}[p.Action == ActionRestore], rel.Revision, rel.ChartVersion)
	vctx, cancel := context.WithTimeout(ctx, upgrade.VerifyTimeout(cfg.Timeout))
	comps, problems := verify(vctx, it, cfg.Namespace, rel.Objects())
	cancel()
	res.Components = comps
	if len(problems) > 0 {
		return stop(OutcomeFailed, "verification failed: "+strings.Join(problems, "; "), fmt.Sprintf("see '%s status' and '%s doctor'", cfg.Name, cfg.Name))
	}
	res.Done = append(res.Done, StepVerify)
	switch p.Action {
	case ActionRecover:
		res.Outcome = OutcomeRecovered
	case ActionRestore:
		res.Outcome = OutcomeRestored
	default:
		res.Outcome = OutcomeRolledBack
	}
	progress("%s: verified", name)
	return false
}

// verify waits until every workload of objs is healthy and its pod template runs the images of objs, or
// ctx ends; it returns the components and what is still wrong.
func verify(ctx context.Context, it *item, ns string, objs []helmsdk.ManifestObject) ([]inspect.Component, []string) {
	work := inspect.Workloads(objs)
	for {
		comps, err := inspect.Objects(ctx, it.state.Cluster.Client, ns, work, "")
		var problems []string
		if err != nil {
			msg, _ := kube.Explain(err, "list", "workloads in namespace "+ns)
			problems = append(problems, msg)
		}
		for _, c := range comps {
			if p := c.Unhealthy(); p != "" {
				problems = append(problems, p)
			}
			for _, o := range work {
				if o.Name != c.Name || o.Kind != c.Kind {
					continue
				}
				for _, want := range o.Containers {
					for _, im := range c.Images {
						if im.Container == want.Name && im.Image != want.Image {
							problems = append(problems, fmt.Sprintf("%s container %s runs %s, not %s", c.Name, im.Container, im.Image, want.Image))
						}
					}
				}
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

// watch prints the rollout of objs' workloads whenever a component changes, until ctx ends.
func watch(ctx context.Context, it *item, ns string, objs []helmsdk.ManifestObject, now func() time.Time, progress func(string, ...any)) {
	work := inspect.Workloads(objs)
	if len(work) == 0 {
		return
	}
	start := now()
	last := map[string]string{}
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		comps, err := inspect.Objects(rctx, it.state.Cluster.Client, ns, work, "")
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			for _, c := range comps {
				line := fmt.Sprintf("%-32s %d/%d %-11s %s", c.Name, c.Ready, c.Desired, c.State, orDash(c.Tag))
				if last[c.Name] != line {
					progress("  [%4s] %s/%s: %s", now().Sub(start).Round(time.Second), it.plan.Context, it.plan.Release, strings.TrimRight(line, " "))
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

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// journalRun is this rollback's entry of the journal.
type journalRun struct {
	store *journal.Store
	id    string
	rep   *Report
	ids   journal.Identities
}

// journalBegin records the rollback before its first change (nil when no control plane is among the
// targets). An error is a rollback that could not be recorded: nothing may change.
func journalBegin(ctx context.Context, d Deps, cfg Config, rep *Report, st *State) (*journalRun, error) {
	var cp *kube.Cluster
	for _, rs := range st.Releases {
		if rs.Target.Role == fleet.RoleControlPlane && rs.Cluster != nil {
			cp = rs.Cluster
		}
	}
	if cp == nil {
		// The journal lives in the control plane, which a rollback of a workspace release alone
		// (--to-revision, --from-backup) does not name: say so rather than write it where status never reads.
		rep.Warnings = append(rep.Warnings, "the journal was not written: no control-plane cluster among the targets (status reads the journal there)")
		return nil, nil
	}
	j := &journalRun{store: &journal.Store{Client: cp.Client, Namespace: cfg.Namespace, Now: d.Now}, id: journal.NewID(d.Now()), rep: rep, ids: journal.Identities{}}
	for _, rs := range st.Releases {
		j.ids[rs.Target.Context] = rs.Identity
	}
	host, _ := os.Hostname()
	run := journal.Run{ID: j.id, Kind: journal.KindRollback, Who: journal.Who(ctx, cp.Client), Host: host, Tool: cfg.Tool,
		Started: d.Now().UTC(), Undoes: rep.Run, Releases: j.releases(rep)}
	if err := j.store.Begin(ctx, run); err != nil {
		return nil, err
	}
	rep.JournalRun = j.id
	return j, nil
}

// journalHint is what to do about a rollback that could not be recorded.
func journalHint(cfg Config, err error) string {
	var tb *journal.TooBigError
	if errors.As(err, &tb) {
		return "the rollback's record alone is over the journal's budget: roll the fleet back in parts (--to-revision)"
	}
	if _, hint := kube.Explain(err, "update", "configmaps in namespace "+cfg.Namespace); hint != "" {
		return hint
	}
	return fmt.Sprintf("the journal is the ConfigMap %s in namespace %s of the control plane; see '%s doctor'", journal.Name, cfg.Namespace, cfg.Name)
}

// releases is journalReleases with each release's cluster identity.
func (j *journalRun) releases(rep *Report) []journal.Release {
	out := journalReleases(rep)
	for i := range out {
		if id := j.ids[out[i].Context]; id.KubeSystemUID != "" || id.Server != "" {
			out[i].Cluster = &id
		}
	}
	return out
}

func (j *journalRun) write(fn func(*journal.Run)) {
	if j == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := j.store.Update(ctx, j.id, fn); err != nil {
		j.rep.Warnings = append(j.rep.Warnings, "the journal was not updated: "+redact.String(err.Error()))
	}
}

func (j *journalRun) update(rep *Report) {
	j.write(func(r *journal.Run) { r.Releases = j.releases(rep) })
}

func (j *journalRun) finish(rep *Report) {
	if j == nil {
		return
	}
	j.write(func(r *journal.Run) {
		r.Releases = j.releases(rep)
		r.Outcome, r.Message, r.Finished = rep.Outcome, rep.Message, j.store.Now().UTC()
	})
}

// undone marks the upgrade run this rollback undid.
func (j *journalRun) undone(rep *Report) {
	if j == nil || rep.Run == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := j.store.Update(ctx, rep.Run, func(r *journal.Run) { r.UndoneBy = j.id }); err != nil {
		rep.Warnings = append(rep.Warnings, "the undone run was not marked in the journal: "+redact.String(err.Error()))
	}
}

func journalReleases(rep *Report) []journal.Release {
	var out []journal.Release
	for _, rp := range rep.Releases {
		if !Active(rp.Action) {
			continue
		}
		jr := journal.Release{Context: rp.Context, Role: rp.Role, Release: rp.Release, Chart: rp.Chart,
			FromRevision: rp.FromRevision, FromVersion: rp.From, FromStatus: rp.Status, Outcome: OutcomeNotStarted}
		if res := rp.Result; res != nil {
			jr.Outcome, jr.Steps, jr.Backup, jr.ToRevision = res.Outcome, append([]string(nil), res.Done...), res.Backup, res.Revision
			if res.Revision > 0 {
				jr.ToVersion = rp.To
			}
		}
		out = append(out, jr)
	}
	return out
}

// jobsOf names the Jobs of a manifest: their pod template is immutable, so a rollback to a revision whose
// Job differs would fail; they are deleted first and the rollback creates them again.
func jobsOf(objs []helmsdk.ManifestObject) []string {
	var out []string
	for _, o := range objs {
		if o.Kind == "Job" {
			out = append(out, o.Name)
		}
	}
	return out
}

// deleteJobs deletes the Jobs (and their pods) and waits until they are gone.
func deleteJobs(ctx context.Context, c *kube.Cluster, ns string, names []string) error {
	return kube.DeleteJobs(ctx, c.Client, ns, names)
}
