package apply

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/change"
)

func TestProgress(t *testing.T) {
	var b bytes.Buffer
	p := Progress(&b)
	p(change.Event{Type: change.EventProgress, Context: "ws", Release: "skoala-init", Message: "verified"})
	p(change.Event{Type: change.EventWait, Context: "ws", Release: "skoala-init", Elapsed: 4e9, Kind: "Deployment", Name: "hive", Line: "hive 1/1 Ready v0.57.2"})
	p(change.Event{Type: change.EventLog, Context: "ws", Release: "skoala-init", Message: "backed up ws/skoala-init revision 1 to /b/x.yaml"})
	p(change.Event{Type: change.EventWave, Wave: 1, Releases: 2}) // not a line
	p(change.Event{Type: change.EventReleaseDone, Context: "ws", Release: "skoala-init", Outcome: "upgraded"})
	want := "ws/skoala-init: verified\n  [  4s] ws/skoala-init: hive 1/1 Ready v0.57.2\nbacked up ws/skoala-init revision 1 to /b/x.yaml\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
}

// The live view: one line per release in flight (phase, ready pods, elapsed), redrawn in place; a
// finished release collapses into one line.
func TestLiveView(t *testing.T) {
	var b bytes.Buffer
	v := newLiveView(&b)
	t0 := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	now := t0
	v.now = func() time.Time { return now }
	v.observe(change.Event{Type: change.EventReleaseStart, Context: "workspace-2", Release: "skoala-init"})
	v.observe(change.Event{Type: change.EventReleaseStart, Context: "workspace-3", Release: "skoala-init"})
	now = t0.Add(7 * time.Second)
	v.observe(change.Event{Type: change.EventWait, Context: "workspace-2", Release: "skoala-init", Name: "hive", Ready: 1, Total: 2})
	screen := b.String()
	if !strings.Contains(screen, "workspace-2/skoala-init") || !strings.Contains(screen, "rolling out") || !strings.Contains(screen, "1/2 pods ready") || !strings.Contains(screen, "7s") {
		t.Fatalf("live lines:\n%q", screen)
	}
	b.Reset()
	v.observe(change.Event{Type: change.EventReleaseDone, Context: "workspace-2", Release: "skoala-init", Outcome: "upgraded"})
	out := b.String()
	// two live lines erased, the collapsed line, the one release still in flight
	if strings.Count(out, "\x1b[1A\x1b[2K") != 2 || !strings.Contains(out, "workspace-2/skoala-init: upgraded (7s)\n") ||
		strings.Count(out, "skoala-init") != 2 || v.drawn != 1 {
		t.Fatalf("after done:\n%q", out)
	}
}

func TestValidateWaves(t *testing.T) {
	cases := []struct {
		name   string
		f      WaveFlags
		output string
		err    string
		jsonl  bool
	}{
		{"defaults", NewWaveFlags(), "table", "", false},
		{"max-parallel 0", WaveFlags{MaxParallel: 0}, "table", "--max-parallel must be at least 1", false},
		{"max-failures -1", WaveFlags{MaxParallel: 1, MaxFailures: -1}, "table", "--max-failures must not be negative", false},
		{"--events - without -o jsonl", WaveFlags{MaxParallel: 1, Events: "-"}, "table", "give -o jsonl", false},
		{"-o jsonl", WaveFlags{MaxParallel: 1}, "jsonl", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := c.output
			jsonl, err := ValidateWaves(&c.f, &out)
			if (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) || jsonl != c.jsonl {
				t.Fatalf("err %v jsonl %v", err, jsonl)
			}
			if c.jsonl && (out != "json" || c.f.Events != "-") {
				t.Errorf("-o jsonl: output %q events %q", out, c.f.Events)
			}
		})
	}
}
