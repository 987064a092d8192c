package images

import (
	"fmt"
	"io"
	"strings"

	"github.com/skoala-dev/kubectl-skoala/pkg/images"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
)

func pushLevel(result string) render.Level {
	switch result {
	case images.ResultPushed, images.ResultPresent:
		return render.OK
	case images.ResultConflict:
		return render.Warn
	}
	return render.Error
}

// writePushTable writes one row per image, the messages of those not pushed, and a summary line.
func writePushTable(w io.Writer, p *render.Palette, r *images.PushReport) error {
	var b strings.Builder
	rows := make([][]render.Cell, 0, len(r.Images))
	for _, im := range r.Images {
		rows = append(rows, []render.Cell{render.C(im.Source), render.C(im.Target), render.C(strings.Join(im.Platforms, ",")),
			render.C(shortDigest(im.Digest)), render.L(pushLevel(im.Result), im.Result)})
	}
	b.WriteString(p.Table([]string{"source", "target", "platforms", "digest", "result"}, rows))
	for _, im := range r.Images {
		if im.Message != "" {
			fmt.Fprintf(&b, "%s %s: %s\n", p.State(pushLevel(im.Result), im.Result), im.Target, im.Message)
		}
	}
	fmt.Fprintf(&b, "\n%d image(s) into %s: %d pushed, %d already present, %d conflict(s), %d failed\n",
		len(r.Images), r.Registry, r.Pushed, r.Present, r.Conflict, r.Failed)
	_, err := io.WriteString(w, b.String())
	return err
}

func shortDigest(d string) string {
	if i := strings.IndexByte(d, ':'); i >= 0 && len(d) > i+13 {
		return d[:i+13]
	}
	return d
}

func checkLevel(result string) render.Level {
	switch result {
	case images.CheckPresent:
		return render.OK
	}
	return render.Error
}

// WriteCheckTable writes one row per image, then each missing one with the command that pushes it: the
// table of 'images check' and of the refusal of 'upgrade --bundle' when the registry lacks an image.
func WriteCheckTable(w io.Writer, p *render.Palette, r *images.CheckReport) error {
	var b strings.Builder
	rows := make([][]render.Cell, 0, len(r.Images))
	for _, im := range r.Images {
		rows = append(rows, []render.Cell{render.C(im.Image), render.C(im.Chart + " " + im.Version),
			render.C(render.OrDash(strings.Join(im.Platforms, ","))), render.L(checkLevel(im.Result), im.Result)})
	}
	b.WriteString(p.Table([]string{"image", "chart", "platforms", "result"}, rows))
	fmt.Fprintf(&b, "\nnode architectures: %s\n", render.OrDash(strings.Join(r.Architectures, ", ")))
	if r.OK() {
		fmt.Fprintf(&b, "%s every one of the %d image(s) is in the registry\n", p.State(render.OK, "ok"), len(r.Images))
	} else {
		for _, im := range r.Images {
			if im.Result != images.CheckPresent {
				fmt.Fprintf(&b, "%s %s: %s\n", p.State(render.Error, im.Result), im.Image, im.Message)
			}
		}
		fmt.Fprintf(&b, "%d of %d image(s) missing, %d could not be checked\n", r.Missing, len(r.Images), r.Failed)
		for _, f := range r.Fixes {
			fmt.Fprintf(&b, "fix: %s\n", f)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeListTable writes per release the chart and each image with the workloads using it.
func writeListTable(w io.Writer, p *render.Palette, r *images.ListReport) error {
	var b strings.Builder
	for i, rel := range r.Releases {
		if i > 0 {
			b.WriteString("\n")
		}
		from := ""
		if rel.Installed != "" {
			from = " (installed " + rel.Installed + ")"
		}
		fmt.Fprintf(&b, "%s %s %s%s\n", p.Bold(rel.Context+"/"+rel.Release), rel.Chart, rel.Version, from)
		rows := make([][]render.Cell, 0, len(rel.Workloads))
		for _, wl := range rel.Workloads {
			rows = append(rows, []render.Cell{render.C(wl.Image), render.C(strings.ToLower(wl.Kind) + "/" + wl.Name), render.C(wl.Container)})
		}
		b.WriteString(p.Table([]string{"image", "workload", "container"}, rows))
	}
	fmt.Fprintf(&b, "\n%d distinct image(s)", len(r.Images))
	if r.Registry != "" {
		fmt.Fprintf(&b, " with global.imageRegistry=%s", r.Registry)
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}
