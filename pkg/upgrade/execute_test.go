package upgrade

import (
	"context"
	"errors"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/change"
	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
)

func admissionJob() runtime.Object {
	return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "gateway-api-admission", Namespace: testNS}}
}

func plannedUpgrade(t *testing.T, f *fakeFleet) *Planned {
	t.Helper()
	f.install(t, "0.57.1")
	p, err := Plan(context.Background(), f.deps(), testConfig(t, chartAt(t, "0.57.2")))
	if err != nil || !p.Runnable() {
		t.Fatalf("plan: %v %+v", err, p)
	}
	return p
}

// TestExecuteUpgradesVerifiesAndGuards: upgrades, verifies, guards every change and reports its progress.
func TestExecuteUpgradesVerifiesAndGuards(t *testing.T) {
	f := newFleet(t, append(workloads("v0.57.2"), admissionJob())...)
	p := plannedUpgrade(t, f)
	d := f.deps()
	guarded := 0
	d.Guard = func(context.Context) error { guarded++; return nil }
	rep, err := Execute(context.Background(), d, p)
	if err != nil || rep.Outcome != OutcomeUpgraded {
		t.Fatalf("%v: %s %s", err, rep.Outcome, rep.Message)
	}
	res := rep.Releases[0].Result
	if res.Outcome != OutcomeUpgraded || res.Revision != 2 || strings.Join(res.Done, ",") != "backup,admission-jobs,helm,verify" || len(res.Backups) != 1 {
		t.Errorf("result %+v", res)
	}
	if guarded != 2 { // the Job deletion and the helm upgrade
		t.Errorf("guard called %d times, want 2", guarded)
	}
	last, _ := f.helm["workspace-1"].Last("skoala-init")
	if last.Revision != 2 || last.Status != "deployed" || last.ChartVersion != "0.57.2" {
		t.Errorf("release now %+v", last)
	}
	if _, err := f.clusters["workspace-1"].Client.BatchV1().Jobs(testNS).Get(context.Background(), "gateway-api-admission", metav1.GetOptions{}); err == nil {
		t.Errorf("the admission Job was not deleted")
	}
	if li, _ := change.PeekLock(context.Background(), f.clusters["workspace-1"].Client, testNS, "skoala-init"); li != nil {
		t.Errorf("the lock was not released")
	}
	var kinds []string
	var done *Event
	for _, e := range f.events {
		switch e.Type {
		case change.EventProgress, change.EventLog, change.EventWait:
		default:
			kinds = append(kinds, e.Type)
		}
		if e.Type == change.EventReleaseDone {
			done = &e
		}
	}
	if got := strings.Join(kinds, ","); got != "plan,lock,backup,wave,release-start,jobs,helm-start,verify,release-done" {
		t.Errorf("events %s", got)
	}
	if done == nil || done.Outcome != OutcomeUpgraded || done.FromRevision != 1 || done.ToRevision != 2 || done.ToVersion != "0.57.2" || done.Error != "" {
		t.Errorf("release done %+v", done)
	}
	out := f.lines()
	for _, want := range []string{"backed up workspace-1/skoala-init revision 1 to ", "workspace-1/skoala-init: upgrade 0.57.1 -> 0.57.2\n",
		"workspace-1/skoala-init: deleted Jobs gateway-api-admission, gateway-api-admission-patch\n",
		"workspace-1/skoala-init: helm upgrade done: revision 2 deployed (0.57.2)\n", "workspace-1/skoala-init: verified\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress lacks %q:\n%s", want, out)
		}
	}
}

