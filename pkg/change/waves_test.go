package change

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
)

// span is when a fake change ran.
type span struct {
	ctx        string
	start, end time.Time
}

// fakeRun is a run whose releases take d each (slow ones 3d) and fail when named in fail.
type fakeRun struct {
	mu    sync.Mutex
	spans []span
	max   int
	now   int
}

func newTestRun(w Waves, contexts ...string) (*run, []*Change) {
	var changes []*Change
	for i, c := range contexts {
		role := fleet.RoleWorkspace
		if i == 0 {
			role = fleet.RoleControlPlane
		}
		changes = append(changes, &Change{Context: c, Role: role, Release: "r", Result: Result{Outcome: OutcomeNotStarted}})
	}
	cfg := Config{Verb: VerbUpgrade, Name: "kubectl skoala", Waves: w}
	x := &run{d: Deps{}.withDefaults(), cfg: cfg, all: changes, todo: changes, out: &Outcome{}, inflight: map[*Change]bool{}, id: "run-1"}
	x.waves = Schedule(changes, w)
	return x, changes
}

func (f *fakeRun) fn(x *run, d time.Duration, fail, slow map[string]bool) func(context.Context, *Change) bool {
	return func(ctx context.Context, c *Change) bool {
		f.mu.Lock()
		f.now++
		f.max = max(f.max, f.now)
		i := len(f.spans)
		f.spans = append(f.spans, span{ctx: c.Context, start: time.Now()})
		f.mu.Unlock()
		wait := d
		if slow[c.Context] {
			wait = 3 * d
		}
		time.Sleep(wait)
		f.mu.Lock()
		f.now--
		f.spans[i].end = time.Now()
		f.mu.Unlock()
		if fail[c.Context] {
			return x.fail(c, OutcomeRolledBack, "the rollout failed", "")
		}
		x.result(c, func(r *Result) { r.Outcome = OutcomeUpgraded })
		return true
	}
}

func (f *fakeRun) span(ctx string) (span, bool) {
	for _, s := range f.spans {
		if s.ctx == ctx {
			return s, true
		}
	}
	return span{}, false
}

func outcomes(changes []*Change) string {
	var out []string
	for _, c := range changes {
		out = append(out, c.Context+"="+c.Result.Outcome)
	}
	return strings.Join(out, " ")
}

// The control plane first and alone, then the canary alone, then the rest --max-parallel at a time.
func TestWavesOrderAndOverlap(t *testing.T) {
	x, changes := newTestRun(Waves{Canary: "ws1", MaxParallel: 2}, "global", "ws1", "ws2", "ws3", "ws4")
	var f fakeRun
	x.runFn = f.fn(x, 30*time.Millisecond, nil, nil)
	var waves []string
	x.d.Observe = func(e Event) {
		if e.Type == EventWave {
			waves = append(waves, fmt.Sprintf("%d:%d", e.Wave, e.Releases))
		}
	}
	if err := x.runWaves(context.Background()); err != nil || x.out.Outcome != "" {
		t.Fatalf("%v %+v", err, x.out)
	}
	if got := strings.Join(waves, ","); got != "0:1,1:1,2:3" {
		t.Errorf("waves %s", got)
	}
	cp, _ := f.span("global")
	canary, _ := f.span("ws1")
	ws2, _ := f.span("ws2")
	ws3, _ := f.span("ws3")
	if !canary.start.After(cp.end) || !ws2.start.After(canary.end) || !ws3.start.After(canary.end) {
		t.Errorf("the canary or the rest started before the wave before ended: %+v", f.spans)
	}
	if !(ws2.start.Before(ws3.end) && ws3.start.Before(ws2.end)) {
		t.Errorf("workspaces 2 and 3 did not overlap: %+v", f.spans)
	}
	if f.max != 2 {
		t.Errorf("%d releases at once, want at most (and at least) 2", f.max)
	}
	if got := outcomes(changes); got != "global=upgraded ws1=upgraded ws2=upgraded ws3=upgraded ws4=upgraded" {
		t.Errorf("outcomes %s", got)
	}
}

