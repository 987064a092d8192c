package change

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/journal"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

// journalRun is the run's entry of the journal (pkg/journal), in the control-plane cluster's release
// namespace: begun before the first change (or, for a resumed run, reopened), updated when each release
// starts and ends, finished at the end. A run that cannot be recorded before the first change stops
// there: without its record a later 'rollback' would undo an older run. A later update that fails is a
// warning. It is the one writer of the run's record: releases in flight at once write through it, one
// at a time (the journal's own modify retries when another process wrote first).
type journalRun struct {
	mu    sync.Mutex
	store *journal.Store
	id    string
	ids   journal.Identities
	// kept are the releases of a resumed run's record that this run does not change.
	kept []journal.Release
}

// journalBegin records the run before its first change (nil when there is no control plane to write
// to). An error is a run that could not be recorded: nothing may change.
func journalBegin(ctx context.Context, x *run) (*journalRun, error) {
	cfg := x.cfg.Journal
	cp := cfg.ControlPlane
	for _, c := range x.all {
		if cp == nil && c.Role == fleet.RoleControlPlane && c.Cluster != nil {
			cp = c.Cluster
		}
	}
	if cp == nil {
		if cfg.NoControlPlane != "" {
			x.warn(cfg.NoControlPlane)
		}
		return nil, nil
	}
	j := &journalRun{store: &journal.Store{Client: cp.Client, Namespace: x.cfg.Namespace, Now: x.d.Now},
		id: x.id, ids: identities(ctx, cfg, x.all)}
	if cfg.Resume != "" {
		if err := j.reopen(ctx, x, cfg.Resume); err != nil {
			return nil, err
		}
	} else {
		host, _ := os.Hostname()
		r := journal.Run{ID: j.id, Kind: cfg.Kind, Who: journal.Who(ctx, cp.Client), Host: host, Tool: x.cfg.Tool,
			Started: x.d.Now().UTC(), Target: cfg.Target, Undoes: cfg.Undoes, Releases: j.releases(x)}
		if err := j.store.Begin(ctx, r); err != nil {
			return nil, err
		}
	}
	x.mu.Lock()
	x.out.JournalRun = j.id
	x.mu.Unlock()
	return j, nil
}

// reopen continues the run id: it is running again, and keeps the record of every release this run
// does not change.
func (j *journalRun) reopen(ctx context.Context, x *run, id string) error {
	j.id = id
	changed := map[string]bool{}
	for _, c := range x.todo {
		changed[c.Context+"/"+c.Release] = true
	}
	return j.store.Update(ctx, id, func(r *journal.Run) {
		j.kept = nil
		for _, rel := range r.Releases {
			if !changed[rel.Context+"/"+rel.Release] {
				j.kept = append(j.kept, rel)
			}
		}
		r.Outcome, r.Message, r.Finished = journal.OutcomeRunning, "", time.Time{}
		r.Releases = j.releases(x)
	})
}

// identities are the clusters' identities: the ones cfg supplies, the others read (concurrently).
func identities(ctx context.Context, cfg JournalConfig, changes []*Change) journal.Identities {
	ids := journal.Identities{}
	var todo []*Change
	for _, c := range changes {
		if id, ok := cfg.Identities[c.Context]; ok {
			ids[c.Context] = id
		} else if c.Cluster != nil {
			if _, dup := ids[c.Context]; !dup {
				ids[c.Context] = journal.ClusterIdentity{}
				todo = append(todo, c)
			}
		}
	}
	got := make([]journal.ClusterIdentity, len(todo))
	kube.ForEach(ctx, todo, 8, cfg.RequestTimeout, func(ctx context.Context, i int, c *Change) {
		server := ""
		if c.Cluster.Config != nil {
			server = c.Cluster.Config.Host
		}
		got[i] = journal.Identify(ctx, c.Cluster.Client, server)
	})
	for i, c := range todo {
		ids[c.Context] = got[i]
	}
	return ids
}

