package change

import (
	"context"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

const lockNS = "skoala-system"

// slowCluster is a fake cluster whose verb on resource takes d (a round trip of a far cluster).
func slowCluster(d time.Duration, verb, resource string, objs ...runtime.Object) *kube.Cluster {
	cs := fake.NewClientset(objs...)
	cs.PrependReactor(verb, resource, func(k8stesting.Action) (bool, runtime.Object, error) {
		time.Sleep(d)
		return false, nil, nil
	})
	return &kube.Cluster{Context: "c", Client: cs}
}

// kpandaOp is a running Helm operation Job of kpanda on release r.
func kpandaOp() *batchv1.Job {
	return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "helm-operation-upgrade-r-x7k2p", Namespace: lockNS,
		CreationTimestamp: metav1.Now(),
		OwnerReferences:   []metav1.OwnerReference{{APIVersion: "helm.kpanda.io/v1alpha1", Kind: "HelmApp", Name: "r"}}}}
}

// TestLockAllTakesEveryLockAtOnce: the locks and checks of the releases go out together (each cluster's
// round trips overlap), not one release after the other.
func TestLockAllTakesEveryLockAtOnce(t *testing.T) {
	x, changes := newTestRun(Waves{MaxParallel: 1}, "global", "ws1", "ws2", "ws3")
	x.cfg.Namespace = lockNS
	for _, c := range changes {
		c.Cluster = slowCluster(150*time.Millisecond, "create", "leases")
		c.Helm = helmsdk.NewFakeClient(c.Cluster.Client, lockNS)
	}
	start := time.Now()
	ok := x.lockAll(context.Background())
	took := time.Since(start)
	defer x.releaseLocks()
	if !ok {
		t.Fatalf("lockAll failed: %+v", x.out)
	}
	for _, c := range changes {
		if c.lock == nil {
			t.Errorf("%s: no lock", c.Context)
		}
	}
	if took > 450*time.Millisecond {
		t.Errorf("four locks of 150 ms took %v: one after the other", took)
	}
}

// TestLockAllFailsAsOneAfterTheOther: when several releases cannot be locked, the run's failure is the
// first in plan order (here the control plane, whose answer comes last), counted once, and the later
// releases stay not started, as when they were locked one after the other.
func TestLockAllFailsAsOneAfterTheOther(t *testing.T) {
	x, changes := newTestRun(Waves{MaxParallel: 1}, "global", "ws1", "ws2")
	x.cfg.Namespace = lockNS
	for i, c := range changes {
		d := time.Duration(0)
		if i == 0 {
			d = 200 * time.Millisecond
		}
		c.Cluster = slowCluster(d, "list", "jobs", kpandaOp())
		c.Cluster.Context = c.Context
		c.Helm = helmsdk.NewFakeClient(c.Cluster.Client, lockNS)
	}
	if x.lockAll(context.Background()) {
		t.Fatal("lockAll succeeded beside kpanda's operations")
	}
	x.releaseLocks()
	if x.out.Failures != 1 || x.out.Outcome != OutcomeRefused || !strings.HasPrefix(x.out.Message, "global/r: ") || !x.stop {
		t.Errorf("outcome %+v stop %v", x.out, x.stop)
	}
	for _, c := range changes[1:] {
		if c.Result.Outcome != OutcomeNotStarted || c.Result.Error != "" {
			t.Errorf("%s: %+v", c.Context, c.Result)
		}
	}
}
