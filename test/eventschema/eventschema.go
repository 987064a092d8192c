// Package eventschema checks an event stream of upgrade and rollback (--events FILE) against
// docs/events-v1.schema.json with a JSON Schema 2020-12 validator, and checks what a schema cannot say
// about a stream: seq counts 1, 2, 3, ... without a gap, one verb and one run id throughout, and the last
// event is the only `done`. The e2e tests read every stream they produce through it.
package eventschema

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// SchemaFile is the schema's path inside the repository.
const SchemaFile = "docs/events-v1.schema.json"

// Event is one event as the tests read it (every field of the schema; absent ones are zero).
type Event struct {
	Schema       string   `json:"schema"`
	Seq          int      `json:"seq"`
	Time         string   `json:"time"`
	Verb         string   `json:"verb"`
	Run          string   `json:"run"`
	Type         string   `json:"type"`
	Context      string   `json:"context"`
	Release      string   `json:"release"`
	Namespace    string   `json:"namespace"`
	Chart        string   `json:"chart"`
	FromVersion  string   `json:"from_version"`
	ToVersion    string   `json:"to_version"`
	FromRevision int      `json:"from_revision"`
	ToRevision   int      `json:"to_revision"`
	Wave         *int     `json:"wave"`
	Releases     int      `json:"releases"`
	Path         string   `json:"path"`
	Names        []string `json:"names"`
	Action       string   `json:"action"`
	Kind         string   `json:"kind"`
	Name         string   `json:"name"`
	Ready        int      `json:"ready"`
	Total        int      `json:"total"`
	ElapsedMS    int      `json:"elapsed_ms"`
	OK           *bool    `json:"ok"`
	Message      string   `json:"message"`
	Outcome      string   `json:"outcome"`
	Error        string   `json:"error"`
	ExitCode     *int     `json:"exit_code"`
}

// Validator validates events against the compiled schema.
type Validator struct{ schema *jsonschema.Schema }

// Load compiles the schema file at path (draft 2020-12, formats asserted).
func Load(path string) (*Validator, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	s, err := c.Compile(abs)
	if err != nil {
		return nil, fmt.Errorf("compiling %s: %w", path, err)
	}
	return &Validator{schema: s}, nil
}

// Event validates one line and decodes it.
func (v *Validator) Event(line []byte) (Event, error) {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
	if err != nil {
		return Event{}, fmt.Errorf("not JSON: %w", err)
	}
	if err := v.schema.Validate(inst); err != nil {
		return Event{}, err
	}
	var e Event
	if err := json.Unmarshal(line, &e); err != nil {
		return Event{}, err
	}
	return e, nil
}

// Stream validates every line of r and the stream's own rules; it returns the events it read up to the
// first error.
func (v *Validator) Stream(r io.Reader) ([]Event, error) {
	out, err := v.Lines(r)
	if err != nil {
		return out, err
	}
	if last := out[len(out)-1]; last.Type != "done" {
		return out, fmt.Errorf("the last event is %q, want done", last.Type)
	}
	return out, nil
}

// Lines is Stream for a run that was killed: every rule but the last event being done.
func (v *Validator) Lines(r io.Reader) ([]Event, error) {
	var out []Event
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for n := 1; sc.Scan(); n++ {
		e, err := v.Event(sc.Bytes())
		if err != nil {
			return out, fmt.Errorf("line %d: %w\n%s", n, err, sc.Text())
		}
		if e.Seq != n {
			return out, fmt.Errorf("line %d: seq %d, want %d (no gaps, from 1)", n, e.Seq, n)
		}
		if len(out) > 0 {
			first := out[0]
			if e.Verb != first.Verb {
				return out, fmt.Errorf("line %d: verb %q, the stream began with %q", n, e.Verb, first.Verb)
			}
			if e.Run != "" && first.Run != "" && e.Run != first.Run {
				return out, fmt.Errorf("line %d: run %q, the stream began with %q", n, e.Run, first.Run)
			}
			if out[len(out)-1].Type == "done" {
				return out, fmt.Errorf("line %d: an event after done", n)
			}
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return out, err
	}
	if len(out) == 0 {
		return out, fmt.Errorf("the stream is empty")
	}
	return out, nil
}
