package verify

import (
	"fmt"
	"io"
	"strings"

	"github.com/skoala-dev/kubectl-skoala/pkg/render"
	"github.com/skoala-dev/kubectl-skoala/pkg/verify"
)

// hiddenValue is what the table shows for a Secret value: never the value, never its digest.
const hiddenValue = "(hidden)"

// writeTable writes one block per cluster: the release line, then a table of drifted fields (object,
// JSON pointer, chart value, live value), the missing and unmanaged objects, the CRDs and images that
// differ (those that match in one line each), the release record's size, the provenance and what was
// skipped. Every state is a word.
func writeTable(w io.Writer, p *render.Palette, r *verify.Report) error {
	var b strings.Builder
	for i, c := range r.Clusters {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s %s\n", p.Bold(c.Context), p.Faint("("+strings.ReplaceAll(c.Role, "-", " ")+")"))
		if !c.Reachable {
			fmt.Fprintf(&b, "  %s %s\n", p.State(render.Error, "unreachable:"), c.Error)
			if c.Hint != "" {
				fmt.Fprintf(&b, "  hint: %s\n", c.Hint)
			}
			continue
		}
		for _, rel := range c.Releases {
			writeRelease(&b, p, rel)
		}
	}
	b.WriteString("\n")
	n := len(r.Clusters)
	switch r.Differences {
	case 0:
		fmt.Fprintf(&b, "%d %s, %s\n", n, plural(n, "cluster"), p.State(render.OK, "no differences"))
	default:
		fmt.Fprintf(&b, "%d %s, %s\n", n, plural(n, "cluster"), p.State(render.Error, fmt.Sprintf("%d %s", r.Differences, plural(r.Differences, "difference"))))
	}
	for _, wmsg := range r.Warnings {
		fmt.Fprintf(&b, "%s %s\n", p.State(render.Warn, "warning:"), wmsg)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func writeRelease(b *strings.Builder, p *render.Palette, rel verify.Release) {
	if !rel.Installed || rel.Error != "" && rel.Chart == "" {
		fmt.Fprintf(b, "  release %s: %s %s\n", rel.Name, p.State(render.Error, "error:"), rel.Error)
		if rel.Hint != "" {
			fmt.Fprintf(b, "  hint: %s\n", rel.Hint)
		}
		writeSkipped(b, p, rel)
		return
	}
	state := p.State(render.OK, "matches the release")
	if d := rel.Differences(); d > 0 {
		state = p.State(render.Error, fmt.Sprintf("%d %s", d, plural(d, "difference")))
	}
	fmt.Fprintf(b, "  release %s: %s %s, revision %d, %d %s compared: %s\n", rel.Name, rel.Chart, rel.Version, rel.Revision, rel.Objects, plural(rel.Objects, "object"), state)
	if rel.Error != "" {
		fmt.Fprintf(b, "  %s %s\n", p.State(render.Error, "error:"), rel.Error)
	}
	if len(rel.Drift) > 0 {
		var rows [][]render.Cell
		for _, d := range rel.Drift {
			for _, f := range d.Fields {
				chart, live := f.Chart, f.Live
				if f.Hidden {
					chart = hiddenValue
					if live != verify.Absent {
						live = hiddenValue + ", digests differ"
					}
				}
				rows = append(rows, []render.Cell{render.C(d.String()), render.C(f.Path), render.C(chart), render.L(render.Error, live)})
			}
		}
		b.WriteString(indent(p.Table([]string{"object", "path", "chart", "live"}, rows)))
	}
	for _, m := range rel.Missing {
		fmt.Fprintf(b, "  %s %s (in the manifest, not in the cluster)\n", p.State(render.Error, "missing:"), m)
	}
	for _, m := range rel.NotInManifest {
		fmt.Fprintf(b, "  %s %s (owned by the release, not in its manifest)\n", p.State(render.Error, "not in manifest:"), m)
	}
	if len(rel.CRDs) > 0 {
		var rows [][]render.Cell
		same := 0
		for _, c := range rel.CRDs {
			if c.State == verify.CRDSame {
				same++
				continue
			}
			detail := c.Detail
			for _, f := range c.Fields {
				detail += fmt.Sprintf("; %s: %s -> %s", f.Path, f.Chart, f.Live)
			}
			rows = append(rows, []render.Cell{render.C(c.File), render.C(c.Name), render.L(render.Error, c.State), render.C(detail)})
		}
		if same > 0 {
			fmt.Fprintf(b, "  crds: %s\n", p.State(render.OK, fmt.Sprintf("%d of %d match the chart's files", same, len(rel.CRDs))))
		}
		if len(rows) > 0 {
			b.WriteString(indent(p.Table([]string{"crd file", "crd", "state", "detail"}, rows)))
		}
	}
	if s := rel.Size; s != nil {
		l, note := render.OK, ""
		if s.Warning {
			l, note = render.Warn, fmt.Sprintf(" (warning: %d%% or more; the next upgrade may not fit)", verify.SizeWarnPercent)
		}
		fmt.Fprintf(b, "  release record: %s, %s of %s: %s%s\n", s.Object, bytesText(s.Bytes), bytesText(s.Limit), p.State(l, fmt.Sprintf("%.1f%%", s.Percent)), note)
	}
	if len(rel.Images) > 0 {
		var rows [][]render.Cell
		same := 0
		for _, im := range rel.Images {
			l := render.Error
			switch im.State {
			case verify.ImageSame:
				same++
				continue
			case verify.ImageUnknownDigest, verify.ImageNotRunning:
				l = render.Unknown
			}
			rows = append(rows, []render.Cell{render.C(im.Workload + "/" + im.Container), render.L(l, im.State), render.C(im.Running), render.C(shortDigest(im.RunningDigest)), render.C(shortDigest(im.RegistryDigest)), render.C(im.Detail)})
		}
		if same > 0 {
			fmt.Fprintf(b, "  images: %s\n", p.State(render.OK, fmt.Sprintf("%d of %d containers run the chart's image", same, len(rel.Images))))
		}
		if len(rows) > 0 {
			b.WriteString(indent(p.Table([]string{"container", "image", "running", "pod digest", "registry digest", "detail"}, rows)))
		}
	}
	if pv := rel.Provenance; pv != nil {
		l := render.OK
		switch pv.State {
		case verify.ProvenanceFailed:
			l = render.Error
		case verify.ProvenanceUnsigned, verify.ProvenanceNotChecked:
			l = render.Unknown
		}
		line := p.State(l, pv.State)
		if pv.SignedBy != "" {
			line += " (signed by " + pv.SignedBy + ")"
		}
		if pv.Detail != "" {
			line += ": " + pv.Detail
		}
		fmt.Fprintf(b, "  provenance: %s\n", line)
	}
	writeSkipped(b, p, rel)
}

func writeSkipped(b *strings.Builder, p *render.Palette, rel verify.Release) {
	for _, s := range rel.Skipped {
		fmt.Fprintf(b, "  %s %s (%s)\n", p.State(render.Warn, "skipped:"), s.What, s.Right)
	}
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = "  " + lines[i]
	}
	return strings.Join(lines, "\n") + "\n"
}

func bytesText(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	}
	return fmt.Sprintf("%d B", n)
}

func shortDigest(d string) string {
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}
