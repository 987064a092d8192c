package change

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"
)

// rvClient is a fake clientset whose Leases behave like the API server's: every write gets a new
// resourceVersion, an Update or a Delete whose precondition names another one is a Conflict. down makes
// every Lease write fail (a network blip).
type rvClient struct {
	*fake.Clientset
	mu   sync.Mutex
	n    int
	down atomic.Bool
}

var leaseGVR = coordinationv1.SchemeGroupVersion.WithResource("leases")

func newRVClient() *rvClient {
	c := &rvClient{Clientset: fake.NewSimpleClientset()}
	tr := c.Tracker()
	conflict := func(name string) error {
		return apierrors.NewConflict(leaseGVR.GroupResource(), name, errors.New("the object has been modified"))
	}
	c.PrependReactor("create", "leases", func(a k8stesting.Action) (bool, runtime.Object, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.down.Load() {
			return true, nil, errors.New("connection refused")
		}
		obj := a.(k8stesting.CreateAction).GetObject().(*coordinationv1.Lease).DeepCopy()
		c.n++
		obj.ResourceVersion = strconv.Itoa(c.n)
		obj.UID = types.UID("uid-" + obj.ResourceVersion)
		if err := tr.Create(leaseGVR, obj, obj.Namespace); err != nil {
			return true, nil, err
		}
		return true, obj, nil
	})
	c.PrependReactor("update", "leases", func(a k8stesting.Action) (bool, runtime.Object, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.down.Load() {
			return true, nil, errors.New("connection refused")
		}
		obj := a.(k8stesting.UpdateAction).GetObject().(*coordinationv1.Lease).DeepCopy()
		old, err := tr.Get(leaseGVR, obj.Namespace, obj.Name)
		if err != nil {
			return true, nil, err
		}
		if old.(*coordinationv1.Lease).ResourceVersion != obj.ResourceVersion {
			return true, nil, conflict(obj.Name)
		}
		c.n++
		obj.ResourceVersion = strconv.Itoa(c.n)
		obj.UID = old.(*coordinationv1.Lease).UID
		return true, obj, tr.Update(leaseGVR, obj, obj.Namespace)
	})
	c.PrependReactor("delete", "leases", func(a k8stesting.Action) (bool, runtime.Object, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.down.Load() {
			return true, nil, errors.New("connection refused")
		}
		da := a.(k8stesting.DeleteActionImpl)
		old, err := tr.Get(leaseGVR, da.Namespace, da.Name)
		if err != nil {
			return true, nil, err
		}
		ol := old.(*coordinationv1.Lease)
		if p := da.DeleteOptions.Preconditions; p != nil {
			if (p.UID != nil && *p.UID != ol.UID) || (p.ResourceVersion != nil && *p.ResourceVersion != ol.ResourceVersion) {
				return true, nil, conflict(da.Name)
			}
		}
		return true, nil, tr.Delete(leaseGVR, da.Namespace, da.Name)
	})
	return c
}

func (c *rvClient) lease(t *testing.T) *coordinationv1.Lease {
	t.Helper()
	l, err := c.CoordinationV1().Leases("ns").Get(context.Background(), LockName("skoala"), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// drive steps every clock by step each time all of them have a sleeper (each goroutine of the test is
// asleep), until done is closed: the clocks run at the same pace, whatever time each one shows.
func drive(t *testing.T, done <-chan struct{}, step time.Duration, clocks ...*clocktesting.FakeClock) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-done:
			return
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the lock did not come to a decision")
		}
		all := true
		for _, c := range clocks {
			all = all && c.HasWaiters()
		}
		if !all {
			time.Sleep(200 * time.Microsecond)
			continue
		}
		for _, c := range clocks {
			c.Step(step)
		}
	}
}

type acquired struct {
	lk  *Lock
	err error
}

func acquireAsync(c *rvClient, o LockOptions) (<-chan struct{}, *acquired) {
	done := make(chan struct{})
	res := &acquired{}
	go func() {
		defer close(done)
		res.lk, res.err = AcquireLock(context.Background(), c, "ns", "skoala", o)
	}()
	return done, res
}

