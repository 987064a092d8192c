package change

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"
)

// The lock is a Lease in the release's namespace, held while an upgrade runs and deleted at the end.
//
// It is judged the way client-go's leader election judges a lease: a reader never compares the holder's
// renewTime with its own clock (clocks of offline sites drift, laptops sleep). It watches the Lease and
// calls it stale only when its resourceVersion has not changed for a whole lease duration measured on
// its own monotonic clock. The holder renews every lockRenewEvery and gives up (cancelling its run) when
// it could not renew for lockRenewDeadline, well before any reader can call the Lease stale. Every write
// carries the resourceVersion its writer observed, so two writers cannot both win and nobody deletes or
// overwrites a Lease it does not hold.
//
// A holder proven to have been a process of this machine and PID namespace that no longer runs (same boot
// id, same PID namespace, no process with its PID and start time: holder.go) is gone at once: its helm
// calls (made in-process) ended with it. Its hostname proves nothing.
const (
	lockPrefix         = "kubectl-skoala-upgrade."
	annOperation       = "skoala.io/operation"
	annTarget          = "skoala.io/target-version"
	annRevision        = "skoala.io/revision"
	annTimeout         = "skoala.io/helm-timeout"
	annAtomic          = "skoala.io/helm-atomic"
	annHost            = "skoala.io/holder-host"
	annPID             = "skoala.io/holder-pid"
	annBootID          = "skoala.io/holder-boot-id"
	annPIDNS           = "skoala.io/holder-pid-namespace"
	annStart           = "skoala.io/holder-start-time"
	defaultLockSeconds = 60
)

// Lock timing, as fractions of the lease duration: the holder renews every sixth of it, retries a failed
// renewal every lockRetry, and stops at two thirds of it, so a network blip shorter than that is survived
// and a holder that lost the lock stops a third of a duration before a reader may take it over.
const (
	lockRenewDivisor = 6
	lockRetry        = 2 * time.Second
	lockPoll         = 2 * time.Second
)

// ErrLockLost says this process no longer holds the lock it took.
var ErrLockLost = errors.New("the upgrade lock was lost")

// LockName is the name of the Lease that guards upgrades of release.
func LockName(release string) string { return lockPrefix + release }

// LockInfo is what a lock says about the upgrade that holds (or held) it.
type LockInfo struct {
	Holder string
	// Renewed is the holder's renewTime, on the holder's clock: for people to read, never to judge by.
	Renewed  time.Time
	Duration time.Duration
	Target   string
	// Revision is the release revision the holder's helm operation was creating (0: none started);
	// Timeout and Atomic are that operation's --timeout and --atomic.
	Revision int
	Timeout  time.Duration
	Atomic   bool
	Host     string
	PID      int
	// BootID, PIDNS and Start name the holder process beyond its host's name (holder.go).
	BootID          string
	PIDNS           string
	Start           string
	ResourceVersion string
}

// Gone reports whether the holder is proven to have been a process of this machine and PID namespace that
// no longer runs (provenGone): a holder with this host's name is not, unless its boot id, PID namespace
// and process start time prove it.
func (l LockInfo) Gone() bool {
	return provenGone(Identity{BootID: l.BootID, PIDNS: l.PIDNS, PID: l.PID, Start: l.Start})
}

func lockInfo(l *coordinationv1.Lease) LockInfo {
	li := LockInfo{Duration: defaultLockSeconds * time.Second, ResourceVersion: l.ResourceVersion}
	if l.Spec.HolderIdentity != nil {
		li.Holder = *l.Spec.HolderIdentity
	}
	if l.Spec.RenewTime != nil {
		li.Renewed = l.Spec.RenewTime.Time
	} else if l.Spec.AcquireTime != nil {
		li.Renewed = l.Spec.AcquireTime.Time
	}
	if l.Spec.LeaseDurationSeconds != nil && *l.Spec.LeaseDurationSeconds > 0 {
		li.Duration = time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second
	}
	li.Target = l.Annotations[annTarget]
	li.Revision, _ = strconv.Atoi(l.Annotations[annRevision])
	li.Timeout, _ = time.ParseDuration(l.Annotations[annTimeout])
	li.Atomic = l.Annotations[annAtomic] == "true"
	li.Host = l.Annotations[annHost]
	li.PID, _ = strconv.Atoi(l.Annotations[annPID])
	li.BootID, li.PIDNS, li.Start = l.Annotations[annBootID], l.Annotations[annPIDNS], l.Annotations[annStart]
	return li
}

