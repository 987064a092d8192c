package verify

import (
	"bytes"
	"testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/golden"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
	"github.com/skoala-dev/kubectl-skoala/pkg/verify"
)

// TestGolden renders the report pkg/verify's TestGolden gathers from a fake fleet (drift, a CRD that
// differs, a release record near its limit, an unreachable workspace) and pins in testdata/verify.json.
func TestGolden(t *testing.T) {
	var rep verify.Report
	golden.ReadModel(t, "verify.json", &rep)
	var plain, js, ym bytes.Buffer
	if err := render.Write(&plain, render.Table, render.View(&rep, writeTable), render.NewPalette(&plain, false)); err != nil {
		t.Fatal(err)
	}
	if err := render.Write(&js, render.JSON, render.View(&rep, writeTable), nil); err != nil {
		t.Fatal(err)
	}
	if err := render.Write(&ym, render.YAML, render.View(&rep, writeTable), nil); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "verify.txt", plain.Bytes())
	golden.Assert(t, "verify.json", js.Bytes())
	golden.Assert(t, "verify.yaml", ym.Bytes())
}
