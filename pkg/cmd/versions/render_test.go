package versions

import (
	"bytes"
	"testing"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/catalog"
	"github.com/skoala-dev/kubectl-skoala/pkg/golden"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
)

// TestGolden renders a report with every note of the table: installed (and latest), latest, pre-release,
// a chart with no version, a warning.
func TestGolden(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 11, d, 8, 0, 0, 0, time.UTC) }
	rep := &catalog.Report{Schema: catalog.SchemaVersion, Repository: &helmsdk.RepoStatus{Name: "skoala", URL: "https://release.daocloud.io/chartrepo/skoala"},
		Charts: []catalog.Chart{
			{Chart: "skoala", Versions: []catalog.Version{
				{Version: "0.58.0-rc.1", AppVersion: "v0.58.0-rc.1", Created: day(20), Prerelease: true},
				{Version: "0.57.2", AppVersion: "v0.57.2", Created: day(12), Latest: true, InstalledOn: []string{"global"}},
				{Version: "0.57.1", AppVersion: "v0.57.1", Created: day(2)},
			}},
			{Chart: "skoala-init", Versions: []catalog.Version{
				{Version: "0.57.2", AppVersion: "v0.57.2", Created: day(12), Latest: true},
				{Version: "0.57.1", AppVersion: "v0.57.1", Created: day(2), InstalledOn: []string{"workspace-1", "workspace-2"}},
			}},
			{Chart: "skoala-extra", Versions: []catalog.Version{}},
		},
		Warnings: []string{"the index is 9 days old (run with --refresh)"},
	}
	for f, ext := range map[render.Format]string{render.Table: "txt", render.JSON: "json", render.YAML: "yaml"} {
		var b bytes.Buffer
		if err := render.Write(&b, f, render.View(rep, writeTable), render.NewPalette(&b, false)); err != nil {
			t.Fatal(err)
		}
		golden.Assert(t, "versions."+ext, b.Bytes())
	}
}