// PeekLock reads the lock of release (nil when there is none).
func PeekLock(ctx context.Context, client kubernetes.Interface, ns, release string) (*LockInfo, error) {
	l, err := client.CoordinationV1().Leases(ns).Get(ctx, LockName(release), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading lock lease %s/%s: %w", ns, LockName(release), err)
	}
	li := lockInfo(l)
	return &li, nil
}

// LockedError says another upgrade holds the release: its Lease changed while this process watched it.
type LockedError struct {
	Release, Namespace string
	Info               LockInfo
	// Watched is how long this process watched the Lease before it changed.
	Watched time.Duration
}

func (e *LockedError) Error() string {
	target := ""
	if e.Info.Target != "" {
		target = " to " + e.Info.Target
	}
	return fmt.Sprintf("another upgrade%s of %s holds the lock lease %s/%s (holder %s, renewed within the %s this run watched it)",
		target, e.Release, e.Namespace, LockName(e.Release), e.Info.Holder, e.Watched.Round(time.Second))
}

// LockOptions are the settings of AcquireLock; the zero value of each field means its default.
type LockOptions struct {
	// Target is the version the upgrade goes to; Timeout and Atomic are its helm --timeout and --atomic,
	// recorded with each revision (SetRevision) for a later run's resume decision.
	Target  string
	Timeout time.Duration
	Atomic  bool
	// Duration is the lease duration (60s).
	Duration time.Duration
	// Clock measures every interval of the lock (monotonic); tests give a fake one.
	Clock clock.Clock
	// Identity, Host and PID name the holder (a random identity, this host, this process).
	Identity string
	Host     string
	PID      int
	// Process names the holder process beyond the host's name (this process's boot id, PID namespace and
	// start time; holder.go). PID, when set, is its PID.
	Process Identity
	// Progress receives a line when the lock must be watched before it can be taken.
	Progress func(string)
}