// releases is what the journal says of each release now: a resumed run's kept records, then every
// change (a passive one only when the kept records do not have it).
func (j *journalRun) releases(x *run) []journal.Release {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := append([]journal.Release(nil), j.kept...)
	for _, c := range x.all {
		if c.Passive && j.has(c) {
			continue
		}
		jr := journalRelease(c, x.inflight[c])
		if id, ok := j.ids[c.Context]; ok && (id.KubeSystemUID != "" || id.Server != "") {
			id := id
			jr.Cluster = &id
		}
		out = append(out, jr)
	}
	return out
}

func (j *journalRun) has(c *Change) bool {
	for _, r := range j.kept {
		if r.Context == c.Context && r.Release == c.Release {
			return true
		}
	}
	return false
}

// journalRelease is what the journal says of one change: the revision and version before, after, the
// outcome and the steps done (the names of the values changed, never a value).
func journalRelease(c *Change, running bool) journal.Release {
	res := c.Result
	jr := journal.Release{Context: c.Context, Role: c.Role, Release: c.Release, Chart: c.Chart,
		FromRevision: c.FromRevision, FromVersion: c.FromVersion, FromStatus: c.FromStatus, Outcome: res.Outcome,
		Steps: append([]string(nil), res.Done...), ToRevision: res.Revision}
	if jr.Outcome == "" {
		jr.Outcome = c.Action
	}
	if len(res.Backups) > 0 {
		jr.Backup = res.Backups[0]
	}
	if res.Revision > 0 {
		jr.ToVersion = c.ToVersion
		if res.Outcome == OutcomeRolledBack && c.Op.Kind != OpRollback {
			jr.ToVersion = c.FromVersion // Helm rolled the failed upgrade back
		}
	}
	if running {
		jr.Outcome = journal.OutcomeRunning
	}
	if len(c.ValuesChanged) > 0 && jr.ToRevision > 0 {
		jr.Steps = append(jr.Steps, "values:"+strings.Join(c.ValuesChanged, ","))
	}
	return jr
}

func (j *journalRun) write(x *run, fn func(*journal.Run)) {
	if j == nil {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := j.store.Update(ctx, j.id, fn); err != nil {
		x.warn("the journal was not updated: " + err.Error())
	}
}

// update records every release as it is now.
func (j *journalRun) update(x *run) {
	if j == nil {
		return
	}
	rels := j.releases(x)
	j.write(x, func(r *journal.Run) { r.Releases = rels })
}

// finish records the outcome of the run (paused, too: a paused run has ended and says how to go on), and
// for a rollback that succeeded, marks the run it undid.
func (j *journalRun) finish(x *run) {
	if j == nil {
		return
	}
	rels := j.releases(x)
	x.mu.Lock()
	outcome, msg := x.out.Outcome, x.out.Message
	x.mu.Unlock()
	if outcome == "" {
		outcome, msg = x.cfg.Journal.Success, x.cfg.Journal.SuccessMessage
	}
	j.write(x, func(r *journal.Run) {
		r.Releases = rels
		r.Outcome, r.Message, r.Finished = outcome, x.scrub(msg), j.store.Now().UTC()
	})
	if undoes := x.cfg.Journal.Undoes; undoes != "" && x.out.Outcome == "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := j.store.Update(ctx, undoes, func(r *journal.Run) { r.UndoneBy = j.id }); err != nil {
			x.warn("the undone run was not marked in the journal: " + err.Error())
		}
	}
}

// journalHint is what to do about a run that could not be recorded.
func journalHint(err error, cfg Config) string {
	var tb *journal.TooBigError
	if errors.As(err, &tb) {
		if cfg.Verb == VerbRollback {
			return "the rollback's record alone is over the journal's budget: roll the fleet back in parts (--to-revision)"
		}
		return "the run's record alone is over the journal's budget: upgrade the fleet in parts (-w)"
	}
	if _, hint := kube.Explain(err, "update", "configmaps in namespace "+cfg.Namespace); hint != "" {
		return hint
	}
	return fmt.Sprintf("see '%s doctor'; the journal is the ConfigMap %s in namespace %s of the control plane", cfg.Name, journal.Name, cfg.Namespace)
}
