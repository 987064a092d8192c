package rollback

import (
	"fmt"
	"io"
	"strings"

	"github.com/skoala-dev/kubectl-skoala/pkg/cmd/apply"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
	"github.com/skoala-dev/kubectl-skoala/pkg/rollback"
)

// view is the rollback report as the command writes it (render.Writer): pkg/rollback holds the report,
// the command prints it.
type view struct{ *rollback.Report }

// WriteJSON writes the report as JSON.
func (v view) WriteJSON(w io.Writer) error { return render.WriteJSON(w, v.Report) }

// WriteYAML writes the report as YAML.
func (v view) WriteYAML(w io.Writer) error { return render.WriteYAML(w, v.Report) }

// WriteTable writes the result once executed (after a blank line: the plan was printed before it);
// before, the plan (and with --dry-run the diff).
func (v view) WriteTable(w io.Writer, p *render.Palette) error {
	r := v.Report
	if r.Executed() {
		if _, err := io.WriteString(w, "\n"); err != nil {
			return err
		}
		return writeResultTo(w, r, p)
	}
	if err := writePlanTo(w, r, p); err != nil {
		return err
	}
	if r.DryRun {
		return writeDiffTo(w, r, p)
	}
	return nil
}

func actionLevel(a string) render.Level {
	switch a {
	case rollback.ActionRollback, rollback.ActionRecover, rollback.ActionRestore:
		return render.Warn
	case rollback.ActionUninstall, rollback.ActionRefused:
		return render.Error
	case rollback.ActionNone:
		return render.OK
	}
	return render.None
}

func outcomeLevel(o string) render.Level {
	switch o {
	case rollback.OutcomeRolledBack, rollback.OutcomeRecovered, rollback.OutcomeRestored, rollback.OutcomeUninstalled, rollback.OutcomeDryRun, rollback.OutcomeNothing, rollback.OutcomeLeftAlone:
		return render.OK
	case rollback.OutcomePlanned, rollback.OutcomeCancelled, rollback.OutcomeNotStarted:
		return render.Warn
	}
	return render.Error
}

func revisions(rp rollback.ReleasePlan) string {
	switch {
	case rp.FromRevision == 0:
		return "-"
	case rp.Action == rollback.ActionUninstall:
		return fmt.Sprintf("%d -> -", rp.FromRevision)
	case rp.Action == rollback.ActionRestore:
		return fmt.Sprintf("%d -> %d", rp.FromRevision, rp.FromRevision+1)
	case rp.ToRevision > 0 && rollback.Active(rp.Action):
		return fmt.Sprintf("%d -> %d (as %d)", rp.FromRevision, rp.FromRevision+1, rp.ToRevision)
	}
	return fmt.Sprint(rp.FromRevision)
}