var t0 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

func holderOpts(id string, c *clocktesting.FakeClock) LockOptions {
	return LockOptions{Target: "0.57.2", Timeout: 5 * time.Minute, Atomic: true, Clock: c, Identity: id}
}

// A second operator whose clock runs minutes ahead of or behind the holder's cannot take a live lock:
// the holder's renewTime is never compared with the reader's clock, only the Lease's changes are.
func TestLockSkewedClockCannotTakeLiveLock(t *testing.T) {
	for _, skew := range []time.Duration{-10 * time.Minute, 10 * time.Minute, -3 * time.Hour} {
		t.Run("reader clock "+skew.String(), func(t *testing.T) {
			c := newRVClient()
			ca, cb := clocktesting.NewFakeClock(t0), clocktesting.NewFakeClock(t0.Add(skew))
			a, err := AcquireLock(context.Background(), c, "ns", "skoala", holderOpts("A", ca))
			if err != nil {
				t.Fatal(err)
			}
			defer a.Release()
			done, res := acquireAsync(c, holderOpts("B", cb))
			drive(t, done, time.Second, ca, cb)
			var le *LockedError
			if !errors.As(res.err, &le) {
				t.Fatalf("B took the live lock of A: %v", res.err)
			}
			if le.Info.Holder != "A" || !strings.Contains(le.Error(), "holds the lock lease ns/kubectl-skoala-upgrade.skoala") {
				t.Errorf("error %q", le.Error())
			}
			if got := holderOf(c.lease(t)); got != "A" {
				t.Errorf("holder %q", got)
			}
			if err := a.Confirm(context.Background()); err != nil {
				t.Errorf("A no longer holds its lock: %v", err)
			}
		})
	}
}

// A Lease nobody renews is stale only after a whole lease duration on the reader's clock, whatever its
// renewTime says; the takeover keeps what the previous holder recorded.
func TestLockStaleTakeover(t *testing.T) {
	c := newRVClient()
	holder := "kubectl-skoala/op@other-host/pid-1/x"
	secs := int32(60)
	future := metav1.NewMicroTime(t0.Add(time.Hour)) // the dead holder's clock ran an hour ahead
	_, err := c.CoordinationV1().Leases("ns").Create(context.Background(), &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: LockName("skoala"), Namespace: "ns", Annotations: map[string]string{
			annHost: "other-host", annPID: "1", annRevision: "4", annTimeout: "2m0s", annAtomic: "false"}},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &secs, RenewTime: &future},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cb := clocktesting.NewFakeClock(t0)
	done, res := acquireAsync(c, holderOpts("B", cb))
	drive(t, done, time.Second, cb)
	if res.err != nil {
		t.Fatal(res.err)
	}
	defer res.lk.Release()
	if waited := cb.Since(t0); waited < time.Minute {
		t.Errorf("took over after %s, before a whole lease duration", waited)
	}
	prev := res.lk.Previous
	if prev == nil || prev.Holder != holder || prev.Revision != 4 || prev.Timeout != 2*time.Minute || prev.Atomic {
		t.Fatalf("previous %+v", prev)
	}
	if q, gone := res.lk.PreviousQuiet(); q < time.Minute || gone {
		t.Errorf("quiet %s gone %v", q, gone)
	}
	l := c.lease(t)
	if holderOf(l) != "B" || l.Annotations[annRevision] != "4" {
		t.Errorf("after the takeover: holder %q, revision %q", holderOf(l), l.Annotations[annRevision])
	}
	if err := res.lk.SetRevision(6); err != nil {
		t.Fatal(err)
	}
	li, _ := PeekLock(context.Background(), c, "ns", "skoala")
	if li.Revision != 6 || li.Timeout != 5*time.Minute || !li.Atomic {
		t.Errorf("recorded %+v", li)
	}
}

