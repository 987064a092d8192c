package rollback

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/change"
	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmops"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/journal"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
	"github.com/skoala-dev/kubectl-skoala/pkg/redact"
)

// Execute does what the plan says with the change engine (pkg/change), in waves: the workspaces (up to
// Config.Waves.MaxParallel at once), then the control plane. It first asks whether every right the
// rollback uses is granted, then the engine takes every release's lock, records the run in the journal,
// backs up the current values of every release it will touch, rolls each back, waits with a live view
// of the rollout and verifies it. rep is completed in place; the error is the context's (an
// interruption) or what could not even start.
func Execute(ctx context.Context, d Deps, cfg Config, rep *Report, st *State) error {
	if d.Now == nil {
		d.Now = time.Now
	}
	states := map[string]ReleaseState{}
	for _, rs := range st.Releases {
		states[rs.Target.Context+"/"+rs.Target.Release] = rs
	}
	var changes []*change.Change
	var plans []*ReleasePlan
	for i := range rep.Releases {
		rp := &rep.Releases[i]
		if !Active(rp.Action) {
			rp.Result = &Result{Outcome: OutcomeLeftAlone}
			continue
		}
		rp.Result = &Result{Outcome: OutcomeNotStarted}
		c, err := changeOf(cfg, rp, states[rp.Context+"/"+rp.Release], st, d.Now())
		if err != nil {
			failBefore(rep, rp, OutcomeFailed, err.Error(), "")
			return nil
		}
		changes, plans = append(changes, c), append(plans, rp)
	}
	if !checkRights(ctx, cfg, rep, plans, states, scrubber(changes)) {
		return nil
	}
	out, err := change.Execute(ctx, change.Deps{Observe: d.Observe, Now: d.Now}, engineConfig(cfg, rep, st, len(changes)), changes)
	for i, c := range changes {
		plans[i].Result = resultOf(c)
	}
	rep.Warnings = append(rep.Warnings, out.Warnings...)
	rep.JournalRun = out.JournalRun
	if out.Outcome != "" {
		rep.Outcome, rep.Message, rep.Hint = out.Outcome, out.Message, out.Hint
	} else {
		rep.Outcome, rep.Message = OutcomeRolledBack, successMessage(len(changes))
	}
	return err
}

// Announce sends the plan events of a plan that is not executed (a dry run, refused, not confirmed).
func Announce(d Deps, cfg Config, rep *Report, st *State) {
	states := map[string]ReleaseState{}
	for _, rs := range st.Releases {
		states[rs.Target.Context+"/"+rs.Target.Release] = rs
	}
	var changes []*change.Change
	for i := range rep.Releases {
		rp := &rep.Releases[i]
		if rs := states[rp.Context+"/"+rp.Release]; Active(rp.Action) && rs.Cluster != nil {
			changes = append(changes, &change.Change{Context: rp.Context, Role: rp.Role, Release: rp.Release, Chart: rp.Chart,
				Action: rp.Action, FromVersion: rp.From, ToVersion: rp.To, FromRevision: rp.FromRevision})
		}
	}
	change.Announce(change.Deps{Observe: d.Observe}, engineConfig(cfg, rep, st, len(changes)), changes)
}

func successMessage(n int) string {
	return fmt.Sprintf("%d release(s) rolled back and verified", n)
}

// engineConfig is the engine's configuration of the rollback.
func engineConfig(cfg Config, rep *Report, st *State, n int) change.Config {
	ids := journal.Identities{}
	var cp *kube.Cluster
	for _, rs := range st.Releases {
		ids[rs.Target.Context] = rs.Identity
		if rs.Target.Role == fleet.RoleControlPlane && rs.Cluster != nil {
			cp = rs.Cluster
		}
	}
	waves := cfg.Waves
	waves.Reverse = true
	return change.Config{Verb: change.VerbRollback, Name: cfg.Name, Namespace: cfg.Namespace, Timeout: cfg.Timeout,
		MaxHistory: cfg.MaxHistory, BackupDir: cfg.BackupDir, Tool: cfg.Tool, Waves: waves,
		Journal: change.JournalConfig{Kind: journal.KindRollback, Undoes: rep.Run, ControlPlane: cp, Identities: ids, RequestTimeout: cfg.RequestTimeout,
			Success: OutcomeRolledBack, SuccessMessage: successMessage(n),
			// The journal lives in the control plane, which a rollback of a workspace release alone
			// (--to-revision, --from-backup) does not name: say so rather than write it where status never reads.
			NoControlPlane: "the journal was not written: no control-plane cluster among the targets (status reads the journal there)"}}
}

