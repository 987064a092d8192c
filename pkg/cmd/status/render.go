package status

import (
	"fmt"
	"io"
	"strings"

	"github.com/skoala-dev/kubectl-skoala/pkg/inspect"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
	"github.com/skoala-dev/kubectl-skoala/pkg/status"
)

// writeTable writes one block per cluster: the release line, the versions line, the skew line for a
// workspace, and a table of components. Every state is a word; colour only repeats it.
func writeTable(w io.Writer, p *render.Palette, r *status.Report) error {
	var b strings.Builder
	if r.Repository != nil {
		if r.Repository.Error != "" {
			fmt.Fprintf(&b, "%s %s\n", p.State(render.Warn, "repository:"), r.Repository.Error)
		} else {
			fmt.Fprintf(&b, "repository: %s (%s), index of %s\n", r.Repository.Name, r.Repository.URL, r.Repository.IndexTime.Format("2006-01-02 15:04 UTC"))
		}
		b.WriteString("\n")
	}
	if j := r.Journal; j != nil && (j.LastRun != nil || j.Error != "") {
		if j.Error != "" {
			fmt.Fprintf(&b, "%s %s\n", p.State(render.Warn, "journal:"), j.Error)
		} else {
			fmt.Fprintf(&b, "last run: %s\n", j.LastRun.Summary())
		}
		if h := j.HalfUpgraded; h != nil {
			fmt.Fprintf(&b, "%s %s at %s, %s not: finish it with '%s', or undo it with '%s'\n",
				p.State(render.Error, "half-upgraded:"), strings.Join(h.At, ", "), h.Target, strings.Join(h.Behind, ", "), h.Upgrade, h.Rollback)
		}
		b.WriteString("\n")
	}
	for i, c := range r.Clusters {
		if i > 0 {
			b.WriteString("\n")
		}
		writeCluster(&b, p, c)
	}
	b.WriteString("\n")
	b.WriteString(summary(r, p))
	for _, wmsg := range r.Warnings {
		fmt.Fprintf(&b, "%s %s\n", p.State(render.Warn, "warning:"), wmsg)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func roleWords(role string) string { return strings.ReplaceAll(role, "-", " ") }

func writeCluster(b *strings.Builder, p *render.Palette, c status.Cluster) {
	role := roleWords(c.Role)
	if c.Registered != "" && c.Registered != c.Context {
		role += ", kpanda cluster " + c.Registered
	}
	fmt.Fprintf(b, "%s %s\n", p.Bold(c.Context), p.Faint("("+role+")"))
	if !c.Reachable {
		fmt.Fprintf(b, "  %s %s\n", p.State(render.Error, "unreachable:"), c.Error)
		if c.Hint != "" {
			fmt.Fprintf(b, "  hint: %s\n", c.Hint)
		}
		return
	}
	for _, rel := range c.Releases {
		writeRelease(b, p, c, rel)
	}
}

func statusLevel(s string) render.Level {
	switch {
	case s == "deployed":
		return render.OK
	case strings.HasPrefix(s, "pending"), s == "uninstalling", s == "superseded":
		return render.Warn
	case s == status.StatusUnknown, s == status.StatusNoInit:
		return render.Unknown
	}
	return render.Error
}

func skewLevel(s string) render.Level {
	switch s {
	case "ok":
		return render.OK
	case "warning":
		return render.Warn
	case "error":
		return render.Error
	}
	return render.Unknown
}

func writeRelease(b *strings.Builder, p *render.Palette, c status.Cluster, r status.Release) {
	if !r.Installed {
		fmt.Fprintf(b, "  release   %s %s\n", r.Name, p.State(statusLevel(r.Status), r.Status))
		if r.Error != "" {
			fmt.Fprintf(b, "  %s %s\n", p.State(render.Error, "error:"), r.Error)
		}
		if r.Hint != "" {
			fmt.Fprintf(b, "  hint: %s\n", r.Hint)
		}
		return
	}
	fmt.Fprintf(b, "  release   %s %s (app %s), revision %d, %s, %s\n", r.Name, r.Version, r.AppVersion, r.Revision,
		p.State(statusLevel(r.Status), r.Status), r.LastDeployed.Format("2006-01-02 15:04 UTC"))
	switch {
	case r.Latest == "":
		fmt.Fprintf(b, "  versions  %s\n", p.State(render.Unknown, "unknown (no repository index)"))
	case r.UpgradeAvailable:
		fmt.Fprintf(b, "  versions  latest %s, latest patch %s: %s\n", r.Latest, render.OrDash(r.LatestPatch), p.State(render.Warn, "upgrade available"))
	default:
		fmt.Fprintf(b, "  versions  latest %s, latest patch %s: %s\n", r.Latest, render.OrDash(r.LatestPatch), p.State(render.OK, "up to date"))
	}
	if c.Role == "workspace" {
		with := r.SkewWith
		if with == "" {
			with = "unknown"
		}
		fmt.Fprintf(b, "  skew      %s (control plane %s)\n", p.State(skewLevel(r.Skew), skewWord(r.Skew)), with)
	}
	if r.HelmApp != "" {
		fmt.Fprintf(b, "  kpanda    %s\n", p.State(render.Warn, fmt.Sprintf("also managed by HelmApp %s (DCE's UI may run helm on it)", r.HelmApp)))
	}
	if r.Error != "" {
		fmt.Fprintf(b, "  %s %s\n", p.State(render.Error, "error:"), r.Error)
	}
	if r.Hint != "" {
		fmt.Fprintf(b, "  hint: %s\n", r.Hint)
	}
	if len(r.Components) == 0 {
		return
	}
	rows := make([][]render.Cell, 0, len(r.Components))
	var problems []string
	for _, comp := range r.Components {
		rows = append(rows, []render.Cell{
			render.C(comp.Name),
			render.C(comp.Kind),
			render.L(readyLevel(comp), fmt.Sprintf("%d/%d", comp.Ready, comp.Desired)),
			render.L(containersLevel(comp), containers(comp)),
			render.L(restartLevel(comp.Restarts), fmt.Sprint(comp.Restarts)),
			render.C(render.OrDash(comp.Tag)),
			render.L(tagLevel(comp.TagMatch), comp.TagMatch),
			render.L(stateLevel(comp.State), comp.State),
		})
		for _, pr := range comp.Problems {
			problems = append(problems, comp.Name+": "+pr)
		}
	}
	table := p.Table([]string{"component", "kind", "pods", "ready", "restarts", "tag", "chart", "state"}, rows)
	for _, line := range strings.Split(strings.TrimRight(table, "\n"), "\n") {
		b.WriteString("  " + line + "\n")
	}
	for _, pr := range problems {
		lines := render.Wrap(pr, 88)
		fmt.Fprintf(b, "  %s %s\n", p.State(render.Error, "problem:"), lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(b, "           %s\n", l)
		}
	}
}

func skewWord(s string) string {
	switch s {
	case "ok":
		return "ok: same version"
	case "warning":
		return "warning: patch differs"
	case "error":
		return "error: minor differs, upgrade both together"
	}
	return "unknown"
}

func containers(c inspect.Component) string {
	if c.Containers == 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d", c.ContainersReady, c.Containers)
}

func readyLevel(c inspect.Component) render.Level {
	if !c.Found {
		return render.Error
	}
	if c.Ready >= c.Desired {
		return render.OK
	}
	return render.Warn
}

func containersLevel(c inspect.Component) render.Level {
	if c.Containers == 0 {
		return render.None
	}
	if c.ContainersReady == c.Containers {
		return render.OK
	}
	return render.Warn
}

func restartLevel(n int) render.Level {
	if n == 0 {
		return render.None
	}
	return render.Warn
}

func tagLevel(s string) render.Level {
	switch s {
	case "match":
		return render.OK
	case "differs":
		return render.Warn
	}
	return render.Unknown
}

func stateLevel(s string) render.Level {
	switch s {
	case inspect.StateReady, inspect.StateCompleted:
		return render.OK
	case inspect.StateProgressing:
		return render.Warn
	}
	return render.Error
}

func summary(r *status.Report, p *render.Palette) string {
	n := len(r.Clusters)
	unreachable, bad := 0, 0
	for _, c := range r.Clusters {
		if !c.Reachable {
			unreachable++
			continue
		}
		for _, rel := range c.Releases {
			if rel.Problem() {
				bad++
			}
		}
	}
	word := "clusters"
	if n == 1 {
		word = "cluster"
	}
	if r.Problems == 0 {
		return fmt.Sprintf("%d %s, %s\n", n, word, p.State(render.OK, "no problems"))
	}
	var parts []string
	if unreachable > 0 {
		parts = append(parts, fmt.Sprintf("%d unreachable", unreachable))
	}
	if bad > 0 {
		parts = append(parts, fmt.Sprintf("%d release(s) missing, failed or pending", bad))
	}
	half := 0
	if r.Journal != nil && r.Journal.HalfUpgraded != nil {
		half = 1
		parts = append(parts, "the fleet is half-upgraded")
	}
	if extra := r.Problems - unreachable - bad - half; extra > 0 {
		parts = append(parts, fmt.Sprintf("%d upgrade(s) available", extra))
	}
	return fmt.Sprintf("%d %s, %s: %s\n", n, word, p.State(render.Error, fmt.Sprintf("%d problem(s)", r.Problems)), strings.Join(parts, ", "))
}
