package upgrade

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// The lock is a Lease in the release's namespace, renewed while the upgrade runs and deleted at the end. A
// process killed with SIGKILL leaves it behind: it expires after LockDuration without renewal, or at once
// when its holder was a process of this host that no longer runs.
const (
	lockPrefix         = "kubectl-skoala-upgrade."
	annOperation       = "skoala.io/operation"
	annTarget          = "skoala.io/target-version"
	annRevision        = "skoala.io/revision"
	annHost            = "skoala.io/holder-host"
	annPID             = "skoala.io/holder-pid"
	defaultLockSeconds = 30
)

// LockName is the name of the Lease that guards upgrades of release.
func LockName(release string) string { return lockPrefix + release }

// LockInfo is what a lock says about the upgrade that holds (or held) it.
type LockInfo struct {
	Holder   string
	Renewed  time.Time
	Duration time.Duration
	Target   string
	// Revision is the release revision the holder's helm operation was creating (0: none started).
	Revision int
	Host     string
	PID      int
}

// Expired reports whether the lock no longer guards anything at now: not renewed in time, or held by a
// process of this host that is gone.
func (l LockInfo) Expired(now time.Time) bool {
	if l.Renewed.IsZero() || now.After(l.Renewed.Add(l.Duration)) {
		return true
	}
	if h, err := os.Hostname(); err == nil && l.Host == h && l.PID > 0 && !processAlive(l.PID) {
		return true
	}
	return false
}

func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || err == syscall.EPERM
}

func lockInfo(l *coordinationv1.Lease) LockInfo {
	li := LockInfo{Duration: defaultLockSeconds * time.Second}
	if l.Spec.HolderIdentity != nil {
		li.Holder = *l.Spec.HolderIdentity
	}
	if l.Spec.RenewTime != nil {
		li.Renewed = l.Spec.RenewTime.Time
	} else if l.Spec.AcquireTime != nil {
		li.Renewed = l.Spec.AcquireTime.Time
	}
	if l.Spec.LeaseDurationSeconds != nil {
		li.Duration = time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second
	}
	li.Target = l.Annotations[annTarget]
	li.Revision, _ = strconv.Atoi(l.Annotations[annRevision])
	li.Host = l.Annotations[annHost]
	li.PID, _ = strconv.Atoi(l.Annotations[annPID])
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

// LockedError says another upgrade holds the release.
type LockedError struct {
	Release, Namespace string
	Info               LockInfo
	Now                time.Time
}

func (e *LockedError) Error() string {
	left := e.Info.Renewed.Add(e.Info.Duration).Sub(e.Now).Round(time.Second)
	return fmt.Sprintf("another upgrade of %s holds the lock lease %s/%s (holder %s, renewed %s ago; it expires in %s unless renewed)",
		e.Release, e.Namespace, LockName(e.Release), e.Info.Holder, e.Now.Sub(e.Info.Renewed).Round(time.Second), left)
}

// Lock is a held lock.
type Lock struct {
	client   kubernetes.Interface
	ns, name string
	holder   string
	// Previous is what the lock said before this process took it over (nil when it was free).
	Previous *LockInfo

	mu     sync.Mutex
	lease  *coordinationv1.Lease
	stop   chan struct{}
	done   chan struct{}
	errors int
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

// AcquireLock takes the lock of release in ns for target, taking over an expired one. It renews the lock
// in the background until Release.
func AcquireLock(ctx context.Context, client kubernetes.Interface, ns, release, target string, now func() time.Time) (*Lock, error) {
	host, _ := os.Hostname()
	secs := int32(defaultLockSeconds)
	holder := holderID()
	t := metav1.NewMicroTime(now())
	want := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{
			Name: LockName(release), Namespace: ns,
			Labels: map[string]string{"app.kubernetes.io/managed-by": "kubectl-skoala"},
			Annotations: map[string]string{
				annOperation: "upgrade", annTarget: target, annHost: host, annPID: strconv.Itoa(os.Getpid()),
			},
		},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &secs, AcquireTime: &t, RenewTime: &t},
	}
	leases := client.CoordinationV1().Leases(ns)
	lk := &Lock{client: client, ns: ns, name: LockName(release), holder: holder}
	for attempt := 0; attempt < 3; attempt++ {
		created, err := leases.Create(ctx, want, metav1.CreateOptions{})
		if err == nil {
			lk.lease = created
			lk.start()
			return lk, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("creating lock lease %s/%s: %w", ns, lk.name, err)
		}
		cur, err := leases.Get(ctx, lk.name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading lock lease %s/%s: %w", ns, lk.name, err)
		}
		info := lockInfo(cur)
		if !info.Expired(now()) {
			return nil, &LockedError{Release: release, Namespace: ns, Info: info, Now: now()}
		}
		// Take over the expired lock, keeping what it says for the resume decision.
		prev := info
		upd := cur.DeepCopy()
		upd.Labels = want.Labels
		for k, v := range want.Annotations {
			if upd.Annotations == nil {
				upd.Annotations = map[string]string{}
			}
			upd.Annotations[k] = v
		}
		upd.Spec = want.Spec
		updated, err := leases.Update(ctx, upd, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("taking over the expired lock lease %s/%s: %w", ns, lk.name, err)
		}
		lk.Previous = &prev
		lk.lease = updated
		lk.start()
		return lk, nil
	}
	return nil, fmt.Errorf("could not take the lock lease %s/%s: it changed under us three times", ns, lk.name)
}

func (l *Lock) start() {
	l.stop = make(chan struct{})
	l.done = make(chan struct{})
	go func() {
		defer close(l.done)
		tick := time.NewTicker(defaultLockSeconds * time.Second / 3)
		defer tick.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-tick.C:
				_ = l.update(func(le *coordinationv1.Lease) {
					t := metav1.NewMicroTime(time.Now())
					le.Spec.RenewTime = &t
				})
			}
		}
	}()
}

func (l *Lock) update(fn func(*coordinationv1.Lease)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	le := l.lease.DeepCopy()
	fn(le)
	upd, err := l.client.CoordinationV1().Leases(l.ns).Update(ctx, le, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		cur, gerr := l.client.CoordinationV1().Leases(l.ns).Get(ctx, l.name, metav1.GetOptions{})
		if gerr == nil && cur.Spec.HolderIdentity != nil && *cur.Spec.HolderIdentity == l.holder {
			le = cur.DeepCopy()
			fn(le)
			upd, err = l.client.CoordinationV1().Leases(l.ns).Update(ctx, le, metav1.UpdateOptions{})
		}
	}
	if err != nil {
		l.errors++
		return err
	}
	l.lease = upd
	return nil
}

// SetRevision records the revision the next helm operation creates, so that a later run can tell that a
// pending revision was left by this upgrade.
func (l *Lock) SetRevision(rev int) error {
	return l.update(func(le *coordinationv1.Lease) {
		if le.Annotations == nil {
			le.Annotations = map[string]string{}
		}
		le.Annotations[annRevision] = strconv.Itoa(rev)
		t := metav1.NewMicroTime(time.Now())
		le.Spec.RenewTime = &t
	})
}

// Release stops renewing and deletes the lock (if it is still this process's). It uses its own short
// timeout: it runs after a Ctrl-C too.
func (l *Lock) Release() error {
	if l == nil {
		return nil
	}
	close(l.stop)
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	uid := l.lease.UID
	err := l.client.CoordinationV1().Leases(l.ns).Delete(ctx, l.name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting lock lease %s/%s (it expires by itself in %ds): %s", l.ns, l.name, defaultLockSeconds, strings.TrimSpace(err.Error()))
	}
	return nil
}