// writePlanTo writes the plan: the run undone, a table of the releases, then per release the reason and
// the steps, and what a rollback does not undo.
func writePlanTo(w io.Writer, r *rollback.Report, p *render.Palette) error {
	var b strings.Builder
	title := "Rollback plan"
	if r.DryRun {
		title += " (dry run: nothing will be changed)"
	}
	fmt.Fprintf(&b, "%s\n", p.Bold(title))
	fmt.Fprintf(&b, "namespace %s", r.Namespace)
	switch {
	case r.Run != "":
		fmt.Fprintf(&b, ", undoing %s", r.RunSummary)
	case r.Mode == rollback.ModeRun:
		b.WriteString(", no upgrade run to undo in the journal")
	}
	b.WriteString("\n\n")
	rows := make([][]render.Cell, 0, len(r.Releases))
	for _, rp := range r.Releases {
		rows = append(rows, []render.Cell{render.C(rp.Context), render.C(rp.Role), render.C(rp.Release), render.C(orDash(rp.From)),
			render.C(orDash(rp.To)), render.C(revisions(rp)), render.C(rp.Status), render.L(actionLevel(rp.Action), rp.Action)})
	}
	b.WriteString(p.Table([]string{"cluster", "role", "release", "from", "to", "revision", "status", "action"}, rows))
	for _, rp := range r.Releases {
		if rp.Action == rollback.ActionNone && rp.Reason == "" {
			continue
		}
		fmt.Fprintf(&b, "\n%s/%s: %s\n", rp.Context, rp.Release, p.State(actionLevel(rp.Action), rp.Action))
		if rp.Reason != "" {
			fmt.Fprintf(&b, "  %s\n", rp.Reason)
		}
		if len(rp.Removes) > 0 {
			fmt.Fprintf(&b, "  %s\n", p.State(render.Error, "uninstalling removes:"))
			for _, o := range rp.Removes {
				fmt.Fprintf(&b, "    - %s\n", o)
			}
		}
		if len(rp.Steps) > 0 {
			b.WriteString("  steps:\n")
			for i, s := range rp.Steps {
				fmt.Fprintf(&b, "    %d. %s\n", i+1, s)
			}
		}
		if rp.Hint != "" {
			fmt.Fprintf(&b, "  hint: %s\n", rp.Hint)
		}
	}
	if len(r.NotUndone) > 0 {
		fmt.Fprintf(&b, "\n%s\n", p.Bold("What a rollback does not undo:"))
		for _, s := range r.NotUndone {
			fmt.Fprintf(&b, "  - %s\n", s)
		}
	}
	for _, s := range r.Warnings {
		fmt.Fprintf(&b, "%s %s\n", p.State(render.Warn, "warning:"), s)
	}
	if !r.DryRun && r.Message != "" {
		fmt.Fprintf(&b, "\n%s %s\n", p.State(outcomeLevel(r.Outcome), r.Outcome+":"), r.Message)
		if r.Hint != "" {
			fmt.Fprintf(&b, "hint: %s\n", r.Hint)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeDiffTo writes the dry run's unified diffs: values first, then each changed resource.
func writeDiffTo(w io.Writer, r *rollback.Report, p *render.Palette) error {
	var b strings.Builder
	for _, rp := range r.Releases {
		if !rollback.Active(rp.Action) {
			continue
		}
		fmt.Fprintf(&b, "\n%s\n", p.Bold(fmt.Sprintf("diff of %s/%s (%s -> %s)", rp.Context, rp.Release, orDash(rp.From), orDash(rp.To))))
		if rp.Action == rollback.ActionRestore {
			b.WriteString(p.Faint("# the manifest is rendered from the chart when the backup is restored") + "\n")
		}
		changed := 0
		for _, d := range rp.Diff {
			if d.Diff == "" {
				continue
			}
			changed++
			fmt.Fprintf(&b, "%s\n", p.Faint("# "+d.Name+": "+d.Change))
			apply.WriteDiffLines(&b, p, d.Diff)
		}
		if changed == 0 && rp.Action != rollback.ActionUninstall {
			b.WriteString("no change\n")
		}
	}
	if r.Message != "" {
		fmt.Fprintf(&b, "\n%s %s\n", p.State(outcomeLevel(r.Outcome), r.Outcome+":"), r.Message)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeResultTo writes what happened: a table of the releases with their outcome, then the errors and the
// outcome line.
func writeResultTo(w io.Writer, r *rollback.Report, p *render.Palette) error {
	var b strings.Builder
	var results []apply.Result
	for _, rp := range r.Releases {
		res := rp.Result
		if res == nil {
			continue
		}
		results = append(results, apply.Result{Context: rp.Context, Release: rp.Release, From: orDash(rp.From), To: orDash(rp.To), Backup: orDash(res.Backup),
			Outcome: res.Outcome, Level: outcomeLevel(res.Outcome), Revision: res.Revision, Duration: res.Duration, Error: res.Error, Done: res.Done})
	}
	apply.WriteResults(&b, p, "Rollback result", results)
	for _, s := range r.Warnings {
		fmt.Fprintf(&b, "%s %s\n", p.State(render.Warn, "warning:"), s)
	}
	if r.JournalRun != "" {
		fmt.Fprintf(&b, "journal: run %s\n", r.JournalRun)
	}
	fmt.Fprintf(&b, "\n%s %s\n", p.State(outcomeLevel(r.Outcome), r.Outcome+":"), r.Message)
	_, err := io.WriteString(w, b.String())
	return err
}

var orDash = render.OrDash
