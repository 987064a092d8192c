package render

import (
	"bytes"
	"strings"
	"testing"
)

func TestUseColor(t *testing.T) {
	for _, c := range []struct {
		mode    string
		tty, nc bool
		term    string
		want    bool
		wantErr bool
	}{
		{"auto", true, false, "xterm", true, false},
		{"auto", false, false, "xterm", false, false},
		{"auto", true, true, "xterm", false, false},
		{"auto", true, false, "dumb", false, false},
		{"always", false, true, "dumb", true, false},
		{"never", true, false, "xterm", false, false},
		{"sometimes", true, false, "xterm", false, true},
	} {
		got, err := UseColor(c.mode, c.tty, c.nc, c.term)
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("UseColor(%q, tty=%v, NO_COLOR=%v, %q) = %v, %v", c.mode, c.tty, c.nc, c.term, got, err)
		}
	}
}

func TestTableWithoutColorHasNoEscapes(t *testing.T) {
	p := NewPalette(&bytes.Buffer{}, false)
	out := p.Table([]string{"name", "state"}, [][]Cell{{C("hive"), L(OK, "ready")}, {C("sesame"), L(Error, "crashloop")}})
	if strings.Contains(out, "\x1b[") {
		t.Fatalf("escape codes without colour:\n%q", out)
	}
	want := "NAME    STATE\nhive    ready\nsesame  crashloop\n"
	if out != want {
		t.Fatalf("got\n%q\nwant\n%q", out, want)
	}
	pc := NewPalette(&bytes.Buffer{}, true)
	if out := pc.Table([]string{"name"}, [][]Cell{{L(Error, "x")}}); !strings.Contains(out, "\x1b[") {
		t.Fatalf("no escape codes with colour: %q", out)
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"": Table, "table": Table, "JSON": JSON, "yaml": YAML} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("xml accepted")
	}
}
