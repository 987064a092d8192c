package bundle

import (
	"fmt"
	"io"
	"strings"

	"github.com/skoala-dev/kubectl-skoala/pkg/bundle"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
)

// writeTable writes where the archive is, one row per cluster, and every part it lacks or cut.
func writeTable(w io.Writer, p *render.Palette, s *bundle.Summary) error {
	var b strings.Builder
	fmt.Fprintf(&b, "bundle: %s (%s, %d files, bound %s)\n\n", s.File, humanBytes(s.Bytes), s.Files, humanBytes(s.MaxSize))
	var rows [][]render.Cell
	for _, c := range s.Clusters {
		state := render.L(render.OK, "complete")
		switch {
		case !c.Reachable:
			state = render.L(render.Error, "unreachable")
		case c.Gaps > 0:
			state = render.L(render.Warn, fmt.Sprintf("%d gaps", c.Gaps))
		}
		rows = append(rows, []render.Cell{render.C(c.Context), render.C(strings.ReplaceAll(c.Role, "-", " ")), render.C(c.Dir + "/"),
			render.C(fmt.Sprint(c.Files)), render.C(humanBytes(c.Bytes)), state})
	}
	b.WriteString(p.Table([]string{"cluster", "role", "folder", "files", "size", "state"}, rows))
	var gaps, absent []bundle.Skip
	for _, sk := range s.Skipped {
		if bundle.IsGap(sk.Reason) {
			gaps = append(gaps, sk)
		} else {
			absent = append(absent, sk)
		}
	}
	if len(gaps) > 0 {
		b.WriteString("\n" + p.State(render.Warn, "not collected:") + "\n")
		for _, sk := range gaps {
			if sk.Detail == "" || strings.Contains(sk.Detail, sk.Reason) {
				fmt.Fprintf(&b, "  %s: %s\n", where(sk), strings.TrimSpace(sk.Detail+" "+map[bool]string{true: sk.Reason}[sk.Detail == ""]))
			} else {
				fmt.Fprintf(&b, "  %s: %s (%s)\n", where(sk), sk.Reason, sk.Detail)
			}
		}
	}
	if len(absent) > 0 {
		fmt.Fprintf(&b, "\nnot present (not a gap): %s\n", parts(absent))
	}
	if len(s.Cut) > 0 {
		fmt.Fprintf(&b, "\ncut to fit %s:\n", humanBytes(s.MaxSize))
		for _, c := range s.Cut {
			if c.KeptBytes == 0 {
				fmt.Fprintf(&b, "  %s: left out (%s)\n", c.Path, humanBytes(c.Bytes))
			} else {
				fmt.Fprintf(&b, "  %s: %s of %s kept (the newest lines)\n", c.Path, humanBytes(c.KeptBytes), humanBytes(c.Bytes))
			}
		}
	}
	b.WriteString("\n")
	if s.Gaps > 0 {
		fmt.Fprintf(&b, "%s, %d gaps: see manifest.json in the archive\n", clusters(len(s.Clusters)), s.Gaps)
	} else {
		fmt.Fprintf(&b, "%s, complete\n", clusters(len(s.Clusters)))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func parts(ss []bundle.Skip) string {
	var names []string
	for _, s := range ss {
		names = append(names, where(s))
	}
	return strings.Join(names, ", ")
}

func where(s bundle.Skip) string {
	if s.Cluster == "" {
		return s.Part
	}
	return s.Cluster + " " + s.Part
}

func clusters(n int) string {
	if n == 1 {
		return "1 cluster"
	}
	return fmt.Sprintf("%d clusters", n)
}

// humanBytes prints a size in B, KiB or MiB.
func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// progressLine is the live line on a terminal.
func progressLine(p bundle.Progress) string {
	return fmt.Sprintf("bundle: %d/%d clusters, %d files, %s", p.ClustersDone, p.Clusters, p.Files, humanBytes(p.Bytes))
}
