package helmops

import (
	"strings"
	"testing"
	"time"
)

func TestDecidePending(t *testing.T) {
	lock := func(rev int, timeout time.Duration, atomic bool) *Recorded {
		return &Recorded{Holder: "kubectl-skoala/op@laptop/pid-7/ab", Duration: time.Minute, Revision: rev, Timeout: timeout, Atomic: atomic}
	}
	now := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	cases := []struct {
		name    string
		in      PendingInput
		refused string // a part of the refusal ("" = it may be acted on)
		why     string // a part of Why ("" = none)
		wait    time.Duration
	}{
		{"no lock: someone else's helm", PendingInput{Revision: 5, Status: "pending-upgrade"}, "no kubectl-skoala upgrade left it", "", 0},
		{"no lock, a live helm started 2m ago: refused, naming when it started", PendingInput{Revision: 5, Status: "pending-upgrade", Started: now.Add(-2 * time.Minute), Now: now},
			"revision 5 is pending-upgrade since 2026-12-06T04:58:00Z (2m0s ago) and no kubectl-skoala upgrade left it", "", 0},
		{"no lock, --force", PendingInput{Revision: 5, Status: "pending-upgrade", Started: now.Add(-2 * time.Minute), Now: now, Force: true}, "", "--force: revision 5", 0},
		{"no lock, older than any wait (1m + 2 x 5m)", PendingInput{Revision: 5, Status: "pending-upgrade", Started: now.Add(-11 * time.Minute), Now: now}, "", "longer than any helm wait", 0},
		{"no lock, within a longer --timeout of this run", PendingInput{Revision: 5, Status: "pending-upgrade", Started: now.Add(-11 * time.Minute), Now: now, Timeout: 10 * time.Minute},
			"a helm operation may still be running", "", 0},
		{"no lock, start unknown: never judged old", PendingInput{Revision: 5, Status: "pending-upgrade", Now: now}, "no kubectl-skoala upgrade left it", "", 0},
		{"the holder started no helm operation", PendingInput{Revision: 5, Status: "pending-upgrade", Lock: lock(0, time.Minute, true)}, "had not started a helm operation", "", 0},
		{"a helm rollback --wait started after the crash", PendingInput{Revision: 6, Status: "pending-rollback", Lock: lock(5, time.Minute, true)},
			"revision 6 is pending-rollback (a helm rollback), newer than revision 5", "", 0},
		{"the same, once the lock is stale", PendingInput{Revision: 6, Status: "pending-rollback", Lock: lock(5, time.Minute, true), Observed: true, Quiet: time.Hour},
			"a helm rollback", "", 0},
		{"older than what the lock recorded", PendingInput{Revision: 4, Status: "pending-upgrade", Lock: lock(5, time.Minute, true)}, "recorded revision 5", "", 0},
		{"planning: the recorded revision, staleness judged later", PendingInput{Revision: 5, Status: "pending-upgrade", Lock: lock(5, time.Minute, true)}, "", "", 0},
		{"the holder is proven a gone process of this machine", PendingInput{Revision: 5, Status: "pending-upgrade", Lock: lock(5, 10*time.Minute, true), Observed: true, Gone: true}, "", "", 0},
		{"watched less than a lease duration", PendingInput{Revision: 5, Status: "pending-upgrade", Lock: lock(5, time.Minute, true), Observed: true, Quiet: 30 * time.Second}, "may still hold the lock", "", 0},
		{"helm's wait and atomic rollback could still run", PendingInput{Revision: 5, Status: "pending-upgrade", Lock: lock(5, 5*time.Minute, true), Observed: true, Quiet: 90 * time.Second},
			"", "", time.Minute + 10*time.Minute - 90*time.Second},
		{"no --atomic: only helm's wait", PendingInput{Revision: 5, Status: "pending-upgrade", Lock: lock(5, 5*time.Minute, false), Observed: true, Quiet: 90 * time.Second},
			"", "", time.Minute + 5*time.Minute - 90*time.Second},
		{"helm's wait is over", PendingInput{Revision: 5, Status: "pending-upgrade", Lock: lock(5, 20*time.Second, true), Observed: true, Quiet: 2 * time.Minute}, "", "", 0},
		{"an older lock without a timeout: 5m atomic assumed", PendingInput{Revision: 5, Status: "pending-upgrade", Lock: lock(5, 0, false), Observed: true, Quiet: 2 * time.Minute},
			"", "", time.Minute + 10*time.Minute - 2*time.Minute},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := DecidePending(c.in)
			if (c.refused == "") != (got.Refused == "") || !strings.Contains(got.Refused, c.refused) {
				t.Errorf("refused %q, want %q", got.Refused, c.refused)
			}
			if (c.why == "") != (got.Why == "") || !strings.Contains(got.Why, c.why) {
				t.Errorf("why %q, want %q", got.Why, c.why)
			}
			if got.Wait != c.wait {
				t.Errorf("wait %s, want %s", got.Wait, c.wait)
			}
		})
	}
}
