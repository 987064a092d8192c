package status

import (
	"bytes"
	"strings"
	"testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/golden"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
	"github.com/skoala-dev/kubectl-skoala/pkg/status"
)

// The reports are those pkg/status's tests gather from fake fleets and pin in testdata/*.json (the JSON
// view); these tests render every other view of them.

func renderAll(t *testing.T, model string) (plain, color, js, ym bytes.Buffer) {
	t.Helper()
	var rep status.Report
	golden.ReadModel(t, model, &rep)
	v := render.View(&rep, writeTable)
	for _, err := range []error{
		v.WriteTable(&plain, render.NewPalette(&plain, false)),
		v.WriteTable(&color, render.NewPalette(&color, true)),
		v.WriteJSON(&js),
		v.WriteYAML(&ym),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return plain, color, js, ym
}

func TestGolden(t *testing.T) {
	plain, color, js, ym := renderAll(t, "status.json")
	for i, line := range strings.Split(plain.String(), "\n") {
		if len([]rune(line)) > 100 {
			t.Errorf("line %d is %d columns wide (max 100): %q", i+1, len([]rune(line)), line)
		}
	}
	golden.Assert(t, "status.txt", plain.Bytes())
	golden.Assert(t, "status-color.txt", color.Bytes())
	golden.Assert(t, "status.json", js.Bytes())
	golden.Assert(t, "status.yaml", ym.Bytes())
}

func TestGoldenKpanda(t *testing.T) {
	plain, _, js, ym := renderAll(t, "status-kpanda.json")
	golden.Assert(t, "status-kpanda.txt", plain.Bytes())
	golden.Assert(t, "status-kpanda.json", js.Bytes())
	golden.Assert(t, "status-kpanda.yaml", ym.Bytes())
}
