package helmsdk

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	helmkube "helm.sh/helm/v4/pkg/kube"
	kubefake "helm.sh/helm/v4/pkg/kube/fake"
	rspb "helm.sh/helm/v4/pkg/release/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// waitFixture is a client over Helm's fake kube client, which records the strategy and options of every
// waiter an action asks it for.
type waitFixture struct {
	c  *Client
	kc *kubefake.FailingKubeClient
}

func newWaitFixture() *waitFixture {
	kc := &kubefake.FailingKubeClient{PrintingKubeClient: kubefake.PrintingKubeClient{Out: discard{}, LogOutput: discard{}}}
	return &waitFixture{c: newFakeClient(fake.NewClientset(), "skoala-system", kc), kc: kc}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// take returns the waits recorded since the last call, and forgets them.
func (f *waitFixture) take() ([]helmkube.WaitStrategy, []helmkube.WaitOption) {
	s, o := f.kc.RecordedWaitStrategies, f.kc.RecordedWaitOptions
	f.kc.RecordedWaitStrategies, f.kc.RecordedWaitOptions = nil, nil
	return s, o
}

// waitSettings applies recorded wait options to the options struct of Helm's kube package and reads back
// what they set: the status-compute workers and the number of custom status readers.
func waitSettings(t *testing.T, opts []helmkube.WaitOption) (workers, readers int) {
	t.Helper()
	if len(opts) == 0 {
		return 0, 0
	}
	arg := reflect.New(reflect.TypeOf(opts[0]).In(0).Elem())
	for _, o := range opts {
		reflect.ValueOf(o).Call([]reflect.Value{arg})
	}
	return int(arg.Elem().FieldByName("statusComputeWorkers").Int()), arg.Elem().FieldByName("statusReaders").Len()
}

// assertWaits checks that op asked for at least one waiter, every one with want and the CLI's options.
func (f *waitFixture) assertWaits(t *testing.T, op string, want helmkube.WaitStrategy) {
	t.Helper()
	strategies, opts := f.take()
	if len(strategies) == 0 {
		t.Fatalf("%s: no waiter was asked for", op)
	}
	for i, s := range strategies {
		if s != want {
			t.Errorf("%s: wait %d has strategy %q, want %q", op, i, s, want)
		}
	}
	workers, readers := waitSettings(t, opts)
	if workers != statusComputeWorkers || statusComputeWorkers != 8 {
		t.Errorf("%s: %d status-compute workers, want the helm CLI's 8", op, workers)
	}
	if readers == 0 {
		t.Errorf("%s: no custom-resource status reader", op)
	}
}

func testChart(version string) *Chart {
	ch := &chart.Chart{
		Metadata: &chart.Metadata{APIVersion: "v2", Name: "skoala", Version: version, AppVersion: version},
		Templates: []*common.File{{Name: "templates/cm.yaml", Data: []byte(
			"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  v: {{ .Values.v | quote }}\n")}},
		Values: map[string]any{"v": "default"},
	}
	return fromChart(ch, "test")
}

func (f *waitFixture) applyMethod(t *testing.T, name string) string {
	t.Helper()
	r, err := f.c.last(name)
	if err != nil {
		t.Fatal(err)
	}
	return r.ApplyMethod
}

// TestOperationsSetWaitsExplicitly runs install, upgrade, rollback and the resume of an interrupted upgrade
// over Helm's fake kube client: every wait has an explicit strategy (never the empty one Helm 4 fails on
// after applying) and the helm CLI's status-compute workers, and each revision is applied client-side.
func TestOperationsSetWaitsExplicitly(t *testing.T) {
	ctx := context.Background()
	f := newWaitFixture()
	opts := UpgradeOptions{Values: map[string]any{"v": "1"}, Timeout: time.Minute, Wait: true, Atomic: true}

	if _, err := f.c.Install(ctx, "skoala", testChart("0.28.1"), opts); err != nil {
		t.Fatal(err)
	}
	f.assertWaits(t, "install", helmkube.StatusWatcherStrategy)
	if m := f.applyMethod(t, "skoala"); m != string(rspb.ApplyMethodClientSideApply) {
		t.Errorf("install recorded apply method %q, want csa", m)
	}

	if _, err := f.c.Upgrade(ctx, "skoala", testChart("0.29.0"), opts); err != nil {
		t.Fatal(err)
	}
	f.assertWaits(t, "upgrade", helmkube.StatusWatcherStrategy)
	if m := f.applyMethod(t, "skoala"); m != string(rspb.ApplyMethodClientSideApply) {
		t.Errorf("upgrade recorded apply method %q, want csa", m)
	}

	if _, err := f.c.Rollback(ctx, "skoala", 1, RollbackOptions{Timeout: time.Minute, Wait: true}); err != nil {
		t.Fatal(err)
	}
	f.assertWaits(t, "rollback", helmkube.StatusWatcherStrategy)
	if m := f.applyMethod(t, "skoala"); m != string(rspb.ApplyMethodClientSideApply) {
		t.Errorf("rollback recorded apply method %q, want csa", m)
	}

	// The resume of an interrupted upgrade: its pending revision marked failed, a rollback to the deployed
	// revision, then the upgrade again.
	last, err := f.c.last("skoala")
	if err != nil {
		t.Fatal(err)
	}
	pending := *last
	pending.Version = last.Version + 1
	info := *last.Info
	info.Status = "pending-upgrade"
	pending.Info = &info
	if err := f.c.cfg.Releases.Create(&pending); err != nil {
		t.Fatal(err)
	}
	if err := f.c.Unlock("skoala", pending.Version, "interrupted"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.Rollback(ctx, "skoala", last.Version, RollbackOptions{Timeout: time.Minute, Wait: true}); err != nil {
		t.Fatal(err)
	}
	f.assertWaits(t, "resume: rollback", helmkube.StatusWatcherStrategy)
	if _, err := f.c.Upgrade(ctx, "skoala", testChart("0.29.0"), opts); err != nil {
		t.Fatal(err)
	}
	f.assertWaits(t, "resume: upgrade", helmkube.StatusWatcherStrategy)

	// Without a wait, hooks only: still explicit.
	if _, err := f.c.Upgrade(ctx, "skoala", testChart("0.29.0"), UpgradeOptions{Timeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	f.assertWaits(t, "upgrade without --wait", helmkube.HookOnlyStrategy)
}

// TestAtomicRollsBackOnFailure: --atomic is Helm 4's RollbackOnFailure. A wait that fails rolls the release
// back, and the rollback's own wait has the same explicit strategy.
func TestAtomicRollsBackOnFailure(t *testing.T) {
	ctx := context.Background()
	f := newWaitFixture()
	opts := UpgradeOptions{Timeout: time.Minute, Wait: true, Atomic: true}
	if _, err := f.c.Install(ctx, "skoala", testChart("0.28.1"), opts); err != nil {
		t.Fatal(err)
	}
	f.take()
	// The upgrade's wait fails; the rollback's does not.
	f.c.cfg.KubeClient = &firstWaitFails{FailingKubeClient: f.kc,
		err: errors.New("resource Deployment/skoala-system/hive not ready: context deadline exceeded")}
	_, err := f.c.Upgrade(ctx, "skoala", testChart("0.29.0"), opts)
	var oe *OperationError
	if !errors.As(err, &oe) || !oe.RolledBack || !oe.TimedOut {
		t.Fatalf("err %v (%+v), want a rolled-back, timed-out upgrade", err, oe)
	}
	f.assertWaits(t, "failed upgrade and its rollback", helmkube.StatusWatcherStrategy)
	last, err := f.c.Last("skoala")
	if err != nil {
		t.Fatal(err)
	}
	if last.Revision != 3 || last.Status != "deployed" || last.ChartVersion != "0.28.1" {
		t.Errorf("after the rollback: revision %d %s %s, want 3 deployed 0.28.1", last.Revision, last.Status, last.ChartVersion)
	}
}

// firstWaitFails is Helm's fake kube client whose first waiter fails with err.
type firstWaitFails struct {
	*kubefake.FailingKubeClient
	err   error
	calls int
}

func (f *firstWaitFails) GetWaiter(ws helmkube.WaitStrategy) (helmkube.Waiter, error) {
	return f.GetWaiterWithOptions(ws)
}

func (f *firstWaitFails) GetWaiterWithOptions(ws helmkube.WaitStrategy, opts ...helmkube.WaitOption) (helmkube.Waiter, error) {
	f.WaitError = nil
	if f.calls == 0 {
		f.WaitError = f.err
	}
	f.calls++
	return f.FailingKubeClient.GetWaiterWithOptions(ws, opts...)
}

// TestActionSettings checks what each operation's Helm action is set to, flag by flag.
func TestActionSettings(t *testing.T) {
	ctx := context.Background()
	f := newWaitFixture()
	for _, tc := range []struct {
		name string
		opts UpgradeOptions
	}{
		{"defaults", UpgradeOptions{}},
		{"--wait --atomic", UpgradeOptions{Wait: true, Atomic: true}},
		{"--dry-run", UpgradeOptions{DryRun: true}},
		{"force-replace", UpgradeOptions{Wait: true, ForceReplace: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantWait := helmkube.HookOnlyStrategy
			if tc.opts.Wait {
				wantWait = helmkube.StatusWatcherStrategy
			}
			wantDry := action.DryRunNone
			if tc.opts.DryRun {
				wantDry = action.DryRunServer
			}
			u := f.c.newUpgrade(ctx, tc.opts)
			if u.WaitStrategy != wantWait || u.RollbackOnFailure != tc.opts.Atomic || u.DryRunStrategy != wantDry ||
				u.ForceReplace != tc.opts.ForceReplace || u.ForceConflicts || u.ServerSideApply != "false" || !u.ResetValues {
				t.Errorf("upgrade: wait %q rollback-on-failure %v dry-run %q force-replace %v force-conflicts %v server-side %q",
					u.WaitStrategy, u.RollbackOnFailure, u.DryRunStrategy, u.ForceReplace, u.ForceConflicts, u.ServerSideApply)
			}
			if w, _ := waitSettings(t, u.WaitOptions); w != 8 {
				t.Errorf("upgrade: %d status-compute workers", w)
			}
			in := f.c.newInstall(ctx, "skoala", tc.opts)
			if in.WaitStrategy != wantWait || in.RollbackOnFailure != tc.opts.Atomic || in.DryRunStrategy != wantDry ||
				in.ForceReplace != tc.opts.ForceReplace || in.ForceConflicts || in.ServerSideApply {
				t.Errorf("install: wait %q rollback-on-failure %v dry-run %q force-replace %v force-conflicts %v server-side %v",
					in.WaitStrategy, in.RollbackOnFailure, in.DryRunStrategy, in.ForceReplace, in.ForceConflicts, in.ServerSideApply)
			}
			if w, _ := waitSettings(t, in.WaitOptions); w != 8 {
				t.Errorf("install: %d status-compute workers", w)
			}
			rb := f.c.newRollback(ctx, 1, RollbackOptions{Wait: tc.opts.Wait, ForceReplace: tc.opts.ForceReplace})
			if rb.WaitStrategy != wantWait || rb.DryRunStrategy != action.DryRunNone || rb.ForceReplace != tc.opts.ForceReplace ||
				rb.ForceConflicts || rb.ServerSideApply != "false" {
				t.Errorf("rollback: wait %q dry-run %q force-replace %v force-conflicts %v server-side %q",
					rb.WaitStrategy, rb.DryRunStrategy, rb.ForceReplace, rb.ForceConflicts, rb.ServerSideApply)
			}
			if w, _ := waitSettings(t, rb.WaitOptions); w != 8 {
				t.Errorf("rollback: %d status-compute workers", w)
			}
		})
	}
}

// TestDryRunChangesNothing: --dry-run renders the upgrade (server-side) and writes no revision.
func TestDryRunChangesNothing(t *testing.T) {
	ctx := context.Background()
	f := newWaitFixture()
	if _, err := f.c.Install(ctx, "skoala", testChart("0.28.1"), UpgradeOptions{Wait: true}); err != nil {
		t.Fatal(err)
	}
	r, err := f.c.Upgrade(ctx, "skoala", testChart("0.29.0"), UpgradeOptions{Wait: true, DryRun: true, Values: map[string]any{"v": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Manifest, `v: "2"`) {
		t.Errorf("dry-run manifest:\n%s", r.Manifest)
	}
	last, err := f.c.Last("skoala")
	if err != nil {
		t.Fatal(err)
	}
	if last.Revision != 1 {
		t.Errorf("a dry run wrote revision %d", last.Revision)
	}
}
