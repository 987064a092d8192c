// Package apply is what the commands that change releases (upgrade and rollback) share: their flags, the
// confirmation, the text of a diff and of the result table, and the exit code of an outcome. The reports
// themselves stay in pkg/upgrade and pkg/rollback; this package only prints and binds flags.
package apply

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/skoala-dev/kubectl-skoala/pkg/change"
	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
)

// DefaultTimeout is the --timeout of a verb that waits for each release's rollout.
const DefaultTimeout = 5 * time.Minute

// AddFleetFlags registers the fleet flags, with --timeout documented as the wait of each release
// (timeoutUsage), and -o.
func AddFleetFlags(cmd *cobra.Command, g *cli.Globals, f *cli.FleetFlags, output *string, timeoutUsage string) {
	f.Add(cmd, g)
	if fl := cmd.Flags().Lookup("timeout"); fl != nil {
		fl.Usage = timeoutUsage
		fl.DefValue = DefaultTimeout.String()
	}
	cli.AddOutputFlag(cmd, output)
}

// AddChangeFlags registers --dry-run (its help says what the verb's dry run prints), --yes and
// --backup-dir.
func AddChangeFlags(cmd *cobra.Command, dryRun *bool, dryRunUsage string, yes *bool, backupDir *string) {
	fs := cmd.Flags()
	fs.BoolVar(dryRun, "dry-run", *dryRun, dryRunUsage)
	fs.BoolVarP(yes, "yes", "y", *yes, "Do not ask for confirmation")
	fs.StringVar(backupDir, "backup-dir", *backupDir, "Directory of the values backups (default: <user config dir>/kubectl-skoala/backups)")
	_ = cmd.MarkFlagDirname("backup-dir")
}

// IsTerminal reports whether r is a terminal to ask on (/dev/null is a character device, not a terminal).
func IsTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Ask asks q on out and reads the answer from in: yes or y, anything else is no.
func Ask(in io.Reader, out io.Writer, q string) bool {
	fmt.Fprintf(out, "%s [y/N]: ", q)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}

// OutcomeError maps the outcome of a run onto the exit-code contract: an outcome of ok is success, one
// of problems exit 3, timed-out exit 4, interrupted (the spellings of pkg/change) the cancellation (130), anything else a failure. The
// error says the message (the outcome when there is none), with the hint.
func OutcomeError(outcome, message, hint string, ok, problems []string) error {
	if message == "" {
		message = outcome
	}
	switch {
	case slices.Contains(ok, outcome):
		return nil
	case slices.Contains(problems, outcome):
		return exit.New(exit.Problems, errors.New(message), hint)
	case outcome == change.OutcomeTimedOut:
		return exit.New(exit.Timeout, errors.New(message), hint)
	case outcome == change.OutcomeInterrupted:
		return context.Canceled
	}
	return exit.New(exit.Failure, errors.New(message), hint)
}

// WriteDiffLines writes a unified diff, coloured: the file lines bold, the hunk lines as unknown, the
// added lines as OK, the removed ones as errors.
func WriteDiffLines(b *strings.Builder, p *render.Palette, diff string) {
	for _, line := range strings.Split(strings.TrimRight(diff, "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "+++"), strings.HasPrefix(line, "---"):
			b.WriteString(p.Bold(line))
		case strings.HasPrefix(line, "@@"):
			b.WriteString(p.State(render.Unknown, line))
		case strings.HasPrefix(line, "+"):
			b.WriteString(p.State(render.OK, line))
		case strings.HasPrefix(line, "-"):
			b.WriteString(p.State(render.Error, line))
		default:
			b.WriteString(line)
		}
		b.WriteString("\n")
	}
}

// Result is one release's row of the result table.
type Result struct {
	Context, Release string
	// From, To and Backup are as shown ("-" when none).
	From, To, Backup string
	Outcome          string
	Level            render.Level
	// Revision is the release's revision after the run (0: none).
	Revision int
	Duration string
	// Error is what failed, Done the steps done before.
	Error string
	Done  []string
}

// WriteResults writes the title, the table of the releases with their outcome, revision, time and
// backup, then each release's error with the steps done before it.
func WriteResults(b *strings.Builder, p *render.Palette, title string, results []Result) {
	b.WriteString(p.Bold(title) + "\n")
	rows := [][]render.Cell{}
	for _, r := range results {
		rev := "-"
		if r.Revision > 0 {
			rev = fmt.Sprint(r.Revision)
		}
		rows = append(rows, []render.Cell{render.C(r.Context), render.C(r.Release), render.C(r.From), render.C(r.To),
			render.L(r.Level, r.Outcome), render.C(rev), render.C(render.OrDash(r.Duration)), render.C(r.Backup)})
	}
	b.WriteString(p.Table([]string{"cluster", "release", "from", "to", "result", "revision", "took", "backup"}, rows))
	for _, r := range results {
		if r.Error == "" {
			continue
		}
		fmt.Fprintf(b, "%s %s/%s: %s\n", p.State(render.Error, "error:"), r.Context, r.Release, r.Error)
		if len(r.Done) > 0 {
			fmt.Fprintf(b, "  steps done: %s\n", strings.Join(r.Done, ", "))
		}
	}
}