// A holder that cannot renew within the renew deadline learns it: its Lost channel closes, its bound
// context is cancelled and Confirm fails. A blip shorter than that is survived.
func TestLockRenewalFailureCancels(t *testing.T) {
	c := newRVClient()
	ca := clocktesting.NewFakeClock(t0)
	a, err := AcquireLock(context.Background(), c, "ns", "skoala", holderOpts("A", ca))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Release()
	run, cancel := a.Bind(context.Background())
	defer cancel()
	advance := func(d time.Duration) {
		for end := ca.Now().Add(d); ca.Now().Before(end); {
			select {
			case <-a.Lost():
				return
			default:
			}
			if !ca.HasWaiters() {
				time.Sleep(200 * time.Microsecond)
				continue
			}
			ca.Step(time.Second)
		}
	}
	// A 30 s blip: survived.
	c.down.Store(true)
	advance(30 * time.Second)
	c.down.Store(false)
	advance(15 * time.Second)
	if err := a.Err(); err != nil {
		t.Fatalf("a 30s blip lost the lock: %v", err)
	}
	if err := a.Confirm(context.Background()); err != nil {
		t.Fatalf("confirm after the blip: %v", err)
	}
	// Down for good: lost before a reader could call the Lease stale.
	c.down.Store(true)
	start := ca.Now()
	advance(2 * time.Minute)
	select {
	case <-a.Lost():
	default:
		t.Fatal("the holder never learned it could not renew")
	}
	if took := ca.Since(start); took >= time.Minute {
		t.Errorf("gave up after %s, not within the lease duration", took)
	}
	select {
	case <-run.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the run's context was not cancelled")
	}
	if !errors.Is(context.Cause(run), ErrLockLost) || !errors.Is(a.Confirm(context.Background()), ErrLockLost) {
		t.Errorf("cause %v", context.Cause(run))
	}
}

// A holder suspended past the lease duration is taken over; on waking it finds out at its next Confirm
// or renewal, and its exit does not delete the new holder's Lease.
func TestLockFirstHolderExitKeepsSecondsLease(t *testing.T) {
	c := newRVClient()
	ca, cb := clocktesting.NewFakeClock(t0), clocktesting.NewFakeClock(t0)
	a, err := AcquireLock(context.Background(), c, "ns", "skoala", holderOpts("A", ca))
	if err != nil {
		t.Fatal(err)
	}
	// A is suspended: its clock does not move, so it does not renew.
	done, res := acquireAsync(c, holderOpts("B", cb))
	drive(t, done, time.Second, cb)
	if res.err != nil {
		t.Fatalf("B could not take the stale lock: %v", res.err)
	}
	b := res.lk
	if err := a.Confirm(context.Background()); !errors.Is(err, ErrLockLost) || !strings.Contains(err.Error(), "held by B") {
		t.Errorf("A's confirm: %v", err)
	}
	if err := a.SetRevision(9); !errors.Is(err, ErrLockLost) {
		t.Errorf("A overwrote B's Lease: %v", err)
	}
	if err := a.Release(); err == nil || !strings.Contains(err.Error(), "not deleted") {
		t.Errorf("A's release: %v", err)
	}
	l := c.lease(t)
	if l == nil || holderOf(l) != "B" {
		t.Fatalf("A's exit deleted or changed B's Lease: %+v", l)
	}
	if err := b.Confirm(context.Background()); err != nil {
		t.Fatalf("B: %v", err)
	}
	if err := b.Release(); err != nil {
		t.Fatal(err)
	}
	if c.lease(t) != nil {
		t.Error("B's release left its Lease")
	}
}

// Two operators find the same stale Lease at the same time: the takeover carries the resourceVersion
// each observed, so exactly one gets the lock.
func TestLockTakeoverRace(t *testing.T) {
	c := newRVClient()
	holder := "gone"
	_, err := c.CoordinationV1().Leases("ns").Create(context.Background(), &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: LockName("skoala"), Namespace: "ns", Annotations: map[string]string{annHost: "other-host", annPID: "1"}},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: &holder},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cb, cc := clocktesting.NewFakeClock(t0), clocktesting.NewFakeClock(t0)
	db, rb := acquireAsync(c, holderOpts("B", cb))
	dc, rc := acquireAsync(c, holderOpts("C", cc))
	both := make(chan struct{})
	go func() { <-db; <-dc; close(both) }()
	drive(t, both, time.Second, cb, cc)
	var won []*Lock
	for _, r := range []*acquired{rb, rc} {
		var le *LockedError
		switch {
		case r.err == nil:
			won = append(won, r.lk)
		case !errors.As(r.err, &le):
			t.Errorf("unexpected %v", r.err)
		}
	}
	if len(won) != 1 {
		t.Fatalf("%d holders", len(won))
	}
	if holderOf(c.lease(t)) != won[0].Holder() {
		t.Errorf("the Lease names %s", holderOf(c.lease(t)))
	}
	_ = won[0].Release()
}

