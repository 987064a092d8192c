package doctor

import (
	"bytes"
	"strings"
	"testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/doctor"
	"github.com/skoala-dev/kubectl-skoala/pkg/golden"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
)

// goldenReport is the report pkg/doctor's TestGolden gathers from a fake fleet (one failure of each kind:
// ok, warn, fail, skip) and pins in testdata: doctor.json, and in doctor-table.json what the table shows
// beyond the JSON (the folded skips and their names).
func goldenReport(t *testing.T) *doctor.Report {
	var rep doctor.Report
	golden.ReadModel(t, "doctor.json", &rep)
	var extra []struct {
		Cascade     bool   `json:"cascade"`
		Description string `json:"description"`
	}
	golden.ReadModel(t, "doctor-table.json", &extra)
	if len(extra) != len(rep.Checks) {
		t.Fatalf("doctor-table.json has %d checks, doctor.json %d (go test -update ./pkg/doctor)", len(extra), len(rep.Checks))
	}
	for i := range rep.Checks {
		rep.Checks[i].Cascade, rep.Checks[i].Description = extra[i].Cascade, extra[i].Description
	}
	return &rep
}

func TestGolden(t *testing.T) {
	v := render.View(goldenReport(t), writeTable)
	var plain, color, js, ym bytes.Buffer
	if err := v.WriteTable(&plain, render.NewPalette(&plain, false)); err != nil {
		t.Fatal(err)
	}
	if err := v.WriteTable(&color, render.NewPalette(&color, true)); err != nil {
		t.Fatal(err)
	}
	if err := v.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if err := v.WriteYAML(&ym); err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(plain.String(), "\n") {
		if n := len([]rune(line)); n > Width {
			t.Errorf("line %d is %d columns wide (max %d): %q", i+1, n, Width, line)
		}
	}
	if strings.Contains(plain.String(), "\x1b[") || strings.Contains(js.String(), "\x1b[") || strings.Contains(ym.String(), "\x1b[") {
		t.Error("colour escape codes outside the colour table")
	}
	if !strings.Contains(color.String(), "\x1b[") {
		t.Error("no colour in the colour table")
	}
	golden.Assert(t, "doctor.txt", plain.Bytes())
	golden.Assert(t, "doctor-color.txt", color.Bytes())
	golden.Assert(t, "doctor.json", js.Bytes())
	golden.Assert(t, "doctor.yaml", ym.Bytes())
}
