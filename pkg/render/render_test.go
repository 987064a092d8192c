package render

import (
	"bytes"
	"io"
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

func TestWrapMeasuresDisplayWidth(t *testing.T) {
	for _, c := range []struct {
		name  string
		text  string
		width int
		want  []string
	}{
		{"splits at spaces", "aaa bbb ccc", 7, []string{"aaa bbb", "ccc"}},
		{"keeps a long word whole", "abcdefghij k", 4, []string{"abcdefghij", "k"}},
		{"counts a wide character as two columns", "数据库 ab", 7, []string{"数据库", "ab"}},
		{"counts no column for an escape sequence", "\x1b[31mred\x1b[0m ab", 6, []string{"\x1b[31mred\x1b[0m ab"}},
		{"returns one empty line for no words", "  ", 5, []string{""}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Wrap(c.text, c.width)
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Fatalf("Wrap(%q, %d) = %q, want %q", c.text, c.width, got, c.want)
			}
		})
	}
}

type fakeReport struct{}

func (fakeReport) WriteTable(w io.Writer, p *Palette) error {
	_, err := io.WriteString(w, p.State(OK, "table")+"\n")
	return err
}
func (fakeReport) WriteJSON(w io.Writer) error { return WriteJSON(w, map[string]string{"f": "json"}) }
func (fakeReport) WriteYAML(w io.Writer) error { return WriteYAML(w, map[string]string{"f": "yaml"}) }

func TestWriteDispatchesOnTheFormat(t *testing.T) {
	for f, want := range map[Format]string{Table: "table\n", JSON: "{\n  \"f\": \"json\"\n}\n", YAML: "f: yaml\n"} {
		var b bytes.Buffer
		if err := Write(&b, f, fakeReport{}, nil); err != nil {
			t.Fatal(err)
		}
		if b.String() != want {
			t.Errorf("Write(%s) = %q, want %q", f, b.String(), want)
		}
	}
}

func TestViewWritesTheReportAsJSONAndYAMLAndItsTableByItsFunction(t *testing.T) {
	type report struct {
		Name string `json:"name"`
	}
	table := func(w io.Writer, p *Palette, r *report) error {
		_, err := io.WriteString(w, "NAME\n"+r.Name+"\n")
		return err
	}
	v := View(&report{Name: "skoala"}, table)
	for f, want := range map[Format]string{Table: "NAME\nskoala\n", JSON: "{\n  \"name\": \"skoala\"\n}\n", YAML: "name: skoala\n"} {
		var b bytes.Buffer
		if err := Write(&b, f, v, nil); err != nil {
			t.Fatal(err)
		}
		if b.String() != want {
			t.Errorf("Write(%s) = %q, want %q", f, b.String(), want)
		}
	}
}
