package upgrade

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/journal"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
	"github.com/skoala-dev/kubectl-skoala/pkg/semver"
)

// journalRun is this run's entry of the journal (pkg/journal), in the control-plane cluster's release
// namespace: begun before the first change, updated when each release starts and ends, finished at the
// end. A run that cannot be recorded before the first change (the journal cannot be read, is over its
// budget even after compaction, or may not be written) stops the run there: without its record a later
// 'rollback' would undo an older run. A later update that fails is a warning (the record of the run
// exists; the backups and Helm's history still describe what followed).
type journalRun struct {
	store *journal.Store
	id    string
	warn  func(string)
	ids   journal.Identities
}

// journalBegin records the run before its first change (nil when there is no control plane to write
// to). An error is a run that could not be recorded: nothing may change.
func journalBegin(ctx context.Context, d Deps, cfg Config, rep *Report, ws []*work) (*journalRun, error) {
	var cp *work
	for _, w := range ws {
		if w.target.Role == fleet.RoleControlPlane && w.cluster != nil {
			cp = w
		}
	}
	if cp == nil {
		return nil, nil
	}
	j := &journalRun{store: &journal.Store{Client: cp.cluster.Client, Namespace: cfg.Namespace, Now: d.Now},
		id: journal.NewID(d.Now()), warn: func(s string) { rep.Warnings = append(rep.Warnings, scrub(s, ws)) },
		ids: identities(ctx, cfg, ws)}
	host, _ := os.Hostname()
	run := journal.Run{ID: j.id, Kind: journal.KindUpgrade, Who: journal.Who(ctx, cp.cluster.Client), Host: host, Tool: cfg.Tool,
		Started: d.Now().UTC(), Target: targetOf(ws), Releases: j.releases(ws, nil)}
	if err := j.store.Begin(ctx, run); err != nil {
		return nil, err
	}
	return j, nil
}

// identities are the clusters' identities: the ones cfg supplies, the others read (concurrently).
func identities(ctx context.Context, cfg Config, ws []*work) journal.Identities {
	ids := journal.Identities{}
	var todo []*work
	for _, w := range ws {
		if id, ok := cfg.Identities[w.target.Context]; ok {
			ids[w.target.Context] = id
		} else if w.cluster != nil {
			if _, dup := ids[w.target.Context]; !dup {
				ids[w.target.Context] = journal.ClusterIdentity{}
				todo = append(todo, w)
			}
		}
	}
	got := make([]journal.ClusterIdentity, len(todo))
	kube.ForEach(ctx, todo, 8, cfg.RequestTimeout, func(ctx context.Context, i int, w *work) {
		server := ""
		if w.cluster.Config != nil {
			server = w.cluster.Config.Host
		}
		got[i] = journal.Identify(ctx, w.cluster.Client, server)
	})
	for i, w := range todo {
		ids[w.target.Context] = got[i]
	}
	return ids
}

// releases is journalReleases with each release's cluster identity.
func (j *journalRun) releases(ws []*work, starting *work) []journal.Release {
	out := journalReleases(ws, starting)
	for i := range out {
		if id, ok := j.ids[out[i].Context]; ok && (id.KubeSystemUID != "" || id.Server != "") {
			id := id
			out[i].Cluster = &id
		}
	}
	return out
}

// update records every release as it is now; starting is the release that starts (nil: none).
func (j *journalRun) update(ws []*work, starting *work) {
	if j == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := j.store.Update(ctx, j.id, func(r *journal.Run) { r.Releases = j.releases(ws, starting) }); err != nil {
		j.warn("the journal was not updated: " + err.Error())
	}
}

// finish records the outcome of the run.
func (j *journalRun) finish(rep *Report, ws []*work) {
	if j == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := j.store.Update(ctx, j.id, func(r *journal.Run) {
		r.Releases = j.releases(ws, nil)
		r.Outcome, r.Message, r.Finished = rep.Outcome, rep.Message, j.store.Now().UTC()
	})
	if err != nil {
		j.warn("the journal was not updated: " + err.Error())
	}
}

func targetOf(ws []*work) string {
	t := ""
	for _, w := range ws {
		if !Passive(w.plan.Action) && (t == "" || semver.Compare(w.plan.To, t) > 0) {
			t = w.plan.To
		}
	}
	return t
}

// journalReleases is what the journal says of each release: the revision and version before, after,
// the outcome and the steps done (the names of the values changed, never a value).
func journalReleases(ws []*work, starting *work) []journal.Release {
	out := make([]journal.Release, 0, len(ws))
	for _, w := range ws {
		p := w.plan
		jr := journal.Release{Context: p.Context, Role: p.Role, Release: p.Release, Chart: p.Chart,
			FromRevision: baseRevision(w), FromVersion: p.From, FromStatus: p.Status, Outcome: p.Action}
		if res := p.Result; res != nil {
			jr.Outcome = res.Outcome
			jr.Steps = append(jr.Steps, res.Done...)
			if len(res.Backups) > 0 {
				jr.Backup = res.Backups[0]
			}
			jr.ToRevision = res.Revision
			switch res.Outcome {
			case OutcomeUpgraded, OutcomeInstalled, OutcomeFailed, OutcomeTimedOut:
				jr.ToVersion = p.To
			case OutcomeRolledBack:
				jr.ToVersion = p.From
			}
			if w == starting {
				jr.Outcome = journal.OutcomeRunning
			}
		}
		var keys []string
		for _, o := range append(append([]Override{}, p.Overrides...), p.Dropped...) {
			keys = append(keys, o.Key)
		}
		if len(keys) > 0 && jr.ToRevision > 0 {
			jr.Steps = append(jr.Steps, "values:"+strings.Join(keys, ","))
		}
		out = append(out, jr)
	}
	return out
}

// journalHint is what to do about a run that could not be recorded.
func journalHint(err error, cfg Config) string {
	var tb *journal.TooBigError
	if errors.As(err, &tb) {
		return "the run's record alone is over the journal's budget: upgrade the fleet in parts (-w)"
	}
	_, hint := kube.Explain(err, "update", "configmaps in namespace "+cfg.Namespace)
	if hint == "" {
		hint = fmt.Sprintf("see '%s doctor'; the journal is the ConfigMap %s in namespace %s of the control plane", cfg.Name, journal.Name, cfg.Namespace)
	}
	return hint
}
