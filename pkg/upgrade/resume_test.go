package upgrade

import (
	"strings"
	"testing"
	"time"
)

func TestDecideResume(t *testing.T) {
	lock := func(rev int, timeout time.Duration, atomic bool) *LockInfo {
		return &LockInfo{Holder: "kubectl-skoala/op@laptop/pid-7/ab", Duration: time.Minute, Revision: rev, Timeout: timeout, Atomic: atomic}
	}
	cases := []struct {
		name    string
		in      ResumeInput
		refused string // a part of the refusal ("" = resumable)
		wait    time.Duration
	}{
		{"no lock: someone else's helm", ResumeInput{Revision: 5, Status: "pending-upgrade"}, "no kubectl-skoala upgrade left it", 0},
		{"the holder started no helm operation", ResumeInput{Revision: 5, Status: "pending-upgrade", Lock: lock(0, time.Minute, true)}, "had not started a helm operation", 0},
		{"a helm rollback --wait started after the crash", ResumeInput{Revision: 6, Status: "pending-rollback", Lock: lock(5, time.Minute, true)},
			"revision 6 is pending-rollback (a helm rollback), newer than revision 5", 0},
		{"the same, once the lock is stale", ResumeInput{Revision: 6, Status: "pending-rollback", Lock: lock(5, time.Minute, true), Observed: true, Quiet: time.Hour},
			"a helm rollback", 0},
		{"older than what the lock recorded", ResumeInput{Revision: 4, Status: "pending-upgrade", Lock: lock(5, time.Minute, true)}, "recorded revision 5", 0},
		{"planning: the recorded revision, staleness judged later", ResumeInput{Revision: 5, Status: "pending-upgrade", Lock: lock(5, time.Minute, true)}, "", 0},
		{"the holder was a process of this host that is gone", ResumeInput{Revision: 5, Status: "pending-upgrade", Lock: lock(5, 10*time.Minute, true), Observed: true, Gone: true}, "", 0},
		{"watched less than a lease duration", ResumeInput{Revision: 5, Status: "pending-upgrade", Lock: lock(5, time.Minute, true), Observed: true, Quiet: 30 * time.Second}, "may still hold the lock", 0},
		{"helm's wait and atomic rollback could still run", ResumeInput{Revision: 5, Status: "pending-upgrade", Lock: lock(5, 5*time.Minute, true), Observed: true, Quiet: 90 * time.Second},
			"", time.Minute + 10*time.Minute - 90*time.Second},
		{"no --atomic: only helm's wait", ResumeInput{Revision: 5, Status: "pending-upgrade", Lock: lock(5, 5*time.Minute, false), Observed: true, Quiet: 90 * time.Second},
			"", time.Minute + 5*time.Minute - 90*time.Second},
		{"helm's wait is over", ResumeInput{Revision: 5, Status: "pending-upgrade", Lock: lock(5, 20*time.Second, true), Observed: true, Quiet: 2 * time.Minute}, "", 0},
		{"an older lock without a timeout: 5m atomic assumed", ResumeInput{Revision: 5, Status: "pending-upgrade", Lock: lock(5, 0, false), Observed: true, Quiet: 2 * time.Minute},
			"", time.Minute + 10*time.Minute - 2*time.Minute},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := DecideResume(c.in)
			if (c.refused == "") != (got.Refused == "") || !strings.Contains(got.Refused, c.refused) {
				t.Errorf("refused %q, want %q", got.Refused, c.refused)
			}
			if got.Wait != c.wait {
				t.Errorf("wait %s, want %s", got.Wait, c.wait)
			}
		})
	}
}
