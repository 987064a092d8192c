package versions

import (
	"fmt"
	"io"
	"strings"

	"github.com/skoala-dev/kubectl-skoala/pkg/catalog"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
)

// writeTable writes a table per chart, as 'helm search repo --versions' does, with the installed versions
// marked.
func writeTable(w io.Writer, p *render.Palette, r *catalog.Report) error {
	var b strings.Builder
	if r.Repository != nil {
		fmt.Fprintf(&b, "repository: %s (%s)\n\n", r.Repository.Name, r.Repository.URL)
	}
	for i, c := range r.Charts {
		if i > 0 {
			b.WriteString("\n")
		}
		rows := make([][]render.Cell, 0, len(c.Versions))
		for _, ver := range c.Versions {
			note := ""
			lvl := render.None
			switch {
			case len(ver.InstalledOn) > 0:
				note = "installed: " + strings.Join(ver.InstalledOn, ", ")
				lvl = render.OK
			case ver.Latest:
				note = "latest"
			case ver.Prerelease:
				note = "pre-release"
				lvl = render.Unknown
			}
			if ver.Latest && len(ver.InstalledOn) > 0 {
				note = "latest, " + note
			}
			rows = append(rows, []render.Cell{
				render.C(c.Chart), render.C(ver.Version), render.C(ver.AppVersion),
				render.C(ver.Created.Format("2006-01-02")), render.L(lvl, note),
			})
		}
		b.WriteString(p.Table([]string{"chart", "version", "app version", "created", ""}, rows))
		if len(c.Versions) == 0 {
			fmt.Fprintf(&b, "no versions of %s in the index\n", c.Chart)
		}
	}
	for _, wm := range r.Warnings {
		fmt.Fprintf(&b, "%s %s\n", p.State(render.Warn, "warning:"), wm)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
