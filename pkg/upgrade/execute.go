package upgrade

import (
	"context"
	"fmt"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/change"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/journal"
	"github.com/skoala-dev/kubectl-skoala/pkg/semver"
	"github.com/skoala-dev/kubectl-skoala/pkg/upgradepath"
)

// Execute carries out a runnable plan with the change engine (pkg/change): locks, then backups of every
// release, then the releases in waves, control plane first, stopping as the failure budget says. It
// returns the plan's report with the outcome of the run and of each release (also with an error, which
// is only the context's: an interruption). A plan that is not Runnable is returned as it is: only its
// plan events are observed.
func Execute(ctx context.Context, d Deps, p *Planned) (*Report, error) {
	d = d.withDefaults()
	changes := make([]*change.Change, len(p.works))
	for i, w := range p.works {
		changes[i] = w.change(p.cfg, d.Now())
	}
	if !p.Runnable() {
		change.Announce(change.Deps{Observe: d.Observe}, p.engineConfig(), changes)
		return p.Report, nil
	}
	out, err := change.Execute(ctx, change.Deps{Guard: d.Guard, Observe: d.Observe, Now: d.Now}, p.engineConfig(), changes)
	rep := p.Report
	for i, w := range p.works {
		if !changes[i].Passive || w.plan.Result == nil {
			w.plan.Result = resultOf(changes[i])
		}
	}
	rep.Warnings = append(rep.Warnings, out.Warnings...)
	rep.JournalRun = out.JournalRun
	switch {
	case out.Outcome != "":
		rep.Outcome, rep.Message, rep.Hint = out.Outcome, out.Message, out.Hint
	default:
		rep.Outcome = OutcomeUpgraded
		rep.Message = fmt.Sprintf("%d release(s) upgraded (or installed) and verified", p.Todo())
	}
	return rep, err
}

// engineConfig is the engine's configuration of the plan.
func (p *Planned) engineConfig() change.Config {
	cfg := p.cfg
	return change.Config{Verb: change.VerbUpgrade, Name: cfg.Name, Namespace: cfg.Namespace, Timeout: cfg.Timeout, Atomic: cfg.Atomic,
		MaxHistory: cfg.MaxHistory, BackupDir: cfg.BackupDir, Tool: cfg.Tool, Waves: cfg.Waves,
		Journal: change.JournalConfig{Kind: journal.KindUpgrade, Target: targetOf(p.works), Resume: p.resume,
			Success: OutcomeUpgraded, SuccessMessage: fmt.Sprintf("%d release(s) upgraded (or installed) and verified", p.Todo()),
			Identities: cfg.Identities, RequestTimeout: cfg.RequestTimeout}}
}

// change is w as the engine carries it out.
func (w *work) change(cfg Config, now time.Time) *change.Change {
	p := w.plan
	c := &change.Change{Context: p.Context, Role: w.target.Role, Release: w.target.Release, Chart: p.Chart, Action: p.Action,
		FromVersion: p.From, ToVersion: p.To, FromRevision: baseRevision(w), FromStatus: p.Status, Cluster: w.cluster, Helm: w.helm,
		Passive: !p.changes(), Expect: w.last, CreateNamespace: p.Action == ActionInstall, Base: baseRelease(w), ForceCRDs: cfg.Force,
		Objects: w.objects, Verify: change.Verify{Tags: w.tags, ChartVersion: p.To, Registry: cfg.ImageRegistry},
		Success: OutcomeUpgraded, Secrets: w.secrets}
	switch p.Action {
	case ActionUpToDate:
		c.Result.Outcome = OutcomeUpToDate
	case ActionSkipped:
		c.Result.Outcome = OutcomeSkipped
	}
	c.Op = change.Operation{Kind: change.OpUpgrade, Chart: w.chart, Values: w.values, Atomic: cfg.Atomic, CleanupOnFail: cfg.CleanupOnFail,
		Description: fmt.Sprintf("%s by kubectl-skoala %s", p.Action, cfg.Tool)}
	if p.Action == ActionInstall {
		c.Op.Kind, c.Op.Description, c.Success = change.OpInstall, "", OutcomeInstalled
	}
	if p.Action == ActionResume {
		in := pendingInput(cfg, w.last, now)
		c.Pending, c.Unlock, c.RollbackTo = &in, w.last, w.deployed
		c.UnlockWhy = fmt.Sprintf("kubectl-skoala: marked failed: left %s by an interrupted upgrade", w.last.Status)
	}
	for _, s := range p.Steps {
		switch s.Kind {
		case StepJobs:
			c.Jobs = upgradepath.AdmissionJobs
		case StepCRDs:
			c.CRDs = append(c.CRDs, w.crdFiles(s.Files))
		}
	}
	for _, o := range append(append([]Override{}, p.Overrides...), p.Dropped...) {
		c.ValuesChanged = append(c.ValuesChanged, o.Key)
	}
	return c
}

// resultOf is the report's result of a change.
func resultOf(c *change.Change) *Result {
	r := c.Result
	res := &Result{Outcome: r.Outcome, Revision: r.Revision, Backups: r.Backups, Done: r.Done, Components: r.Components,
		Error: r.Error, Hint: r.Hint}
	if !c.Passive && r.Outcome != change.OutcomeNotStarted {
		res.Duration = r.Duration.String()
	}
	return res
}

// crdFiles are the CRD files of w's chart named by a CRD step.
func (w *work) crdFiles(files []string) []helmsdk.CRDFile {
	var out []helmsdk.CRDFile
	for _, f := range files {
		for _, cf := range w.crds {
			if cf.Path == f {
				out = append(out, cf)
			}
		}
	}
	return out
}

// targetOf is the version the run goes to: the highest target of the releases it changes.
func targetOf(ws []*work) string {
	t := ""
	for _, w := range ws {
		if !Passive(w.plan.Action) && (t == "" || semver.Compare(w.plan.To, t) > 0) {
			t = w.plan.To
		}
	}
	return t
}