// --max-failures 0: the first failed release stops every later one; the one in flight finishes.
func TestWavesFailureBudget(t *testing.T) {
	x, changes := newTestRun(Waves{MaxParallel: 2}, "global", "ws1", "ws2", "ws3", "ws4")
	var f fakeRun
	x.runFn = f.fn(x, 20*time.Millisecond, map[string]bool{"ws1": true}, map[string]bool{"ws2": true})
	if err := x.runWaves(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := outcomes(changes); got != "global=upgraded ws1=rolled-back ws2=upgraded ws3=not-started ws4=not-started" {
		t.Errorf("outcomes %s", got)
	}
	if x.out.Outcome != OutcomeRolledBack || !strings.HasPrefix(x.out.Message, "ws1/r: ") || x.out.Failures != 1 {
		t.Errorf("run %+v", x.out)
	}

	// --max-failures 1 tolerates one.
	x, changes = newTestRun(Waves{MaxParallel: 1, MaxFailures: 1}, "global", "ws1", "ws2", "ws3")
	x.runFn = (&fakeRun{}).fn(x, time.Millisecond, map[string]bool{"ws1": true}, nil)
	_ = x.runWaves(context.Background())
	if got := outcomes(changes); got != "global=upgraded ws1=rolled-back ws2=upgraded ws3=upgraded" || x.out.Outcome != OutcomeRolledBack {
		t.Errorf("outcomes %s, run %+v", got, x.out)
	}

	// A failed canary stops the run whatever the budget; so does the control plane.
	for _, failing := range []string{"ws1", "global"} {
		x, changes = newTestRun(Waves{Canary: "ws1", MaxParallel: 3, MaxFailures: 5}, "global", "ws1", "ws2", "ws3")
		x.runFn = (&fakeRun{}).fn(x, time.Millisecond, map[string]bool{failing: true}, nil)
		_ = x.runWaves(context.Background())
		for _, c := range changes[2:] {
			if c.Result.Outcome != OutcomeNotStarted {
				t.Errorf("%s failed, yet %s: %s", failing, c.Context, outcomes(changes))
			}
		}
	}
}

// --pause-after-canary ends the run after the canary, paused, and says how to continue.
func TestWavesPauseAfterCanary(t *testing.T) {
	x, changes := newTestRun(Waves{Canary: "ws2", PauseAfterCanary: true, MaxParallel: 2}, "global", "ws1", "ws2", "ws3")
	x.runFn = (&fakeRun{}).fn(x, time.Millisecond, nil, nil)
	var pause string
	x.d.Observe = func(e Event) {
		if e.Type == EventPause {
			pause = e.Message
		}
	}
	if err := x.runWaves(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := outcomes(changes); got != "global=upgraded ws1=not-started ws2=upgraded ws3=not-started" {
		t.Errorf("outcomes %s", got)
	}
	if x.out.Outcome != OutcomePaused || !strings.Contains(pause, "kubectl skoala upgrade --resume run-1") {
		t.Errorf("run %+v, pause %q", x.out, pause)
	}
}

// A rollback runs the waves in reverse: the workspaces (in parallel), then the control plane.
func TestWavesReverse(t *testing.T) {
	x, _ := newTestRun(Waves{MaxParallel: 2, Reverse: true}, "global", "ws1", "ws2")
	var f fakeRun
	x.runFn = f.fn(x, 20*time.Millisecond, nil, nil)
	if err := x.runWaves(context.Background()); err != nil {
		t.Fatal(err)
	}
	cp, _ := f.span("global")
	ws1, _ := f.span("ws1")
	ws2, _ := f.span("ws2")
	if !cp.start.After(ws1.end) || !cp.start.After(ws2.end) || f.max != 2 {
		t.Errorf("the control plane did not come last, or the workspaces not in parallel: %+v", f.spans)
	}
}

// An interruption between releases starts no other release and is the run's outcome.
func TestWavesInterrupted(t *testing.T) {
	x, changes := newTestRun(Waves{MaxParallel: 1}, "global", "ws1", "ws2")
	ctx, cancel := context.WithCancel(context.Background())
	inner := (&fakeRun{}).fn(x, time.Millisecond, nil, nil)
	x.runFn = func(c context.Context, ch *Change) bool {
		ok := inner(c, ch)
		if ch.Context == "ws1" {
			cancel()
		}
		return ok
	}
	if err := x.runWaves(ctx); err == nil {
		t.Fatal("no error")
	}
	if changes[2].Result.Outcome != OutcomeNotStarted || x.out.Outcome != OutcomeInterrupted {
		t.Errorf("outcomes %s, run %+v", outcomes(changes), x.out)
	}
}