func (o *LockOptions) defaults() {
	if o.Duration <= 0 {
		o.Duration = defaultLockSeconds * time.Second
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Identity == "" {
		o.Identity = holderID()
	}
	if o.Host == "" {
		o.Host, _ = os.Hostname()
	}
	if o.PID == 0 {
		o.PID = os.Getpid()
	}
	if o.Process == (Identity{}) && o.PID == os.Getpid() {
		o.Process = selfIdentity()
	}
}

// Lock is a held lock.
type Lock struct {
	client   kubernetes.Interface
	ns, name string
	opts     LockOptions
	// Previous is what the lock said before this process took it over (nil when it was free).
	Previous *LockInfo
	// previousSeen is when (on this process's clock) the Previous Lease was first seen at the
	// resourceVersion it kept until the takeover; previousGone whether its holder was a dead local process.
	previousSeen time.Time
	previousGone bool

	mu        sync.Mutex
	lease     *coordinationv1.Lease
	renewedAt time.Time // this process's clock, at the last successful write
	stop      chan struct{}
	done      chan struct{}
	lost      chan struct{}
	lostOnce  sync.Once
	lostErr   error
}

func holderID() string {
	host, _ := os.Hostname()
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("kubectl-skoala/%s@%s/pid-%d/%s", name, host, os.Getpid(), hex.EncodeToString(b))
}

// AcquireLock takes the lock of release in ns. When another Lease is there, it watches it: a change
// within a lease duration means a live holder (*LockedError); no change for a whole duration (or a
// holder that was a process of this host and is gone) means a stale lock, taken over with the
// resourceVersion observed, keeping the revision the previous holder recorded. The lock renews itself in
// the background until Release.
func AcquireLock(ctx context.Context, client kubernetes.Interface, ns, release string, o LockOptions) (*Lock, error) {
	o.defaults()
	secs := int32(o.Duration / time.Second)
	t := metav1.NewMicroTime(o.Clock.Now())
	holder := o.Identity
	want := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{
			Name: LockName(release), Namespace: ns,
			Labels: map[string]string{"app.kubernetes.io/managed-by": "kubectl-skoala"},
			Annotations: map[string]string{
				annOperation: "upgrade", annTarget: o.Target, annHost: o.Host, annPID: strconv.Itoa(o.PID),
				annBootID: o.Process.BootID, annPIDNS: o.Process.PIDNS, annStart: o.Process.Start,
			},
		},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &secs, AcquireTime: &t, RenewTime: &t},
	}
	leases := client.CoordinationV1().Leases(ns)
	lk := &Lock{client: client, ns: ns, name: LockName(release), opts: o}
	for attempt := 0; attempt < 3; attempt++ {
		created, err := leases.Create(ctx, want, metav1.CreateOptions{})
		if err == nil {
			lk.held(created)
			return lk, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("creating lock lease %s/%s: %w", ns, lk.name, err)
		}
		cur, seen, gone, err := lk.watchStale(ctx, release)
		if err != nil {
			return nil, err
		}
		if cur == nil {
			continue // deleted while watched: try to create it again
		}
		// Take over the stale lock with the resourceVersion observed, keeping what its holder recorded
		// of its helm operation for the resume decision.
		prev := lockInfo(cur)
		upd := cur.DeepCopy()
		upd.Labels = want.Labels
		if upd.Annotations == nil {
			upd.Annotations = map[string]string{}
		}
		for k, v := range want.Annotations {
			upd.Annotations[k] = v
		}
		upd.Spec = want.Spec
		updated, err := leases.Update(ctx, upd, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("taking over the stale lock lease %s/%s: %w", ns, lk.name, err)
		}
		lk.Previous, lk.previousSeen, lk.previousGone = &prev, seen, gone
		lk.held(updated)
		return lk, nil
	}
	return nil, fmt.Errorf("could not take the lock lease %s/%s: it changed under us three times", ns, lk.name)
}

// watchStale watches the existing Lease until it proves live (*LockedError) or stale (returned, with
// when it was first seen at its resourceVersion and whether its holder is proven a dead local process).
// It judges as client-go's leader election does: the record is stale when it has not changed for a whole
// lease duration measured on this process's clock from when it was first seen, never by comparing the
// holder's renewTime with this clock. A nil Lease means it was deleted meanwhile.
func (l *Lock) watchStale(ctx context.Context, release string) (*coordinationv1.Lease, time.Time, bool, error) {
	leases := l.client.CoordinationV1().Leases(l.ns)
	cur, err := leases.Get(ctx, l.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, time.Time{}, false, nil
	}
	if err != nil {
		return nil, time.Time{}, false, fmt.Errorf("reading lock lease %s/%s: %w", l.ns, l.name, err)
	}
	info := lockInfo(cur)
	seen := l.opts.Clock.Now()
	if info.Gone() {
		return cur, seen, true, nil
	}
	if l.opts.Progress != nil {
		l.opts.Progress(fmt.Sprintf("the lock lease %s/%s is held by %s: watching it up to %s to see whether it is renewed",
			l.ns, l.name, info.Holder, info.Duration))
	}
	for {
		if err := sleep(ctx, l.opts.Clock, lockPoll); err != nil {
			return nil, time.Time{}, false, err
		}
		next, err := leases.Get(ctx, l.name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil, time.Time{}, false, nil
		}
		if err != nil {
			return nil, time.Time{}, false, fmt.Errorf("reading lock lease %s/%s: %w", l.ns, l.name, err)
		}
		if next.ResourceVersion != cur.ResourceVersion {
			return nil, time.Time{}, false, &LockedError{Release: release, Namespace: l.ns, Info: lockInfo(next), Watched: l.opts.Clock.Since(seen)}
		}
		// The duration is the one the Lease states, never shorter than ours.
		d := info.Duration
		if d < l.opts.Duration {
			d = l.opts.Duration
		}
		if l.opts.Clock.Since(seen) >= d {
			return next, seen, false, nil
		}
	}
}