// TestExecuteStopsWhenTheGuardSaysSo: a guard error stops the run before the first change.
func TestExecuteStopsWhenTheGuardSaysSo(t *testing.T) {
	f := newFleet(t, append(workloads("v0.57.2"), admissionJob())...)
	p := plannedUpgrade(t, f)
	d := f.deps()
	d.Guard = func(context.Context) error {
		return exit.New(exit.Failure, errors.New("the lock lease was lost"), "run the upgrade again")
	}
	rep, err := Execute(context.Background(), d, p)
	if err != nil || rep.Outcome != OutcomeFailed || rep.Message != "workspace-1/skoala-init: the lock lease was lost" || rep.Hint != "run the upgrade again" {
		t.Fatalf("%v: %+v", err, rep)
	}
	if _, err := f.clusters["workspace-1"].Client.BatchV1().Jobs(testNS).Get(context.Background(), "gateway-api-admission", metav1.GetOptions{}); err != nil {
		t.Errorf("the admission Job was deleted despite the guard: %v", err)
	}
	if last, _ := f.helm["workspace-1"].Last("skoala-init"); last.Revision != 1 {
		t.Errorf("the release changed despite the guard: revision %d", last.Revision)
	}
}

// TestExecuteFailsTheVerificationOfAWrongTag: a wrong tag fails the verification.
func TestExecuteFailsTheVerificationOfAWrongTag(t *testing.T) {
	f := newFleet(t, workloads("v0.57.1")...)
	p := plannedUpgrade(t, f)
	p.cfg.Timeout = 0 // the verification gives up after its minimum
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rep, _ := Execute(ctx, f.deps(), p)
	if rep.Outcome != OutcomeFailed || !strings.Contains(rep.Message, "verification failed: skoala-agent runs v0.57.1, not v0.57.2") {
		t.Fatalf("%+v", rep)
	}
}

// TestExecuteRefusesAReleaseChangedSinceThePlan: a release changed since the plan is refused.
func TestExecuteRefusesAReleaseChangedSinceThePlan(t *testing.T) {
	f := newFleet(t, workloads("v0.57.2")...)
	p := plannedUpgrade(t, f)
	ch := p.works[0].chart
	if _, err := f.helm["workspace-1"].Upgrade(context.Background(), "skoala-init", ch, helmsdkOpts()); err != nil {
		t.Fatal(err)
	}
	rep, _ := Execute(context.Background(), f.deps(), p)
	if rep.Outcome != OutcomeRefused || !strings.Contains(rep.Message, "the release changed since the plan (now revision 2, deployed)") {
		t.Fatalf("%+v", rep)
	}
}

func helmsdkOpts() helmsdk.UpgradeOptions { return helmsdk.UpgradeOptions{Values: map[string]any{}} }

// TestExecuteStopsWhenTheRunCannotBeRecorded: a run the journal cannot record (here: the API server
// refuses the ConfigMap, as it refuses one over 1 MiB) stops before the first change, not with a warning
// (issue 24 §3): without its record a later rollback would undo an older run.
func TestExecuteStopsWhenTheRunCannotBeRecorded(t *testing.T) {
	f := newFleet(t, append(workloads("v0.57.2"), admissionJob())...)
	p := plannedUpgrade(t, f)
	p.works[0].target.Role = fleet.RoleControlPlane // the journal lives in the control plane
	cs := f.clusters["workspace-1"].Client.(*fake.Clientset)
	cs.PrependReactor("create", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewRequestEntityTooLargeError("limit is 1048576")
	})
	rep, err := Execute(context.Background(), f.deps(), p)
	if err != nil || rep.Outcome != OutcomeFailed || !strings.Contains(rep.Message, "nothing was changed: the run could not be recorded in the journal") {
		t.Fatalf("%v: %+v", err, rep)
	}
	if last, _ := f.helm["workspace-1"].Last("skoala-init"); last.Revision != 1 {
		t.Errorf("the release changed though the run was not recorded: revision %d", last.Revision)
	}
	if _, err := cs.BatchV1().Jobs(testNS).Get(context.Background(), "gateway-api-admission", metav1.GetOptions{}); err != nil {
		t.Errorf("the admission Job was deleted though the run was not recorded: %v", err)
	}
}
