package doctor

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/doctor"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
)

// Width is the width the table wraps messages and hints at.
const Width = 100

var glyphs = map[doctor.Status]string{doctor.StatusOK: "✓ ok  ", doctor.StatusWarn: "! warn", doctor.StatusFail: "✗ fail", doctor.StatusSkip: "- skip"}

var levels = map[doctor.Status]render.Level{doctor.StatusOK: render.OK, doctor.StatusWarn: render.Warn, doctor.StatusFail: render.Error, doctor.StatusSkip: render.Unknown}

// writeTable renders the report for a person: the categories in their fixed order, under each the clusters,
// one line per check with its verdict (glyph and word), the hint indented under every warning, failure and
// skip that has one, and a summary line. Colour comes from the palette (lipgloss, only on a terminal).
func writeTable(w io.Writer, p *render.Palette, r *doctor.Report) error {
	var b strings.Builder
	const indent = "    "
	const cont = "        "
	cat := doctor.CategoryID("")
	cluster := "\x00"
	for i := 0; i < len(r.Checks); i++ {
		c := r.Checks[i]
		if c.Category != cat {
			if cat != "" {
				b.WriteString("\n")
			}
			cat = c.Category
			cluster = "\x00"
			b.WriteString(p.Bold(cat.Title()) + "\n")
		}
		if c.Cluster != cluster {
			cluster = c.Cluster
			if cluster != "" {
				b.WriteString("  " + p.Faint("["+cluster+"]") + "\n")
			}
		}
		msg := c.Message
		// Checks skipped because what they need did not pass are folded into one line.
		if c.Cascade {
			j := i
			var names []string
			for j < len(r.Checks) && r.Checks[j].Cascade && r.Checks[j].Category == c.Category && r.Checks[j].Cluster == c.Cluster {
				names = append(names, r.Checks[j].Description)
				j++
			}
			if len(names) > 1 {
				msg = fmt.Sprintf("%d checks not run, they need a check above that did not pass: %s", len(names), strings.Join(names, "; "))
				i = j - 1
			}
		}
		lines := render.Wrap(msg, Width-len(indent)-len(cont))
		b.WriteString(indent + p.State(levels[c.Status], glyphs[c.Status]) + "  " + lines[0] + "\n")
		for _, l := range lines[1:] {
			b.WriteString(indent + cont + l + "\n")
		}
		if c.Hint != "" && c.Status != doctor.StatusOK {
			hl := render.Wrap("hint: "+c.Hint, Width-len(indent)-len(cont))
			for _, l := range hl {
				b.WriteString(indent + cont + p.Faint(l) + "\n")
			}
		}
	}
	if len(r.Checks) > 0 {
		b.WriteString("\n")
	}
	b.WriteString(summaryLine(r, p) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func summaryLine(r *doctor.Report, p *render.Palette) string {
	s := r.Summary
	counts := fmt.Sprintf("%d ok, %s, %d failed, %d skipped", s.OK, plural(s.Warn, "warning", "warnings"), s.Fail, s.Skip)
	where := plural(len(r.Clusters), "cluster", "clusters")
	if r.Elapsed > 0 {
		where += ", " + r.Elapsed.Round(100*time.Millisecond).String()
	}
	mode := ""
	switch r.Mode {
	case doctor.ModePreInstall:
		mode = " before install"
	case doctor.ModePreUpgrade:
		mode = " before the upgrade to " + r.Target
	}
	switch {
	case s.Fail > 0:
		return p.State(render.Error, "✗ doctor"+mode+": "+plural(s.Fail, "check failed", "checks failed")) + fmt.Sprintf(" (%s; %s)", counts, where)
	case s.Warn > 0:
		return p.State(render.Warn, "! doctor"+mode+": no check failed, "+plural(s.Warn, "warning", "warnings")) + fmt.Sprintf(" (%s; %s)", counts, where)
	}
	return p.State(render.OK, "✓ doctor"+mode+": all checks passed") + fmt.Sprintf(" (%s; %s)", counts, where)
}