// The holder's Release uses preconditions: a Lease re-created by someone else (another UID) is kept.
func TestLockReleaseKeepsRecreatedLease(t *testing.T) {
	c := newRVClient()
	ca := clocktesting.NewFakeClock(t0)
	a, err := AcquireLock(context.Background(), c, "ns", "skoala", holderOpts("A", ca))
	if err != nil {
		t.Fatal(err)
	}
	// Someone deletes A's Lease by hand and another upgrade creates its own.
	if err := c.CoordinationV1().Leases("ns").Delete(context.Background(), LockName("skoala"), metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	b, err := AcquireLock(context.Background(), c, "ns", "skoala", holderOpts("B", clocktesting.NewFakeClock(t0)))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	if err := a.Release(); err == nil {
		t.Error("A's release says it deleted its lock")
	}
	if l := c.lease(t); l == nil || holderOf(l) != "B" {
		t.Fatalf("A's release deleted B's Lease")
	}
}

// TestGoneNeedsProofNotAHostname is issue 24 §1: a holder with this host's name whose PID runs nothing
// here (a clone of this host's image, a container with the host's name and its own PID namespace) is not
// gone; only one proven a process of this boot and PID namespace that no longer runs (or whose PID now
// runs a process started at another time) is.
func TestGoneNeedsProofNotAHostname(t *testing.T) {
	host, _ := os.Hostname()
	dead := deadPID(t)
	self := selfIdentity()
	if self.BootID == "" || self.PIDNS == "" || self.Start == "" {
		t.Fatalf("this process's identity is not readable here: %+v", self)
	}
	cases := []struct {
		name string
		li   LockInfo
		gone bool
	}{
		{"our hostname, a PID that runs nothing here, nothing else recorded", LockInfo{Host: host, PID: dead}, false},
		{"our hostname, another machine's boot", LockInfo{Host: host, PID: dead, BootID: "00000000-0000-0000-0000-000000000000", PIDNS: self.PIDNS, Start: "1"}, false},
		{"our hostname and boot, another PID namespace", LockInfo{Host: host, PID: dead, BootID: self.BootID, PIDNS: "pid:[1]", Start: "1"}, false},
		{"this boot and PID namespace, the PID runs nothing", LockInfo{PID: dead, BootID: self.BootID, PIDNS: self.PIDNS, Start: "1"}, true},
		{"this boot and PID namespace, the PID reused by a later process", LockInfo{PID: self.PID, BootID: self.BootID, PIDNS: self.PIDNS, Start: self.Start + "0"}, true},
		{"this very process", LockInfo{PID: self.PID, BootID: self.BootID, PIDNS: self.PIDNS, Start: self.Start}, false},
	}
	for _, c := range cases {
		if got := c.li.Gone(); got != c.gone {
			t.Errorf("%s: gone %v, want %v", c.name, got, c.gone)
		}
	}
}

// deadPID is the PID of a process that ran and exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestLockRecordsTheHolderProcess(t *testing.T) {
	c := fake.NewSimpleClientset()
	lk, err := AcquireLock(context.Background(), c, "ns", "skoala", LockOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lk.Release() }()
	li, err := PeekLock(context.Background(), c, "ns", "skoala")
	if err != nil || li == nil {
		t.Fatal(li, err)
	}
	self := selfIdentity()
	if li.BootID != self.BootID || li.PIDNS != self.PIDNS || li.Start != self.Start || li.PID != self.PID || li.Gone() {
		t.Errorf("recorded %+v, this process %+v", li, self)
	}
}
