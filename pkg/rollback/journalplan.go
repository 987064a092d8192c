package rollback

import (
	"fmt"
	"sort"
	"strings"

	"github.com/skoala-dev/kubectl-skoala/pkg/change"
	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/journal"
)

// The guards of a rollback that rest on the journal (issue 24 §3): a journal that does not decode is an
// error, never "nothing to roll back"; a run is undone whole or not at all; a rollback stopped half-way
// finishes what is left when run again; a revision made after a killed run is never undone silently.

// waysForward is the hint of a rollback that cannot tell which run to undo.
func waysForward(cfg Config) string {
	return fmt.Sprintf("name the run with --run ID, or roll one release back with '%s rollback --context C --release R --to-revision N' or '--from-backup FILE'", cfg.Name)
}

// journalUnreadable is the error of a rollback of a run when the journal does not decode: which run to
// undo is not known. The journal is left as it is (the next write keeps it under another name).
func journalUnreadable(cfg Config, st *State) error {
	if st.JournalCorrupt == nil {
		return nil
	}
	return withHint(fmt.Errorf("%v: which run to undo is not known, and nothing was changed (it is kept: the next upgrade or rollback moves it to a ConfigMap %s-corrupt-<time>)", st.JournalCorrupt, journal.Name),
		"repair it and "+waysForward(cfg))
}

// historyLost is the error of a plain rollback that finds no upgrade run in a journal started afresh
// after the one before did not decode: "nothing to roll back" is not known.
func historyLost(cfg Config, st *State, run *journal.Run) error {
	if run != nil || len(st.MovedAside) == 0 {
		return nil
	}
	for _, r := range st.Runs {
		if r.Kind == journal.KindUpgrade {
			return nil // runs were recorded since: the newest is undone, or there is nothing to do
		}
	}
	return withHint(fmt.Errorf("the journal holds no upgrade run: it was started afresh after the one before did not decode (kept as ConfigMap %s), so the last run is not known and nothing was changed",
		strings.Join(st.MovedAside, ", ")), waysForward(cfg))
}

// mayHaveChanged says whether the run changed the release, or may have (killed during it); a release
// Helm's --atomic already rolled back is not a change.
func mayHaveChanged(jr journal.Release) bool {
	if jr.Outcome == change.OutcomeRolledBack {
		return false
	}
	return jr.Changed() || jr.Outcome == journal.OutcomeRunning
}

// notAmongTargets names the releases run changed that none of the targets is (matched by the cluster's
// identity, else the context name).
func notAmongTargets(run *journal.Run, st *State) []journal.Release {
	if run == nil {
		return nil
	}
	var out []journal.Release
	for _, jr := range run.Releases {
		if !mayHaveChanged(jr) {
			continue
		}
		found := false
		for _, rs := range st.Releases {
			found = found || (rs.Target.Release == jr.Release && jr.Matches(rs.Identity, rs.Target.Context))
		}
		if !found {
			out = append(out, jr)
		}
	}
	return out
}

// refuseRunPart refuses the rollback of part of a run: it would leave the fleet skewed, and the run
// would count as undone.
func refuseRunPart(cfg Config, run *journal.Run, missing []journal.Release, rep *Report) {
	var names, ws []string
	for _, jr := range missing {
		names = append(names, jr.Context+"/"+jr.Release)
	}
	for _, jr := range run.Releases {
		if jr.Role == fleet.RoleWorkspace && mayHaveChanged(jr) {
			ws = append(ws, jr.Context)
		}
	}
	sort.Strings(ws)
	rep.Outcome = OutcomeRefused
	rep.Message = fmt.Sprintf("nothing was changed: run %s also changed %s, which are not among the targets: undoing part of a run leaves the fleet skewed", run.ID, strings.Join(names, ", "))
	rep.Hint = fmt.Sprintf("give every cluster the run changed: '%s rollback -n %s", cfg.Name, cfg.Namespace)
	if len(ws) > 0 {
		rep.Hint += " -w " + strings.Join(ws, ",")
	}
	rep.Hint += "' (from a kubeconfig that names them so), or roll single releases back with --to-revision"
}

// alreadyBack says why a release the run changed is back where it was before the run ("" when it is
// not): a rollback of this run (recorded in the journal, or Helm's "Rollback to N" of the revision
// before the run) made its newest revision, which is deployed. A rollback stopped half-way is then run
// again for what is left.
func alreadyBack(runs []journal.Run, run *journal.Run, jr *journal.Release, rs ReleaseState) string {
	last := rs.Last()
	if last == nil || last.Status != "deployed" || jr.FromRevision == 0 || last.Revision <= jr.FromRevision {
		return ""
	}
	for _, r := range runsUndoing(runs, run.ID) {
		if rr := r.FindOn(rs.Identity, rs.Target.Context, rs.Target.Release); rr != nil && rr.ToRevision == last.Revision {
			return fmt.Sprintf("rollback %s already returned it to revision %d (now revision %d, %s)", r.ID, jr.FromRevision, last.Revision, last.ChartVersion)
		}
	}
	if last.Description == fmt.Sprintf("Rollback to %d", jr.FromRevision) && last.ChartVersion == jr.FromVersion {
		return fmt.Sprintf("it is back at revision %d already (revision %d: %q, %s)", jr.FromRevision, last.Revision, last.Description, last.ChartVersion)
	}
	return ""
}

// runsUndoing are the rollback runs of the journal that undo run id.
func runsUndoing(runs []journal.Run, id string) []journal.Run {
	var out []journal.Run
	for _, r := range runs {
		if r.Kind == journal.KindRollback && r.Undoes == id {
			out = append(out, r)
		}
	}
	return out
}

// killedRunRevisions is, for a run killed during its helm call, the revision it made (the first after
// its base: base+1 when the base was the newest revision, else the first not older than the run) and the
// revisions made after it.
func killedRunRevisions(run *journal.Run, jr *journal.Release, rs ReleaseState) (int, []*helmsdk.Release) {
	var above []*helmsdk.Release
	for _, h := range rs.History {
		if h.Revision > jr.FromRevision {
			above = append(above, h)
		}
	}
	sort.Slice(above, func(i, j int) bool { return above[i].Revision < above[j].Revision })
	if len(above) == 0 {
		return 0, nil
	}
	i := 0
	if jr.FromStatus != "" && jr.FromStatus != "deployed" && jr.FromStatus != "superseded" {
		// The base was not the newest revision (a failed or pending one sat on it): skip those older than the run.
		for i < len(above)-1 && !above[i].LastDeployed.IsZero() && above[i].LastDeployed.Before(run.Started) {
			i++
		}
	}
	return above[i].Revision, above[i+1:]
}

// describe names revisions for a refusal: "revision 4 (deployed 0.57.3, "Upgrade complete", 2026-12-02 03:04 UTC)".
func describe(revs []*helmsdk.Release) string {
	var parts []string
	for _, h := range revs {
		d := fmt.Sprintf("revision %d (%s %s", h.Revision, h.Status, h.ChartVersion)
		if h.Description != "" {
			d += fmt.Sprintf(", %q", h.Description)
		}
		if !h.LastDeployed.IsZero() {
			d += ", " + h.LastDeployed.UTC().Format("2006-01-02 15:04 UTC")
		}
		parts = append(parts, d+")")
	}
	return strings.Join(parts, " and ")
}
