// Package render holds what every verb's output shares: the -o formats, the colour decision, the state
// palette (words carry the state, colour only repeats it) and kubectl-like tables built with lipgloss.
package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/lipgloss/table"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
	"golang.org/x/term"

	"github.com/skoala-dev/kubectl-skoala/pkg/encode"
)

// Format is an output format of a reporting verb.
type Format string

// The output formats.
const (
	Table Format = "table"
	JSON  Format = "json"
	YAML  Format = "yaml"
)

// Formats lists the accepted -o values, for help and completion.
var Formats = []string{string(Table), string(JSON), string(YAML)}

// ParseFormat validates an -o value.
func ParseFormat(s string) (Format, error) {
	switch Format(strings.ToLower(s)) {
	case "", Table, "wide":
		return Table, nil
	case JSON:
		return JSON, nil
	case YAML, "yml":
		return YAML, nil
	}
	return "", fmt.Errorf("unknown output format %q (want one of: %s)", s, strings.Join(Formats, ", "))
}

// Writer is what every verb's report implements, so that one function writes any report in any format
// (as Helm's output.Writer). WriteTable styles through the palette; JSON and YAML never carry styling.
type Writer interface {
	WriteTable(w io.Writer, p *Palette) error
	WriteJSON(w io.Writer) error
	WriteYAML(w io.Writer) error
}

// View is the Writer of a report whose JSON and YAML are the report itself and whose table table writes: a
// verb's view is its table function (in its command package), the rest is shared.
func View[T any](report T, table func(w io.Writer, p *Palette, report T) error) Writer {
	return view[T]{report, table}
}

type view[T any] struct {
	report T
	table  func(io.Writer, *Palette, T) error
}

func (v view[T]) WriteTable(w io.Writer, p *Palette) error { return v.table(w, p, v.report) }
func (v view[T]) WriteJSON(w io.Writer) error              { return WriteJSON(w, v.report) }
func (v view[T]) WriteYAML(w io.Writer) error              { return WriteYAML(w, v.report) }

// Write writes r to w in format f. The palette styles the table; nil means no colour.
func Write(w io.Writer, f Format, r Writer, p *Palette) error {
	switch f {
	case JSON:
		return r.WriteJSON(w)
	case YAML:
		return r.WriteYAML(w)
	}
	if p == nil {
		p = NewPalette(w, false)
	}
	return r.WriteTable(w, p)
}

// WriteJSON writes v as indented JSON (encode.JSON: the same bytes a domain package stores).
func WriteJSON(w io.Writer, v any) error { return encode.JSON(w, v) }

// WriteYAML writes v as YAML (encode.YAML), with the JSON field names.
func WriteYAML(w io.Writer, v any) error { return encode.YAML(w, v) }

// ColorModes lists the accepted --color values.
var ColorModes = []string{"auto", "always", "never"}

// UseColor decides whether to colour: "always", "never", or "auto" = only on a terminal, and never when
// NO_COLOR is set (https://no-color.org) or TERM is dumb.
func UseColor(mode string, isTTY bool, noColorEnv bool, term string) (bool, error) {
	switch strings.ToLower(mode) {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "", "auto":
		return isTTY && !noColorEnv && term != "dumb", nil
	}
	return false, fmt.Errorf("unknown --color value %q (want one of: %s)", mode, strings.Join(ColorModes, ", "))
}

// IsTerminal reports whether w is a terminal (not merely a character device such as /dev/null).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr }) // an *os.File, or the redacting writer over one
	return ok && term.IsTerminal(int(f.Fd()))
}

// Level is the state a cell or a line shows.
type Level int

// The levels, each with its colour: green ok, yellow warning, red error, grey unknown.
const (
	None Level = iota
	OK
	Warn
	Error
	Unknown
)

// Palette styles text for one destination.
type Palette struct {
	r     *lipgloss.Renderer
	color bool
}

// NewPalette returns a palette writing to w, with colour or without.
func NewPalette(w io.Writer, color bool) *Palette {
	r := lipgloss.NewRenderer(w)
	if color {
		r.SetColorProfile(termenv.ANSI256)
	} else {
		r.SetColorProfile(termenv.Ascii)
	}
	return &Palette{r: r, color: color}
}

// Color reports whether the palette colours.
func (p *Palette) Color() bool { return p.color }

func (p *Palette) style(l Level) lipgloss.Style {
	s := p.r.NewStyle()
	switch l {
	case OK:
		return s.Foreground(lipgloss.Color("2"))
	case Warn:
		return s.Foreground(lipgloss.Color("3"))
	case Error:
		return s.Foreground(lipgloss.Color("1")).Bold(true)
	case Unknown:
		return s.Foreground(lipgloss.Color("8"))
	}
	return s
}

// State renders text in the level's colour.
func (p *Palette) State(l Level, text string) string {
	if !p.color || l == None {
		return text
	}
	return p.style(l).Render(text)
}

// Bold renders text bold.
func (p *Palette) Bold(text string) string {
	if !p.color {
		return text
	}
	return p.r.NewStyle().Bold(true).Render(text)
}

// Faint renders text grey.
func (p *Palette) Faint(text string) string {
	if !p.color {
		return text
	}
	return p.r.NewStyle().Foreground(lipgloss.Color("8")).Render(text)
}

// Cell is a table cell and the state it shows.
type Cell struct {
	Text  string
	Level Level
}

// C makes a plain cell.
func C(text string) Cell { return Cell{Text: text} }

// L makes a cell with a level.
func L(l Level, text string) Cell { return Cell{Text: text, Level: l} }

// Table renders a kubectl-like table: upper-case headers, a rule under them, columns two spaces apart, no
// other borders, each cell in its level's colour.
func (p *Palette) Table(headers []string, rows [][]Cell) string {
	strRows := make([][]string, len(rows))
	for i, r := range rows {
		strRows[i] = make([]string, len(r))
		for j, c := range r {
			strRows[i][j] = c.Text
		}
	}
	hs := make([]string, len(headers))
	for i, h := range headers {
		hs[i] = strings.ToUpper(h)
	}
	t := table.New().
		Border(lipgloss.NormalBorder()).
		BorderTop(false).BorderBottom(false).BorderLeft(false).BorderRight(false).
		BorderColumn(false).BorderRow(false).BorderHeader(false).
		Headers(hs...).
		Rows(strRows...).
		StyleFunc(func(row, col int) lipgloss.Style {
			s := p.r.NewStyle().PaddingRight(2)
			if col == len(headers)-1 {
				s = s.PaddingRight(0)
			}
			if row == table.HeaderRow {
				if p.color {
					s = s.Bold(true)
				}
				return s
			}
			if row >= 0 && row < len(rows) && col < len(rows[row]) {
				if l := rows[row][col].Level; l != None && p.color {
					return p.style(l).PaddingRight(s.GetPaddingRight())
				}
			}
			return s
		})
	lines := strings.Split(t.Render(), "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " ")
	}
	return strings.Join(lines, "\n") + "\n"
}

// OrDash is s, or "-" when s is empty: a table cell or a word with nothing to show.
func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Wrap splits text into lines of at most width columns, at spaces. Width is display width (ansi.StringWidth:
// wide characters take two columns, escape sequences none), not bytes or runes.
func Wrap(text string, width int) []string {
	words := strings.Fields(text)
	if len(words) == 0 {
		return []string{""}
	}
	var lines []string
	cur := words[0]
	for _, w := range words[1:] {
		if ansi.StringWidth(cur)+1+ansi.StringWidth(w) > width {
			lines = append(lines, cur)
			cur = w
			continue
		}
		cur += " " + w
	}
	return append(lines, cur)
}
