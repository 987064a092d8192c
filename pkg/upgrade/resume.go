package upgrade

import (
	"context"
	"errors"
	"fmt"

	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/journal"
)

// resumeRun reads the run --resume continues from the journal of the control plane: the one it names, or
// the newest upgrade run when it is paused, failed or killed.
func resumeRun(ctx context.Context, cfg Config, ws []*work) (*journal.Run, error) {
	var store *journal.Store
	for _, w := range ws {
		if w.target.Role == fleet.RoleControlPlane && w.cluster != nil {
			store = &journal.Store{Client: w.cluster.Client, Namespace: cfg.Namespace}
		}
	}
	if store == nil {
		return nil, exit.Usagef("--resume continues a run of the journal, which lives in the control plane: name the control plane (--context)")
	}
	jctx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
	defer cancel()
	j, err := store.Read(jctx)
	if err != nil {
		return nil, explained(err, "get", "configmaps in namespace "+cfg.Namespace)
	}
	if cfg.Resume == ResumeLatest {
		run := journal.LastResumable(j.Runs)
		if run == nil {
			return nil, exit.New(exit.Usage, errors.New("--resume: the newest upgrade run of the journal is not paused, failed or killed: nothing to resume"),
				fmt.Sprintf("see the runs with '%s status -o json' (journal.runs); run '%s upgrade' to start a new run", cfg.Name, cfg.Name))
		}
		return run, nil
	}
	run := journal.ByID(j.Runs, cfg.Resume)
	switch {
	case run == nil:
		return nil, exit.Usagef("--resume %s: the journal has no run %s (it keeps the last %d runs)", cfg.Resume, cfg.Resume, journal.MaxRuns)
	case !run.Resumable():
		return nil, exit.Usagef("--resume %s: the run is a %s run that ended %s: only a paused, failed or killed upgrade run that is not undone is continued", run.ID, run.Kind, run.Outcome)
	}
	return run, nil
}

// resumeTarget refuses the plan when it no longer goes where the run went: a resumed run never leaves the
// fleet at two versions.
func resumeTarget(cfg Config, run *journal.Run, ws []*work) error {
	for _, w := range ws {
		if w.plan.To != "" && run.Target != "" && w.plan.To != run.Target {
			return exit.New(exit.Usage, fmt.Errorf("--resume %s: the run went to %s, this plan to %s (%s/%s): the target is no longer what it was", run.ID, run.Target, w.plan.To, w.plan.Context, w.plan.Release),
				fmt.Sprintf("give --version %s to finish the run, or start a new run without --resume", run.Target))
		}
	}
	return nil
}

// resumeDone checks by Helm revision which releases the run already did: one at the revision the run left
// is done (never upgraded twice); one the run upgraded that has moved since is refused.
func resumeDone(cfg Config, run *journal.Run, ws []*work) {
	for _, w := range ws {
		jr := run.Find(w.plan.Context, w.plan.Release)
		if jr == nil || jr.ToRevision == 0 || (jr.Outcome != OutcomeUpgraded && jr.Outcome != OutcomeInstalled) || w.last == nil {
			continue
		}
		p := w.plan
		switch {
		case w.last.Revision == jr.ToRevision && w.last.Status == "deployed":
			p.Action, p.Reason = ActionUpToDate, fmt.Sprintf("done by run %s (revision %d)", run.ID, jr.ToRevision)
		case p.Action != ActionUpToDate:
			p.Action = ActionRefused
			p.Reason = fmt.Sprintf("run %s upgraded it to revision %d, it is now revision %d (%s %s): it changed since, and a release is never upgraded twice by one run",
				run.ID, jr.ToRevision, w.last.Revision, w.last.Status, w.last.ChartVersion)
			p.Hint = fmt.Sprintf("see '%s status'; start a new run without --resume", cfg.Name)
		}
	}
}
