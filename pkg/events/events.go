// Package events writes the event stream of 'upgrade' and 'rollback' (--events FILE, -o jsonl): one JSON
// object per line, as it happens, flushed per line, in the versioned schema skoala.events/v1
// (docs/events-v1.schema.json, documented in docs/output.md). It is fed by the change engine's events
// (pkg/change); every message and error is masked again (pkg/redact) before it is written.
package events

import (
	"bufio"
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/change"
	"github.com/skoala-dev/kubectl-skoala/pkg/redact"
)

// Schema is the version of the stream.
const Schema = "skoala.events/v1"

// record is one line of the stream: the fields every event has, then the optional ones of its type.
type record struct {
	Schema       string   `json:"schema"`
	Seq          int      `json:"seq"`
	Time         string   `json:"time"`
	Verb         string   `json:"verb"`
	Run          string   `json:"run"`
	Type         string   `json:"type"`
	Context      string   `json:"context,omitempty"`
	Release      string   `json:"release,omitempty"`
	Namespace    string   `json:"namespace,omitempty"`
	Chart        string   `json:"chart,omitempty"`
	FromVersion  *string  `json:"from_version,omitempty"`
	ToVersion    string   `json:"to_version,omitempty"`
	FromRevision *int     `json:"from_revision,omitempty"`
	ToRevision   *int     `json:"to_revision,omitempty"`
	Wave         *int     `json:"wave,omitempty"`
	Releases     int      `json:"releases,omitempty"`
	Path         string   `json:"path,omitempty"`
	Names        []string `json:"names,omitempty"`
	Action       string   `json:"action,omitempty"`
	Kind         string   `json:"kind,omitempty"`
	Name         string   `json:"name,omitempty"`
	Ready        *int     `json:"ready,omitempty"`
	Total        *int     `json:"total,omitempty"`
	ElapsedMS    *int64   `json:"elapsed_ms,omitempty"`
	OK           *bool    `json:"ok,omitempty"`
	Message      *string  `json:"message,omitempty"`
	Outcome      string   `json:"outcome,omitempty"`
	Error        string   `json:"error,omitempty"`
	ExitCode     *int     `json:"exit_code,omitempty"`
}

// Writer writes the stream. It is safe for events from several goroutines.
type Writer struct {
	mu   sync.Mutex
	out  *bufio.Writer
	seq  int
	verb string
	run  string
	now  func() time.Time
	err  error
}

// New returns a writer of the stream of verb onto w.
func New(w io.Writer, verb string) *Writer {
	return &Writer{out: bufio.NewWriter(w), verb: verb, now: time.Now}
}

// Observe writes e when it is an event of the stream (the progress lines are not).
func (w *Writer) Observe(e change.Event) {
	r, ok := recordOf(e)
	if !ok {
		return
	}
	w.write(r, e.Run)
}

// Done writes the last event of the run: its outcome and exit code.
func (w *Writer) Done(outcome string, exitCode int) {
	w.write(record{Type: change.EventDone, Outcome: outcome, ExitCode: &exitCode}, "")
}

// Err is the first error writing the stream met (nil when none).
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *Writer) write(r record, run string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if run != "" {
		w.run = run
	}
	w.seq++
	r.Schema, r.Seq, r.Verb, r.Run = Schema, w.seq, w.verb, w.run
	r.Time = w.now().UTC().Format("2006-01-02T15:04:05.000000000Z")
	b, err := json.Marshal(r)
	if err == nil {
		_, err = w.out.Write(append(b, '\n'))
	}
	if err == nil {
		err = w.out.Flush()
	}
	if err != nil && w.err == nil {
		w.err = err
	}
}

// recordOf is the line of e (false for the events the stream does not carry).
func recordOf(e change.Event) (record, bool) {
	r := record{Type: e.Type, Context: e.Context, Release: e.Release}
	switch e.Type {
	case change.EventPlan:
		r.Namespace, r.Chart, r.ToVersion, r.Wave = e.Namespace, e.Chart, e.ToVersion, ptr(e.Wave)
		r.FromVersion, r.FromRevision = ptr(e.FromVersion), ptr(e.FromRevision)
	case change.EventWave:
		r.Wave, r.Releases = ptr(e.Wave), e.Releases
	case change.EventLock:
	case change.EventBackup:
		r.Path = e.Path
	case change.EventJobs, change.EventCRDs:
		r.Names = append([]string{}, e.Names...)
	case change.EventHelmStart:
		r.Action = e.Action
		if e.ToRevision > 0 {
			r.ToRevision = ptr(e.ToRevision)
		}
	case change.EventWait:
		r.Kind, r.Name, r.Ready, r.Total, r.ElapsedMS = e.Kind, e.Name, ptr(e.Ready), ptr(e.Total), ptr(e.Elapsed.Milliseconds())
	case change.EventVerify:
		r.OK = ptr(e.OK)
		if e.Message != "" {
			r.Message = ptr(redact.String(e.Message))
		}
	case change.EventRollback:
		r.ToRevision = ptr(e.ToRevision)
	case change.EventReleaseDone:
		r.Outcome, r.FromRevision, r.ToRevision, r.Error = e.Outcome, ptr(e.FromRevision), ptr(e.ToRevision), redact.String(e.Error)
	case change.EventPause:
		r.Message = ptr(redact.String(e.Message))
	default:
		return record{}, false
	}
	if r.Type != change.EventWave && r.Type != change.EventPause && r.Context == "" {
		return record{}, false
	}
	if r.Type == change.EventWave || r.Type == change.EventPause {
		r.Context, r.Release = "", ""
	}
	return r, true
}

func ptr[T any](v T) *T { return &v }
