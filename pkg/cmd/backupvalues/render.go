package backupvalues

import (
	"fmt"
	"io"
	"strings"

	"github.com/skoala-dev/kubectl-skoala/pkg/backup"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
)

// tableOf writes the files written, or with list (--list) the files found, as a table.
func tableOf(list bool) func(io.Writer, *render.Palette, *backup.Report) error {
	return func(w io.Writer, p *render.Palette, r *backup.Report) error { return writeTable(w, p, r, list) }
}

func writeTable(w io.Writer, p *render.Palette, r *backup.Report, list bool) error {
	var b strings.Builder
	if list {
		if len(r.Entries) == 0 {
			fmt.Fprintf(&b, "no backups in %s\n", r.Dir)
		} else {
			rows := make([][]render.Cell, 0, len(r.Entries))
			for _, e := range r.Entries {
				if e.Error != "" {
					rows = append(rows, []render.Cell{render.C("-"), render.C("-"), render.C("-"), render.C("-"), render.C("-"), render.C("-"), render.L(render.Error, "unreadable"), render.C(e.Path)})
					continue
				}
				rows = append(rows, []render.Cell{
					render.C(e.Time.UTC().Format("2006-01-02 15:04:05Z")),
					render.C(e.Cluster),
					render.C(e.Release),
					render.C(fmt.Sprint(e.Revision)),
					render.C(e.Chart + "-" + e.Version),
					render.C(kindWord(e.Meta)),
					render.L(modeLevel(e), e.ModeString),
					render.C(e.Path),
				})
			}
			b.WriteString(p.Table([]string{"time", "cluster", "release", "revision", "chart", "kind", "mode", "file"}, rows))
		}
	} else {
		rows := [][]render.Cell{}
		for _, rb := range r.Backups {
			for _, f := range rb.Files {
				m := rb.Meta
				m.Kind, m.Redacted = f.Kind, f.Redacted
				rows = append(rows, []render.Cell{
					render.C(rb.Cluster), render.C(rb.Release), render.C(fmt.Sprint(rb.Revision)),
					render.C(rb.Chart + "-" + rb.Version), render.C(kindWord(m)), render.C(f.Path),
				})
			}
		}
		if len(rows) > 0 {
			b.WriteString(p.Table([]string{"cluster", "release", "revision", "chart", "kind", "file"}, rows))
		} else {
			b.WriteString("no backup written\n")
		}
	}
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "%s %s\n", p.State(render.Error, "error:"), e)
	}
	for _, wmsg := range r.Warnings {
		fmt.Fprintf(&b, "%s %s\n", p.State(render.Warn, "warning:"), wmsg)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func kindWord(m backup.Meta) string {
	k := m.Kind
	if k == "" {
		k = backup.KindValues
	}
	if m.Redacted {
		k += " (redacted)"
	}
	return k
}

func modeLevel(e backup.Entry) render.Level {
	if e.Mode&0o077 != 0 && !e.Redacted {
		return render.Warn
	}
	return render.None
}
