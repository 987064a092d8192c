package change

import (
	"context"
	"fmt"
	"sync"

	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
)

// Schedule gives every change its wave and returns the waves of the active changes in the order they run.
// Wave 0 is the control plane, alone (the guide requires it first); wave 1 the canary (Waves.Canary)
// when there is one; the next wave every other workspace, which run Waves.MaxParallel at a time. With
// Waves.Reverse (a rollback) the workspaces run first and the control plane last. Within a wave the
// changes keep the planner's order.
func Schedule(changes []*Change, w Waves) [][]*Change {
	var cp, canary, rest []*Change
	for _, c := range changes {
		switch {
		case c.Role == fleet.RoleControlPlane:
			c.Wave = 0
			cp = appendActive(cp, c)
		case w.Canary != "" && c.Context == w.Canary && !w.Reverse:
			c.Wave = 1
			canary = appendActive(canary, c)
		default:
			c.Wave = 1
			if w.Canary != "" && !w.Reverse {
				c.Wave = 2
			}
			rest = appendActive(rest, c)
		}
	}
	order := [][]*Change{cp, canary, rest}
	if w.Reverse {
		order = [][]*Change{rest, cp}
	}
	var out [][]*Change
	for _, wave := range order {
		if len(wave) > 0 {
			out = append(out, wave)
		}
	}
	return out
}

func appendActive(list []*Change, c *Change) []*Change {
	if c.Passive {
		return list
	}
	return append(list, c)
}

// isCanary reports whether c is the canary's release.
func (x *run) isCanary(c *Change) bool {
	return x.cfg.Waves.Canary != "" && !x.cfg.Waves.Reverse && c.Context == x.cfg.Waves.Canary
}

func (x *run) stopped() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.stop
}

// runWaves runs the waves in order: a wave starts once the one before ended without stopping the run.
func (x *run) runWaves(ctx context.Context) error {
	for i, wave := range x.waves {
		if x.stopped() {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return x.interrupted(err)
		}
		x.emit(Event{Type: EventWave, Wave: wave[0].Wave, Releases: len(wave)})
		par := 1
		if wave[0].Role != fleet.RoleControlPlane && !x.isCanary(wave[0]) {
			par = max(x.cfg.Waves.MaxParallel, 1)
		}
		x.runWave(ctx, wave, par)
		if err := ctx.Err(); err != nil {
			return x.interrupted(err)
		}
		if x.cfg.Waves.PauseAfterCanary && x.isCanary(wave[0]) && i < len(x.waves)-1 && !x.stopped() {
			x.pause()
			return nil
		}
	}
	return nil
}

// runWave runs the changes of one wave, par at a time; once the run stops, no other change starts (the
// ones in flight finish, each atomic).
func (x *run) runWave(ctx context.Context, wave []*Change, par int) {
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for _, c := range wave {
		sem <- struct{}{}
		if x.stopped() || ctx.Err() != nil {
			<-sem
			break
		}
		wg.Add(1)
		go func(c *Change) {
			defer wg.Done()
			defer func() { <-sem }()
			x.runOne(ctx, c)
		}(c)
	}
	wg.Wait()
}

// interrupted records an interruption between releases.
func (x *run) interrupted(err error) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.out.Outcome == "" {
		x.out.Outcome, x.out.Message = OutcomeInterrupted, "interrupted: "+err.Error()
	}
	return err
}

// pause ends the run after the canary.
func (x *run) pause() {
	id := x.id
	msg := fmt.Sprintf("paused after the canary %s: continue with '%s upgrade --resume %s'", x.cfg.Waves.Canary, x.cfg.Name, id)
	x.mu.Lock()
	x.out.Outcome, x.out.Message = OutcomePaused, msg
	x.out.Hint = fmt.Sprintf("check the canary ('%s status --workspace-context %s'), then run '%s upgrade --resume %s'", x.cfg.Name, x.cfg.Waves.Canary, x.cfg.Name, id)
	x.mu.Unlock()
	x.emit(Event{Type: EventPause, Message: msg})
}

// runOne runs one change, from its first step to its result, and records it in the journal.
func (x *run) runOne(ctx context.Context, c *Change) {
	start := x.d.Now()
	x.mu.Lock()
	x.inflight[c] = true
	x.mu.Unlock()
	x.emit(Event{Type: EventReleaseStart, Context: c.Context, Release: c.Release})
	x.jr.update(x)
	rctx, cancel := context.WithCancel(ctx)
	if c.lock != nil {
		rctx, cancel = c.lock.Bind(ctx) // issue 12 §1: a lost lock cancels the release
	}
	ok := x.runFn(rctx, c)
	cancel()
	if ok && ctx.Err() != nil {
		x.fail(c, OutcomeInterrupted, "interrupted: "+ctx.Err().Error(), "")
	}
	x.mu.Lock()
	delete(x.inflight, c)
	c.Result.Duration = x.elapsed(start)
	res := c.Result
	x.mu.Unlock()
	to := res.Revision
	if to == 0 { // no helm operation ran: the release is at the revision it was
		to = c.FromRevision
		if c.Expect != nil {
			to = c.Expect.Revision
		}
	}
	x.emit(Event{Type: EventReleaseDone, Context: c.Context, Release: c.Release, Outcome: res.Outcome, FromRevision: c.FromRevision,
		ToRevision: to, ToVersion: res.ToVersion, Error: res.Error})
	x.jr.update(x)
}