// sleep waits d on c, or until ctx ends.
func sleep(ctx context.Context, c clock.Clock, d time.Duration) error {
	t := c.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C():
		return nil
	}
}

func (l *Lock) held(le *coordinationv1.Lease) {
	l.lease = le
	l.renewedAt = l.opts.Clock.Now()
	l.stop = make(chan struct{})
	l.done = make(chan struct{})
	l.lost = make(chan struct{})
	go l.renewLoop()
}

// Holder is this process's holder identity.
func (l *Lock) Holder() string { return l.opts.Identity }

// PreviousQuiet is how long, on this process's clock, the previous holder's Lease has not changed (0
// when the lock was free), and whether that holder was a process of this host that is gone.
func (l *Lock) PreviousQuiet() (time.Duration, bool) {
	if l.Previous == nil {
		return 0, false
	}
	return l.opts.Clock.Since(l.previousSeen), l.previousGone
}

// Lost is closed when this process no longer holds the lock (it could not renew it in time, or someone
// else holds it now); Err says why.
func (l *Lock) Lost() <-chan struct{} { return l.lost }

// Err is why the lock was lost (nil while it is held).
func (l *Lock) Err() error {
	select {
	case <-l.lost:
		return l.lostErr
	default:
		return nil
	}
}

// Bind returns a context that ends with ctx or when the lock is lost, whichever comes first.
func (l *Lock) Bind(ctx context.Context) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-c.Done():
		case <-l.lost:
			cancel(l.lostErr)
		}
	}()
	return c, func() { cancel(context.Canceled) }
}

func (l *Lock) markLost(err error) {
	l.lostOnce.Do(func() {
		l.lostErr = fmt.Errorf("%w: %v", ErrLockLost, err)
		close(l.lost)
	})
}

func (l *Lock) renewLoop() {
	defer close(l.done)
	every := l.opts.Duration / lockRenewDivisor
	deadline := l.opts.Duration * 2 / 3
	wait := every
	for {
		t := l.opts.Clock.NewTimer(wait)
		select {
		case <-l.stop:
			t.Stop()
			return
		case <-l.lost:
			t.Stop()
			return
		case <-t.C():
		}
		err := l.update(func(le *coordinationv1.Lease) {})
		switch {
		case err == nil:
			wait = every
		case errors.Is(err, ErrLockLost):
			return
		default:
			l.mu.Lock()
			since := l.opts.Clock.Since(l.renewedAt)
			l.mu.Unlock()
			if since >= deadline {
				l.markLost(fmt.Errorf("could not renew the lock lease %s/%s for %s: %v", l.ns, l.name, since.Round(time.Second), err))
				return
			}
			wait = lockRetry
		}
	}
}

// update writes the Lease changed by fn (and renewed) with the resourceVersion this process last wrote.
// A conflict means someone else wrote it: the lock is lost, unless it was this process's own write whose
// answer got lost (the Lease still names this holder).
func (l *Lock) update(fn func(*coordinationv1.Lease)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.Err(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	write := func(base *coordinationv1.Lease) (*coordinationv1.Lease, error) {
		le := base.DeepCopy()
		fn(le)
		t := metav1.NewMicroTime(l.opts.Clock.Now())
		le.Spec.RenewTime = &t
		return l.client.CoordinationV1().Leases(l.ns).Update(ctx, le, metav1.UpdateOptions{})
	}
	upd, err := write(l.lease)
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		cur, gerr := l.read(ctx)
		if gerr != nil {
			if errors.Is(gerr, ErrLockLost) {
				return gerr
			}
			return err
		}
		upd, err = write(cur)
	}
	if err != nil {
		return err
	}
	l.lease = upd
	l.renewedAt = l.opts.Clock.Now()
	return nil
}

