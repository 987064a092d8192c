package upgrade

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/journal"
	"github.com/skoala-dev/kubectl-skoala/pkg/semver"
)

// journalRun is this run's entry of the journal (pkg/journal), in the control-plane cluster's release
// namespace: begun before the first change, updated when each release starts and ends, finished at the
// end. A journal that cannot be written is a warning, never a stop (the backups and Helm's history
// still describe the run).
type journalRun struct {
	store *journal.Store
	id    string
	warn  func(string)
}

// journalBegin records the run before its first change (nil when there is no control plane to write to).
func journalBegin(ctx context.Context, d Deps, cfg Config, rep *Report, ws []*work) *journalRun {
	var cp *work
	for _, w := range ws {
		if w.target.Role == fleet.RoleControlPlane && w.cluster != nil {
			cp = w
		}
	}
	if cp == nil {
		return nil
	}
	j := &journalRun{store: &journal.Store{Client: cp.cluster.Client, Namespace: cfg.Namespace, Now: d.Now},
		id: journal.NewID(d.Now()), warn: func(s string) { rep.Warnings = append(rep.Warnings, scrub(s, ws)) }}
	host, _ := os.Hostname()
	run := journal.Run{ID: j.id, Kind: journal.KindUpgrade, Who: journal.Who(ctx, cp.cluster.Client), Host: host, Tool: cfg.Tool,
		Started: d.Now().UTC(), Target: targetOf(ws), Releases: journalReleases(ws, nil)}
	if err := j.store.Begin(ctx, run); err != nil {
		j.warn("the journal was not written: " + err.Error())
		return nil
	}
	return j
}

// update records every release as it is now; starting is the release that starts (nil: none).
func (j *journalRun) update(ws []*work, starting *work) {
	if j == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := j.store.Update(ctx, j.id, func(r *journal.Run) { r.Releases = journalReleases(ws, starting) }); err != nil {
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
		r.Releases = journalReleases(ws, nil)
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
