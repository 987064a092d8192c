package upgrade

import (
	"fmt"

	"github.com/skoala-dev/kubectl-skoala/pkg/semver"
)

// decideOutcome sets the outcome of a plan before anything runs: a refused release refuses the whole run,
// a dry run changes nothing, and a fleet at its target versions has nothing to do.
func (p *Planned) decideOutcome() {
	rep := p.Report
	p.stopped = true
	switch {
	case p.refused():
		rep.Outcome = OutcomeRefused
		rep.Message = "nothing was changed: a release cannot be upgraded now"
		rep.Hint = firstHint(rep)
	case p.cfg.DryRun:
		rep.Outcome = OutcomeDryRun
		rep.Message = "nothing was changed"
	case p.Todo() == 0:
		rep.Outcome = OutcomeUpToDate
		rep.Message = "every release is already at its target version"
	default:
		p.stopped = false
	}
}

func (p *Planned) refused() bool {
	for _, w := range p.works {
		if w.plan.Action == ActionRefused {
			return true
		}
	}
	return false
}

// Todo is the number of releases the plan upgrades, installs or resumes.
func (p *Planned) Todo() int {
	n := 0
	for _, w := range p.works {
		if w.plan.changes() {
			n++
		}
	}
	return n
}

// Runnable reports whether Execute would change something: the plan is neither refused, a dry run, up to
// date, failed its checks nor declined.
func (p *Planned) Runnable() bool {
	return !p.stopped
}

func firstHint(rep *Report) string {
	for _, r := range rep.Releases {
		if r.Action == ActionRefused && r.Hint != "" {
			return r.Hint
		}
	}
	return ""
}

// PreflightInput is what the pre-upgrade checks of the plan look at.
func (p *Planned) PreflightInput() PreflightInput {
	in := PreflightInput{Recovering: map[string]bool{}, Offline: p.Offline}
	for _, w := range p.works {
		rp := w.plan
		switch rp.Action {
		case ActionUpgrade, ActionResume:
			in.Upgrades = append(in.Upgrades, w.target)
		case ActionInstall:
			in.Installs = append(in.Installs, w.target)
		default:
			continue
		}
		if in.TargetVersion == "" || semver.Compare(rp.To, in.TargetVersion) > 0 {
			in.TargetVersion = rp.To
		}
		if rp.Action == ActionResume || (w.last != nil && w.last.Status != "deployed") || p.touched(rp) {
			in.Recovering[rp.Context] = true
		}
	}
	in.Rights = planRights(p.cfg, p.works) // every right the plan uses
	return in
}

// SetPreflight records the result of the pre-upgrade checks (or the error that kept them from running):
// a failure refuses the plan unless --force.
func (p *Planned) SetPreflight(pf *PreflightResult, err error) {
	if err != nil {
		pf = &PreflightResult{Ran: true, Failed: true, Error: "the pre-upgrade checks could not run: " + scrub(err.Error(), p.works)}
	}
	rep := p.Report
	rep.Preflight = pf
	if pf == nil || !pf.Failed {
		return
	}
	if p.cfg.Force {
		pf.Forced = true
		return
	}
	p.stopped = true
	rep.Outcome = OutcomeRefused
	rep.Message = "the pre-upgrade checks failed: nothing was changed"
	rep.Hint = fmt.Sprintf("fix what '%s doctor' reports, or give --force to upgrade anyway", p.cfg.Name)
}

// Unconfirmed records that the plan was not confirmed because there is no terminal to ask on.
func (p *Planned) Unconfirmed() {
	p.stopped = true
	p.Report.Outcome = OutcomePlanned
	p.Report.Message = "nothing was changed: no terminal to confirm on"
	p.Report.Hint = "review the plan, then run again with --yes"
}

// Cancel records that the operator declined the plan.
func (p *Planned) Cancel() {
	p.stopped = true
	p.Report.Outcome = OutcomeCancelled
	p.Report.Message = "cancelled: nothing was changed"
}

// touched reports whether the run this plan resumes began to change rp (its steps may have left the
// release half-prepared: the admission Jobs deleted, CRDs applied), which the upgrade repairs.
func (p *Planned) touched(rp *ReleasePlan) bool {
	if p.run == nil {
		return false
	}
	jr := p.run.Find(rp.Context, rp.Release)
	return jr != nil && jr.Outcome != OutcomeNotStarted && jr.Outcome != OutcomeUpToDate
}