// read gets the Lease; one that is gone or names another holder marks the lock lost (ErrLockLost).
func (l *Lock) read(ctx context.Context) (*coordinationv1.Lease, error) {
	cur, err := l.client.CoordinationV1().Leases(l.ns).Get(ctx, l.name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		l.markLost(fmt.Errorf("the lock lease %s/%s was deleted", l.ns, l.name))
		return nil, l.lostErr
	case err != nil:
		return nil, err
	case holderOf(cur) != l.opts.Identity:
		l.markLost(fmt.Errorf("the lock lease %s/%s is held by %s now", l.ns, l.name, holderOf(cur)))
		return nil, l.lostErr
	}
	return cur, nil
}

func holderOf(le *coordinationv1.Lease) string {
	if le.Spec.HolderIdentity == nil {
		return ""
	}
	return *le.Spec.HolderIdentity
}

// Confirm checks that this process still holds the lock: the Lease names this holder at the
// resourceVersion this process last wrote. The upgrade calls it before every step that changes the
// cluster.
func (l *Lock) Confirm(ctx context.Context) error {
	if l == nil {
		return nil
	}
	if err := l.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	cur, err := l.read(ctx)
	switch {
	case errors.Is(err, ErrLockLost):
		return err
	case err != nil:
		return fmt.Errorf("confirming the lock lease %s/%s: %w", l.ns, l.name, err)
	case cur.ResourceVersion != l.lease.ResourceVersion:
		l.markLost(fmt.Errorf("the lock lease %s/%s changed under this holder (resourceVersion %s, not %s)", l.ns, l.name, cur.ResourceVersion, l.lease.ResourceVersion))
		return l.lostErr
	}
	return nil
}

// SetRevision records the revision the next helm operation creates, with the operation's --timeout and
// --atomic, so that a later run can tell that a pending revision was left by this upgrade and when
// Helm's own wait and rollback could have ended.
func (l *Lock) SetRevision(rev int) error {
	return l.update(func(le *coordinationv1.Lease) {
		if le.Annotations == nil {
			le.Annotations = map[string]string{}
		}
		le.Annotations[annRevision] = strconv.Itoa(rev)
		le.Annotations[annTimeout] = l.opts.Timeout.String()
		le.Annotations[annAtomic] = strconv.FormatBool(l.opts.Atomic)
	})
}

// Release stops renewing and deletes the lock if this process still holds it: the delete is
// preconditioned on the UID and resourceVersion this process last wrote, so a Lease taken over by
// another holder is left alone. It uses its own short timeout: it runs after a Ctrl-C too.
func (l *Lock) Release() error {
	if l == nil {
		return nil
	}
	close(l.stop)
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.Err(); err != nil {
		return fmt.Errorf("%v: it was not deleted", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	leases := l.client.CoordinationV1().Leases(l.ns)
	del := func(le *coordinationv1.Lease) error {
		uid, rv := le.UID, le.ResourceVersion
		return leases.Delete(ctx, l.name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv}})
	}
	err := del(l.lease)
	if apierrors.IsConflict(err) {
		// Maybe this process's own last renewal landed unanswered: delete only what still names it.
		cur, gerr := leases.Get(ctx, l.name, metav1.GetOptions{})
		if gerr == nil && holderOf(cur) != l.opts.Identity {
			return fmt.Errorf("the lock lease %s/%s is held by %s now: it was not deleted", l.ns, l.name, holderOf(cur))
		}
		if gerr == nil {
			err = del(cur)
		}
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting lock lease %s/%s (it goes stale by itself in %s): %s", l.ns, l.name, l.opts.Duration, strings.TrimSpace(err.Error()))
	}
	return nil
}
