package apply

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/spf13/cobra"

	"github.com/skoala-dev/kubectl-skoala/pkg/change"
	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
	"github.com/skoala-dev/kubectl-skoala/pkg/events"
	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
)

// OutputJSONL is -o jsonl: the event stream on stdout, and nothing else there.
const OutputJSONL = "jsonl"

// WaveFlags are the flags of a run in waves and of its event stream.
type WaveFlags struct {
	MaxParallel int
	MaxFailures int
	// Events is --events FILE ("-": stdout, with -o jsonl).
	Events string
}

// NewWaveFlags returns the defaults: one release at a time, the first failure stops the run.
func NewWaveFlags() WaveFlags { return WaveFlags{MaxParallel: 1} }

// AddWaveFlags registers --max-parallel, --max-failures and --events.
func AddWaveFlags(cmd *cobra.Command, f *WaveFlags) {
	fs := cmd.Flags()
	fs.IntVar(&f.MaxParallel, "max-parallel", f.MaxParallel, "How many workspace releases change at once (the control plane and the canary always alone)")
	fs.IntVar(&f.MaxFailures, "max-failures", f.MaxFailures, "How many failed workspace releases the run tolerates before no other release starts (releases in flight finish)")
	fs.StringVar(&f.Events, "events", f.Events, "Write the run's events as JSON lines (schema skoala.events/v1) to this file (- for stdout, with -o jsonl)")
	if o := fs.Lookup("output"); o != nil {
		o.Usage += ", or jsonl (the event stream on stdout, nothing else there)"
	}
}

// ValidateWaves checks the wave flags and -o jsonl; output is -o. It returns whether -o jsonl was given
// (then -o's format for the rest is json, and the stream goes to stdout unless --events names a file).
func ValidateWaves(f *WaveFlags, output *string) (bool, error) {
	jsonl := *output == OutputJSONL
	switch {
	case f.MaxParallel < 1:
		return false, exit.Usagef("--max-parallel must be at least 1")
	case f.MaxFailures < 0:
		return false, exit.Usagef("--max-failures must not be negative")
	case f.Events == "-" && !jsonl:
		return false, exit.Usagef("--events - writes the stream on stdout: give -o jsonl with it (or --events FILE)")
	}
	if jsonl {
		*output = "json"
		if f.Events == "" {
			f.Events = "-"
		}
	}
	return jsonl, nil
}

// Sink is where a run's events go: the progress on stderr (a live view on a terminal) and the event
// stream of --events.
type Sink struct {
	progress change.Observer
	stream   *events.Writer
	file     *os.File
}

// OpenSink opens the sink of a run of verb: the stream goes to --events (stdout for -), the progress to
// stderr (the live view when stderr is a terminal).
func OpenSink(g *cli.Globals, verb string, f WaveFlags) (*Sink, error) {
	s := &Sink{progress: Progress(g.Streams.ErrOut)}
	var w io.Writer
	switch f.Events {
	case "":
		return s, nil
	case "-":
		w = g.Streams.Out
	default:
		file, err := os.OpenFile(f.Events, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return nil, exit.Usagef("--events: %v", err)
		}
		s.file, w = file, file
	}
	s.stream = events.New(w, verb)
	return s, nil
}

// Observe sends e to the progress and the stream.
func (s *Sink) Observe(e change.Event) {
	s.progress(e)
	if s.stream != nil {
		s.stream.Observe(e)
	}
}

// Close writes the stream's last event (the run's outcome and the exit code of err) and closes its file.
func (s *Sink) Close(outcome string, err error) error {
	if s.stream == nil {
		return nil
	}
	s.stream.Done(outcome, exit.CodeOf(err))
	werr := s.stream.Err()
	if s.file != nil {
		if cerr := s.file.Close(); werr == nil {
			werr = cerr
		}
	}
	if werr != nil {
		return fmt.Errorf("--events: %w", werr)
	}
	return nil
}

// Progress renders the progress events of a run on w: without a terminal one line per step, on a
// terminal the live view (one line per release in flight).
func Progress(w io.Writer) change.Observer {
	if render.IsTerminal(w) { // an *os.File, or the redacting writer over one (as Main gives every verb)
		return newLiveView(w).observe
	}
	var mu sync.Mutex
	return func(e change.Event) {
		line := e.ProgressLine()
		if line == "" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(w, line)
	}
}