// changeOf is one release of the plan as the engine carries it out.
func changeOf(cfg Config, rp *ReleasePlan, rs ReleaseState, st *State, now time.Time) (*change.Change, error) {
	hc, err := helmsdk.NewClient(rs.Cluster.Getter, cfg.Namespace, cfg.Env.Driver, nil)
	if err != nil {
		return nil, err
	}
	last := rs.Last()
	c := &change.Change{Context: rp.Context, Role: rp.Role, Release: rp.Release, Chart: rp.Chart, Action: rp.Action,
		FromVersion: rp.From, ToVersion: rp.To, FromRevision: rp.FromRevision, FromStatus: rp.Status, Cluster: rs.Cluster, Helm: hc,
		Expect: last, Base: last, Verify: change.Verify{Images: true}, Success: OutcomeRolledBack, Secrets: secretsOf(rs, st)}
	if strings.HasPrefix(rp.Status, "pending-") {
		c.Pending = &helmops.PendingInput{Revision: rp.FromRevision, Status: rp.Status, Started: last.LastDeployed, Now: now,
			Timeout: cfg.Timeout, Force: cfg.Force}
	}
	if last.Pending() && rp.Action != ActionUninstall {
		c.Unlock, c.UnlockWhy = last, fmt.Sprintf("kubectl-skoala rollback: marked failed: stuck %s", last.Status)
	}
	c.Objects = last.Objects()
	if to := rs.Revision(rp.ToRevision); to != nil {
		c.Objects = to.Objects()
	}
	switch rp.Action {
	case ActionUninstall:
		c.Op = change.Operation{Kind: change.OpUninstall}
	case ActionRestore:
		c.Op = change.Operation{Kind: change.OpUpgrade, Chart: st.Backup.Chart, Values: st.Backup.Values, Atomic: true, CleanupOnFail: true,
			Description: "restored from a backup by kubectl-skoala rollback " + cfg.Tool}
		c.Success = OutcomeRestored
	default:
		c.Op = change.Operation{Kind: change.OpRollback, ToRevision: rp.ToRevision, CleanupOnFail: true}
		c.Jobs = jobsOf(c.Objects)
		if rp.Action == ActionRecover {
			c.Success = OutcomeRecovered
		}
	}
	return c, nil
}

// secretsOf are the secrets of every revision of the release and of the backup: masked in every message.
func secretsOf(rs ReleaseState, st *State) []string {
	var out []string
	for _, h := range rs.History {
		out = append(out, redact.Secrets(h.Values)...)
	}
	if st.Backup != nil {
		out = append(out, redact.Secrets(st.Backup.Values)...)
	}
	return out
}

func scrubber(changes []*change.Change) func(string) string {
	var secrets []string
	for _, c := range changes {
		secrets = append(secrets, c.Secrets...)
	}
	return func(s string) string { return redact.Scrub(s, secrets) }
}

// resultOf is the report's result of a change.
func resultOf(c *change.Change) *Result {
	r := c.Result
	res := &Result{Outcome: r.Outcome, Revision: r.Revision, Done: r.Done, Components: r.Components, Error: r.Error, Hint: r.Hint}
	if len(r.Backups) > 0 {
		res.Backup = r.Backups[0]
	}
	if r.Outcome != change.OutcomeNotStarted {
		res.Duration = r.Duration.String()
	}
	return res
}

// failBefore records a failure before any change.
func failBefore(rep *Report, rp *ReleasePlan, outcome, msg, hint string) {
	rp.Result.Outcome, rp.Result.Error, rp.Result.Hint = outcome, msg, hint
	rep.Outcome = outcome
	rep.Message = fmt.Sprintf("%s/%s: %s", rp.Context, rp.Release, msg)
	rep.Hint = hint
}

// checkRights asks, before the first change, whether every right the rollback uses is granted (issue 24
// §3, as upgrade's preflight); false means the rollback stops.
func checkRights(ctx context.Context, cfg Config, rep *Report, plans []*ReleasePlan, states map[string]ReleaseState, scrub func(string) string) bool {
	for _, rp := range plans {
		rs := states[rp.Context+"/"+rp.Release]
		if rs.Cluster == nil {
			continue
		}
		denied, err := kube.Denied(ctx, rs.Cluster.Client, rights(cfg, rs, rp))
		if err != nil {
			msg, hint := kube.Explain(err, "create", "selfsubjectaccessreviews")
			failBefore(rep, rp, OutcomeFailed, scrub("nothing was changed: checking the rights of the rollback: "+msg), hint)
			return false
		}
		if len(denied) > 0 {
			var names []string
			for _, r := range denied {
				names = append(names, kube.RightString(r))
			}
			failBefore(rep, rp, OutcomeRefused, "nothing was changed: rollback would fail: cannot "+strings.Join(names, ", cannot "),
				fmt.Sprintf("grant them (hack/rbac/upgrade.yaml), or check one with '%s'", kube.CanICommand(rp.Context, denied[0])))
			return false
		}
	}
	return true
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
