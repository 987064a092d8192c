package upgrade

import (
	"fmt"
	"io"
	"strings"

	"github.com/skoala-dev/kubectl-skoala/pkg/cmd/apply"
	"github.com/skoala-dev/kubectl-skoala/pkg/doctor"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
	"github.com/skoala-dev/kubectl-skoala/pkg/upgrade"
)

// The text of the upgrade's plan, diff and result: pkg/upgrade holds the report, the command prints it.

func actionLevel(a string) render.Level {
	switch a {
	case upgrade.ActionUpgrade, upgrade.ActionInstall:
		return render.Warn
	case upgrade.ActionResume:
		return render.Warn
	case upgrade.ActionUpToDate:
		return render.OK
	case upgrade.ActionRefused:
		return render.Error
	}
	return render.None
}

func revisions(p upgrade.ReleasePlan) string {
	switch p.Action {
	case upgrade.ActionInstall:
		return "- -> 1"
	case upgrade.ActionUpgrade, upgrade.ActionResume:
		return fmt.Sprintf("%d -> %d", p.FromRevision, p.FromRevision+1)
	}
	if p.FromRevision == 0 {
		return "-"
	}
	return fmt.Sprint(p.FromRevision)
}

// writePlanTo writes the plan: a table of the releases (from -> to), then per release the image tags, the
// values changed, the steps in order, the manual steps and the warnings.
func writePlanTo(w io.Writer, r *upgrade.Report, p *render.Palette) error {
	var b strings.Builder
	title := "Upgrade plan"
	if r.DryRun {
		title += " (dry run: nothing will be changed)"
	}
	fmt.Fprintf(&b, "%s\n", p.Bold(title))
	fmt.Fprintf(&b, "namespace %s, charts from %s\n\n", r.Namespace, r.Source)
	rows := make([][]render.Cell, 0, len(r.Releases))
	for _, rp := range r.Releases {
		rows = append(rows, []render.Cell{
			render.C(rp.Context), render.C(rp.Role), render.C(rp.Release), render.C(orDash(rp.From)), render.C(rp.To),
			render.C(revisions(rp)), render.C(rp.Status), render.L(actionLevel(rp.Action), rp.Action),
		})
	}
	b.WriteString(p.Table([]string{"cluster", "role", "release", "from", "to", "revision", "status", "action"}, rows))
	for _, rp := range r.Releases {
		writeReleasePlan(&b, rp, p)
	}
	for _, sk := range r.Skipped {
		fmt.Fprintf(&b, "\n%s %s (--skip-unreachable): %s\n", p.State(render.Warn, "skipped"), sk.Cluster, sk.Reason)
		if sk.Hint != "" {
			fmt.Fprintf(&b, "  hint: %s\n", sk.Hint)
		}
	}
	writePreflight(&b, r.Preflight, p)
	b.WriteString("\n")
	if r.Outcome != upgrade.OutcomeDryRun && (r.Outcome != upgrade.OutcomePlanned || r.Message != "") {
		writeOutcome(&b, r, p)
	} else {
		// A dry run or a plan awaiting confirmation still says what the operator should know (a failed
		// --refresh, ...): the JSON has the same warnings.
		for _, wmsg := range r.Warnings {
			fmt.Fprintf(&b, "%s %s\n", p.State(render.Warn, "warning:"), wmsg)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeReleasePlan writes one release of the plan: its action, then (for a change) the image tags, the
// values changed, the steps in order, the manual steps and the warnings.
func writeReleasePlan(b *strings.Builder, rp upgrade.ReleasePlan, p *render.Palette) {
	b.WriteString("\n")
	fmt.Fprintf(b, "%s %s -> %s: %s\n", p.Bold(rp.Context+"/"+rp.Release), orDash(rp.From), rp.To, p.State(actionLevel(rp.Action), rp.Action))
	if rp.Reason != "" {
		fmt.Fprintf(b, "  %s\n", rp.Reason)
	}
	if rp.Hint != "" {
		fmt.Fprintf(b, "  hint: %s\n", rp.Hint)
	}
	if upgrade.Passive(rp.Action) {
		return
	}
	if len(rp.ImageTags) > 0 {
		var parts []string
		for _, it := range rp.ImageTags {
			parts = append(parts, it.Component+"="+it.Tag)
		}
		fmt.Fprintf(b, "  image tags: %s\n", strings.Join(parts, ", "))
	}
	for _, o := range rp.Overrides {
		if o.Reason == "image tag" {
			continue
		}
		fmt.Fprintf(b, "  set %s=%s (%s)\n", o.Key, o.Value, o.Reason)
	}
	for _, o := range rp.Dropped {
		fmt.Fprintf(b, "  drop %s=%s: %s\n", o.Key, o.Value, o.Reason)
	}
	b.WriteString("  steps:\n")
	for i, s := range rp.Steps {
		fmt.Fprintf(b, "    %d. %s\n", i+1, s.Description)
	}
	if len(rp.Manual) > 0 {
		b.WriteString("  manual steps (kubectl-skoala does not do these):\n")
		for _, s := range rp.Manual {
			m := ""
			if s.Mandatory {
				m = p.State(render.Warn, "mandatory: ")
			}
			fmt.Fprintf(b, "    - %s%s\n", m, s.Description)
			if s.Command != "" {
				fmt.Fprintf(b, "      %s\n", s.Command)
			}
		}
	}
	for _, wmsg := range rp.Warnings {
		fmt.Fprintf(b, "  %s %s\n", p.State(render.Warn, "warning:"), wmsg)
	}
}

// writePreflight writes the outcome of the pre-upgrade checks and every failure and warning.
func writePreflight(b *strings.Builder, pf *upgrade.PreflightResult, p *render.Palette) {
	if pf == nil || !pf.Ran {
		return
	}
	b.WriteString("\n")
	switch {
	case pf.Failed && pf.Forced:
		fmt.Fprintf(b, "%s the pre-upgrade checks failed; going on because of --force:\n", p.State(render.Warn, "pre-upgrade checks:"))
	case pf.Failed:
		fmt.Fprintf(b, "%s failed:\n", p.State(render.Error, "pre-upgrade checks:"))
	default:
		fmt.Fprintf(b, "%s passed\n", p.State(render.OK, "pre-upgrade checks:"))
	}
	if pf.Error != "" {
		fmt.Fprintf(b, "  %s\n", pf.Error)
	}
	for _, c := range pf.Checks {
		fmt.Fprintf(b, "  %s\n", preflightLine(c))
	}
}

func outcomeLevel(o string) render.Level {
	switch o {
	case upgrade.OutcomeUpgraded, upgrade.OutcomeInstalled, upgrade.OutcomeUpToDate, upgrade.OutcomeDryRun, upgrade.OutcomeSkipped:
		return render.OK
	case upgrade.OutcomePlanned, upgrade.OutcomeCancelled, upgrade.OutcomeNotStarted:
		return render.Warn
	}
	return render.Error
}

func writeOutcome(b *strings.Builder, r *upgrade.Report, p *render.Palette) {
	if r.Message != "" {
		fmt.Fprintf(b, "%s %s\n", p.State(outcomeLevel(r.Outcome), r.Outcome+":"), r.Message)
	}
	if r.Hint != "" {
		fmt.Fprintf(b, "hint: %s\n", r.Hint)
	}
	for _, wmsg := range r.Warnings {
		fmt.Fprintf(b, "%s %s\n", p.State(render.Warn, "warning:"), wmsg)
	}
}

// writeDiffTo writes the dry run's unified diffs, values first, then each changed resource, coloured.
func writeDiffTo(w io.Writer, r *upgrade.Report, p *render.Palette) error {
	var b strings.Builder
	for _, rp := range r.Releases {
		if len(rp.Diff) == 0 {
			continue
		}
		fmt.Fprintf(&b, "%s\n", p.Bold(fmt.Sprintf("diff of %s/%s (%s -> %s)", rp.Context, rp.Release, orDash(rp.From), rp.To)))
		changed := 0
		for _, d := range rp.Diff {
			if d.Diff == "" {
				continue
			}
			changed++
			fmt.Fprintf(&b, "%s %s\n", p.Faint("#"), p.Faint(d.Name+": "+d.Change))
			apply.WriteDiffLines(&b, p, d.Diff)
		}
		if changed == 0 {
			b.WriteString("no change\n")
		}
		b.WriteString("\n")
	}
	if r.Message != "" {
		fmt.Fprintf(&b, "%s %s\n", p.State(outcomeLevel(r.Outcome), r.Outcome+":"), r.Message)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeResultTo writes what happened: a table of the releases with their outcome, revision and backup,
// then the errors, the outcome line and its hint.
func writeResultTo(w io.Writer, r *upgrade.Report, p *render.Palette) error {
	var b strings.Builder
	var results []apply.Result
	for _, rp := range r.Releases {
		res := rp.Result
		if res == nil {
			continue
		}
		backup := "-"
		if len(res.Backups) > 0 {
			backup = res.Backups[0]
		}
		results = append(results, apply.Result{Context: rp.Context, Release: rp.Release, From: orDash(rp.From), To: rp.To, Backup: backup,
			Outcome: res.Outcome, Level: outcomeLevel(res.Outcome), Revision: res.Revision, Duration: res.Duration, Error: res.Error, Done: res.Done})
	}
	apply.WriteResults(&b, p, "Upgrade result", results)
	b.WriteString("\n")
	writeOutcome(&b, r, p)
	_, err := io.WriteString(w, b.String())
	return err
}

// preflightLine is the check as the plan shows it: FAIL, note (a failure the upgrade repairs) or warn, where, the
// check and its message.
func preflightLine(c upgrade.PreflightCheck) string {
	where := c.Cluster
	if where == "" {
		where = "fleet"
	}
	switch {
	case c.Status != doctor.StatusFail:
		return fmt.Sprintf("warn  [%s] %s: %s", where, c.ID, c.Message)
	case c.Repaired:
		return fmt.Sprintf("note  [%s] %s: %s (the upgrade repairs this)", where, c.ID, c.Message)
	case c.Hint != "":
		return fmt.Sprintf("FAIL  [%s] %s: %s (hint: %s)", where, c.ID, c.Message, c.Hint)
	}
	return fmt.Sprintf("FAIL  [%s] %s: %s", where, c.ID, c.Message)
}

var orDash = render.OrDash
