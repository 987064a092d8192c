package apply

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/change"
)

// liveView is the progress on a terminal: the lines of the steps scroll above, and at the bottom one line
// per release in flight (its phase, its ready pods, the time since it began), redrawn in place; a
// release that ends collapses into one line with its outcome.
type liveView struct {
	mu     sync.Mutex
	w      io.Writer
	now    func() time.Time
	flight map[string]*flight
	drawn  int
}

type flight struct {
	name         string
	phase        string
	ready, total map[string][2]int
	start        time.Time
}

func newLiveView(w io.Writer) *liveView {
	return &liveView{w: w, now: time.Now, flight: map[string]*flight{}}
}

func (v *liveView) observe(e change.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	key := e.Context + "/" + e.Release
	switch e.Type {
	case change.EventReleaseStart:
		v.flight[key] = &flight{name: key, phase: "starting", ready: map[string][2]int{}, start: v.now()}
	case change.EventWait:
		if f := v.flight[key]; f != nil {
			f.phase, f.ready[e.Name] = "rolling out", [2]int{e.Ready, e.Total}
		}
		v.redraw("")
		return
	case change.EventHelmStart:
		v.setPhase(key, "helm "+e.Action)
	case change.EventVerify:
		v.setPhase(key, "verified")
	case change.EventReleaseDone:
		f := v.flight[key]
		delete(v.flight, key)
		line := fmt.Sprintf("%s: %s", key, e.Outcome)
		if f != nil {
			line += fmt.Sprintf(" (%s)", v.now().Sub(f.start).Round(time.Second))
		}
		v.redraw(line)
		return
	case change.EventProgress, change.EventJobs, change.EventCRDs:
		v.setPhase(key, phaseOf(e))
	}
	v.redraw(progressOnly(e))
}

func (v *liveView) setPhase(key, phase string) {
	if f := v.flight[key]; f != nil && phase != "" {
		f.phase = phase
	}
}

func phaseOf(e change.Event) string {
	switch e.Type {
	case change.EventJobs:
		return "deleting Jobs"
	case change.EventCRDs:
		return "applying CRDs"
	}
	return ""
}

// progressOnly is the scrolling line of e: the step lines, not the rollout's (the live lines show it).
func progressOnly(e change.Event) string {
	if e.Type == change.EventWait {
		return ""
	}
	return e.ProgressLine()
}

// redraw erases the live lines, prints line (when not ""), then the live lines again.
func (v *liveView) redraw(line string) {
	var b strings.Builder
	for i := 0; i < v.drawn; i++ {
		b.WriteString("\x1b[1A\x1b[2K")
	}
	if line != "" {
		b.WriteString(line + "\n")
	}
	keys := make([]string, 0, len(v.flight))
	for k := range v.flight {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(v.flight[k].line(v.now()) + "\n")
	}
	v.drawn = len(keys)
	fmt.Fprint(v.w, b.String())
}

func (f *flight) line(now time.Time) string {
	ready, total := 0, 0
	for _, rt := range f.ready {
		ready, total = ready+rt[0], total+rt[1]
	}
	pods := "-"
	if total > 0 {
		pods = fmt.Sprintf("%d/%d pods ready", ready, total)
	}
	return fmt.Sprintf("  %-40s %-14s %-18s %s", f.name, f.phase, pods, now.Sub(f.start).Round(time.Second))
}
