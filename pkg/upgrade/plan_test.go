package upgrade

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/skoala-dev/kubectl-skoala/pkg/doctor"
	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

const testNS = "skoala-system"

// fakeFleet is a fake fleet: per context a fake clientset, and a Helm client whose release records are
// Secrets of that clientset (Helm's own Secrets driver).
type fakeFleet struct {
	clusters map[string]*kube.Cluster
	helm     map[string]*helmsdk.Client
	mu       sync.Mutex
	events   []Event
}

func (f *fakeFleet) Cluster(ctx string) (*kube.Cluster, error) {
	c, ok := f.clusters[ctx]
	if !ok {
		return nil, fmt.Errorf("context %q does not exist", ctx)
	}
	return c, nil
}

func (f *fakeFleet) deps() Deps {
	return Deps{Clusters: f, Observe: func(e Event) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.events = append(f.events, e)
	}, Helm: func(c *kube.Cluster, _, _ string, _ func(string, ...any)) (*helmsdk.Client, error) {
		return f.helm[c.Context], nil
	}}
}

func (f *fakeFleet) lines() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for _, e := range f.events {
		if l := e.ProgressLine(); l != "" {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// workloads are the Deployments of the test chart, ready and running tag.
func workloads(tag string) []runtime.Object {
	var out []runtime.Object
	zero := int32(0)
	for _, n := range []string{"skoala-agent", "nacos-operator", "sentinel-operator", "seata-operator"} {
		out = append(out, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: n, Namespace: testNS},
			Spec: appsv1.DeploymentSpec{Replicas: &zero, Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: n, Image: "release.daocloud.io/skoala/" + n + ":" + tag}}}}}})
	}
	return out
}

func newFleet(t *testing.T, objs ...runtime.Object) *fakeFleet {
	t.Helper()
	f := &fakeFleet{
		clusters: map[string]*kube.Cluster{"workspace-1": {Context: "workspace-1", Client: fake.NewSimpleClientset(objs...)}},
	}
	f.helm = map[string]*helmsdk.Client{"workspace-1": helmsdk.NewFakeClient(f.clusters["workspace-1"].Client, testNS)}
	return f
}

// chartAt copies the test chart with its version set to version and returns its directory.
func chartAt(t *testing.T, version string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "skoala-init")
	if err := os.CopyFS(dir, os.DirFS("testdata/charts/skoala-init")); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "Chart.yaml")
	b, _ := os.ReadFile(p)
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), "version: 0.57.2", "version: "+version, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// install installs revision 1 of skoala-init version on the fleet.
func (f *fakeFleet) install(t *testing.T, version string) {
	t.Helper()
	ch, err := helmsdk.LoadChartPath(chartAt(t, version), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.helm["workspace-1"].Install(context.Background(), "skoala-init", ch, helmsdk.UpgradeOptions{
		Values: map[string]any{"skoala-agent": map[string]any{"image": map[string]any{"tag": "v" + version}}}}); err != nil {
		t.Fatal(err)
	}
}

func testConfig(t *testing.T, charts ...string) Config {
	return Config{Namespace: testNS, Charts: charts, BackupDir: t.TempDir(), Timeout: time.Minute, RequestTimeout: 10 * time.Second,
		Atomic: true, Name: "kubectl skoala", Tool: "test",
		Targets: []fleet.Target{{Context: "workspace-1", Role: fleet.RoleWorkspace, Release: "skoala-init"}}}
}

func TestPlanOverFakes(t *testing.T) {
	t.Run("an upgrade from a local chart: steps, tags, runnable", func(t *testing.T) {
		f := newFleet(t)
		f.install(t, "0.57.1")
		p, err := Plan(context.Background(), f.deps(), testConfig(t, chartAt(t, "0.57.2")))
		if err != nil {
			t.Fatal(err)
		}
		rp := p.Report.Releases[0]
		if rp.Action != ActionUpgrade || rp.From != "0.57.1" || rp.To != "0.57.2" || rp.FromRevision != 1 || !p.Offline || !p.Runnable() {
			t.Fatalf("plan %+v offline=%v runnable=%v", rp, p.Offline, p.Runnable())
		}
		var kinds []string
		for _, s := range rp.Steps {
			kinds = append(kinds, s.Kind)
		}
		if got := strings.Join(kinds, ","); got != "backup,admission-jobs,helm,verify" {
			t.Errorf("steps %s", got)
		}
		if len(rp.ImageTags) != 4 || len(p.works[0].objects) != 4 {
			t.Errorf("tags %v objects %v", rp.ImageTags, p.works[0].objects)
		}
		in := p.PreflightInput()
		if len(in.Upgrades) != 1 || in.TargetVersion != "0.57.2" || !in.Offline || in.Recovering["workspace-1"] {
			t.Errorf("preflight input %+v", in)
		}
	})
	t.Run("a dry run renders the diff and is not runnable", func(t *testing.T) {
		f := newFleet(t)
		f.install(t, "0.57.1")
		cfg := testConfig(t, chartAt(t, "0.57.2"))
		cfg.DryRun = true
		p, err := Plan(context.Background(), f.deps(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if p.Report.Outcome != OutcomeDryRun || p.Runnable() || len(p.Report.Releases[0].Diff) == 0 {
			t.Fatalf("outcome %s diff %v", p.Report.Outcome, p.Report.Releases[0].Diff)
		}
		rep, err := Execute(context.Background(), f.deps(), p)
		if err != nil || rep.Outcome != OutcomeDryRun {
			t.Fatalf("Execute of a dry run: %v %s", err, rep.Outcome)
		}
		if last, _ := f.helm["workspace-1"].Last("skoala-init"); last.Revision != 1 {
			t.Errorf("a dry run changed the release: revision %d", last.Revision)
		}
	})
	t.Run("at the target version: up to date", func(t *testing.T) {
		f := newFleet(t)
		f.install(t, "0.57.2")
		p, err := Plan(context.Background(), f.deps(), testConfig(t, chartAt(t, "0.57.2")))
		if err != nil || p.Report.Outcome != OutcomeUpToDate || p.Runnable() {
			t.Fatalf("%v %+v", err, p.Report)
		}
	})
	t.Run("a missing context is a failure with kube's hint", func(t *testing.T) {
		f := newFleet(t)
		cfg := testConfig(t, chartAt(t, "0.57.2"))
		cfg.Targets[0].Context = "nope"
		_, err := Plan(context.Background(), f.deps(), cfg)
		if err == nil || !strings.Contains(err.Error(), "cluster nope:") || exit.CodeOf(err) != exit.Failure {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("--chart without the skoala chart the control plane needs", func(t *testing.T) {
		f := newFleet(t)
		cfg := testConfig(t, chartAt(t, "0.57.2"))
		cfg.Targets = append(cfg.Targets, fleet.Target{Context: "global", Role: fleet.RoleControlPlane, Release: "skoala"})
		_, err := Plan(context.Background(), f.deps(), cfg)
		if err == nil || !strings.Contains(err.Error(), "--chart gives no skoala chart") {
			t.Fatalf("err %v", err)
		}
	})
}

func TestTargetVersions(t *testing.T) {
	idx := &helmsdk.Index{Entries: map[string][]helmsdk.ChartVersion{ChartInit: {
		{Version: "0.58.0-rc.1"}, {Version: "0.57.2"}, {Version: "0.57.1"}, {Version: "0.56.3"}, {Version: "0.56.1"}}}}
	src := &sources{local: map[string]*helmsdk.Chart{}, repo: &helmsdk.Repository{Name: "skoala-release"}, idx: idx}
	cases := []struct {
		name    string
		cfg     Config
		from    string
		want    string
		wantErr string
	}{
		{"newest stable", Config{}, "0.56.1", "0.57.2", ""},
		{"--version", Config{Version: "v0.56.3"}, "0.56.1", "0.56.3", ""},
		{"--version the repository lacks", Config{Version: "0.55.0", Name: "kubectl skoala"}, "0.56.1", "", "has no skoala-init 0.55.0 (see 'kubectl skoala versions skoala-init')"},
		{"--to-latest-patch", Config{ToLatestPatch: true}, "0.56.1", "0.56.3", ""},
		{"--to-latest-patch of a minor the repository lacks", Config{ToLatestPatch: true}, "0.40.1", "", "no stable skoala-init of the installed minor 0.40.1"},
		{"--to-latest-patch of an install: newest", Config{ToLatestPatch: true}, "", "0.57.2", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := &work{plan: &ReleasePlan{Chart: ChartInit, From: c.from}}
			err := targetVersions(c.cfg, src, []*work{w})
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || w.plan.To != c.want {
				t.Fatalf("to %q err %v, want %q", w.plan.To, err, c.want)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	deployed := func(v string) *helmsdk.Release {
		return &helmsdk.Release{Revision: 3, Status: "deployed", ChartVersion: v}
	}
	pending := &helmsdk.Release{Revision: 4, Status: "pending-upgrade", ChartVersion: "0.57.1"}
	install := Config{Scope: Scope{Install: true}}
	set, err := helmsdk.LoadValues(helmsdk.ValueOptions{Values: []string{"a=1"}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		cfg      Config
		chart    string
		last     *helmsdk.Release
		deployed *helmsdk.Release
		reason   string // set by readRelease for a pending release
		from, to string
		want     string
		wantText string // in the reason or hint
	}{
		{"not installed, --install: install", install, ChartInit, nil, nil, "", "", "0.57.2", ActionInstall, ""},
		{"not installed, no --install: refused", Config{Name: "kubectl skoala"}, ChartInit, nil, nil, "", "", "0.57.2", ActionRefused, "run 'kubectl skoala upgrade --install' naming the cluster (-w ws"},
		{"not installed on a workspace --all-contexts found: skipped", Config{Scope: Scope{Install: true, AllContexts: true}}, ChartInit, nil, nil, "", "", "0.57.2", ActionSkipped, "--all-contexts upgrades only where it exists"},
		{"skoala not installed, no database: refused", install, ChartSkoala, nil, nil, "", "", "0.57.2", ActionRefused, "--db-dsn"},
		{"skoala not installed, database given: install", Config{Scope: Scope{Install: true}, DB: DB{DSN: "x"}}, ChartSkoala, nil, nil, "", "", "0.57.2", ActionInstall, ""},
		{"older: upgrade", Config{}, ChartInit, deployed("0.56.1"), nil, "", "0.56.1", "0.57.2", ActionUpgrade, ""},
		{"same version: up to date", Config{}, ChartInit, deployed("0.57.2"), nil, "", "0.57.2", "0.57.2", ActionUpToDate, ""},
		{"same version with --set: upgrade", Config{UserValues: set}, ChartInit, deployed("0.57.2"), nil, "", "0.57.2", "0.57.2", ActionUpgrade, ""},
		{"same version with --force: upgrade", Config{Force: true}, ChartInit, deployed("0.57.2"), nil, "", "0.57.2", "0.57.2", ActionUpgrade, ""},
		{"newer: refused downgrade", Config{}, ChartInit, deployed("0.58.0"), nil, "", "0.58.0", "0.57.2", ActionRefused, "does not downgrade"},
		{"newer with --force: upgrade", Config{Force: true}, ChartInit, deployed("0.58.0"), nil, "", "0.58.0", "0.57.2", ActionUpgrade, ""},
		{"pending, left by an interrupted upgrade: resume", Config{}, ChartInit, pending, deployed("0.57.1"), "", "0.57.1", "0.57.2", ActionResume, "it is marked failed, the release goes back to revision 3"},
		{"pending resume across a mandatory stop: refused", Config{}, ChartSkoala, pending, deployed("0.18.0"), "", "0.18.0", "0.57.2", ActionRefused, "mandatory stop"},
		{"pending, someone else's: refused with the rollback", Config{Name: "kubectl skoala"}, ChartInit, pending, deployed("0.57.1"), "revision 4 is pending-upgrade and no kubectl-skoala upgrade left it", "0.57.1", "0.57.2", ActionRefused, "rollback skoala-init 3"},
		{"crossing a mandatory stop: refused", Config{Name: "kubectl skoala"}, ChartSkoala, deployed("0.18.0"), nil, "", "0.18.0", "0.57.2", ActionRefused, "mandatory stop"},
		{"crossing a mandatory stop with --force: upgrade", Config{Force: true}, ChartSkoala, deployed("0.18.0"), nil, "", "0.18.0", "0.57.2", ActionUpgrade, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			role := fleet.RoleControlPlane
			if c.chart == ChartInit {
				role = fleet.RoleWorkspace
			}
			w := &work{last: c.last, deployed: c.deployed, plan: &ReleasePlan{Context: "ws", Role: role, Release: c.chart, Chart: c.chart, From: c.from, To: c.to, Reason: c.reason}}
			decide(c.cfg, w)
			if w.plan.Action != c.want {
				t.Fatalf("action %s, want %s (%s / %s)", w.plan.Action, c.want, w.plan.Reason, w.plan.Hint)
			}
			if c.wantText != "" && !strings.Contains(w.plan.Reason+" "+w.plan.Hint, c.wantText) {
				t.Errorf("reason %q hint %q lack %q", w.plan.Reason, w.plan.Hint, c.wantText)
			}
		})
	}
}

func TestPlanSteps(t *testing.T) {
	cfg := Config{Namespace: testNS, BackupDir: "/b", Timeout: 5 * time.Minute, Atomic: true, CleanupOnFail: true}
	t.Run("skoala-init across 0.35 and 0.52.1: jobs and CRDs, in order", func(t *testing.T) {
		w := &work{last: &helmsdk.Release{Revision: 2, Status: "deployed"}, plan: &ReleasePlan{Release: "skoala-init", Chart: ChartInit, From: "0.33.1", To: "0.57.2", Action: ActionUpgrade}}
		planSteps(cfg, w)
		var got []string
		for _, s := range w.plan.Steps {
			got = append(got, s.Kind+":"+strings.Join(s.Files, ","))
		}
		want := "backup:|admission-jobs:|crds:charts/contour-provisioner-prereq/crds/gateway-api.yaml|crds:charts/contour-provisioner/crds/contour.yaml|crds:charts/contour-provisioner/crds/higress.gen.yaml|helm:|verify:"
		if strings.Join(got, "|") != want {
			t.Errorf("steps\n%s\nwant\n%s", strings.Join(got, "|"), want)
		}
		if h := w.plan.Steps[len(w.plan.Steps)-2].Description; h != "helm upgrade skoala-init to skoala-init 0.57.2 (atomic, wait 5m0s, cleanup-on-fail)" {
			t.Errorf("helm step %q", h)
		}
	})
	t.Run("a resume marks the stale revision failed first; an install has no backup", func(t *testing.T) {
		w := &work{last: &helmsdk.Release{Revision: 4, Status: "pending-upgrade"}, plan: &ReleasePlan{Release: "skoala-init", Chart: ChartInit, From: "0.57.2", To: "0.57.2", Action: ActionResume}}
		planSteps(cfg, w)
		if w.plan.Steps[1].Kind != StepUnlock || !strings.Contains(w.plan.Steps[1].Description, "pending-upgrade revision 4") {
			t.Errorf("steps %+v", w.plan.Steps)
		}
		in := &work{plan: &ReleasePlan{Release: "skoala", Chart: ChartSkoala, To: "0.57.2", Action: ActionInstall}}
		planSteps(cfg, in)
		if in.plan.Steps[0].Kind != StepHelm || !strings.Contains(in.plan.Steps[0].Description, "creating namespace skoala-system") {
			t.Errorf("install steps %+v", in.plan.Steps)
		}
	})
	t.Run("the 0.19.0 migration is a manual step", func(t *testing.T) {
		w := &work{last: &helmsdk.Release{Revision: 1, Status: "deployed"}, plan: &ReleasePlan{Release: "skoala", Chart: ChartSkoala, From: "0.18.0", To: "0.19.2", Action: ActionUpgrade}}
		planSteps(cfg, w)
		if len(w.plan.Manual) != 1 || w.plan.Manual[0].Kind != "db-migration" || !w.plan.Manual[0].Mandatory {
			t.Errorf("manual %+v", w.plan.Manual)
		}
	})
}

func TestOutcomeAndPreflight(t *testing.T) {
	mk := func(cfg Config, actions ...string) *Planned {
		p := &Planned{Report: &Report{Outcome: OutcomePlanned}, cfg: cfg}
		for i, a := range actions {
			rp := ReleasePlan{Context: fmt.Sprint("c", i), Action: a}
			if a == ActionRefused {
				rp.Hint = "the hint of " + rp.Context
			}
			p.Report.Releases = append(p.Report.Releases, rp)
		}
		for i := range p.Report.Releases {
			p.works = append(p.works, &work{plan: &p.Report.Releases[i], target: fleet.Target{Context: p.Report.Releases[i].Context}})
		}
		p.decideOutcome()
		return p
	}
	t.Run("one refused release refuses the run, with its hint", func(t *testing.T) {
		p := mk(Config{}, ActionUpgrade, ActionRefused)
		if p.Report.Outcome != OutcomeRefused || p.Report.Hint != "the hint of c1" || p.Runnable() {
			t.Errorf("%+v", p.Report)
		}
	})
	t.Run("a dry run, nothing to do, something to do", func(t *testing.T) {
		if p := mk(Config{DryRun: true}, ActionUpgrade); p.Report.Outcome != OutcomeDryRun || p.Runnable() {
			t.Errorf("dry run %+v", p.Report)
		}
		if p := mk(Config{}, ActionUpToDate); p.Report.Outcome != OutcomeUpToDate || p.Runnable() {
			t.Errorf("up to date %+v", p.Report)
		}
		if p := mk(Config{}, ActionUpToDate, ActionInstall); p.Report.Outcome != OutcomePlanned || !p.Runnable() || p.Todo() != 1 {
			t.Errorf("planned %+v", p.Report)
		}
	})
	fail := &PreflightResult{Ran: true, Failed: true, Checks: []PreflightCheck{{Result: doctor.Result{ID: "x", Status: doctor.StatusFail}}}}
	t.Run("failed checks refuse the run", func(t *testing.T) {
		p := mk(Config{Name: "kubectl skoala"}, ActionUpgrade)
		p.SetPreflight(fail, nil)
		if p.Report.Outcome != OutcomeRefused || p.Runnable() || !strings.Contains(p.Report.Hint, "--force") {
			t.Errorf("%+v", p.Report)
		}
	})
	t.Run("failed checks with --force go on, marked forced", func(t *testing.T) {
		p := mk(Config{Force: true}, ActionUpgrade)
		pf := *fail
		p.SetPreflight(&pf, nil)
		if !p.Runnable() || !p.Report.Preflight.Forced {
			t.Errorf("%+v", p.Report)
		}
	})
	t.Run("checks that cannot run are a failure, their error scrubbed", func(t *testing.T) {
		p := mk(Config{}, ActionUpgrade)
		p.works[0].secrets = []string{"s3cret"}
		p.SetPreflight(nil, errors.New("dial s3cret: refused"))
		if p.Report.Outcome != OutcomeRefused || strings.Contains(p.Report.Preflight.Error, "s3cret") || !p.Report.Preflight.Failed {
			t.Errorf("%+v", p.Report.Preflight)
		}
	})
	t.Run("declined and unconfirmed plans are not runnable", func(t *testing.T) {
		p := mk(Config{}, ActionUpgrade)
		p.Cancel()
		q := mk(Config{}, ActionUpgrade)
		q.Unconfirmed()
		if p.Runnable() || q.Runnable() || p.Report.Outcome != OutcomeCancelled || q.Report.Outcome != OutcomePlanned {
			t.Errorf("%+v %+v", p.Report, q.Report)
		}
	})
}

func TestPreflightResultAdd(t *testing.T) {
	rep := &doctor.Report{Checks: []doctor.Result{
		{ID: doctor.IDWSRelease, Cluster: "ws1", Status: doctor.StatusFail, Message: "failed"},
		{ID: doctor.IDWSRelease, Cluster: "ws2", Status: doctor.StatusFail, Message: "failed", Hint: "h"},
		{ID: "x.y", Cluster: "", Status: doctor.StatusWarn, Message: "w"},
		{ID: "x.z", Cluster: "ws1", Status: doctor.StatusOK},
	}}
	res := &PreflightResult{Ran: true}
	res.add(rep, map[string]bool{"ws1": true})
	var got []string
	for _, c := range res.Checks {
		got = append(got, fmt.Sprintf("%s [%s] %s repaired=%v hint=%q", c.Status, c.Cluster, c.ID, c.Repaired, c.Hint))
	}
	want := []string{
		fmt.Sprintf("%s [ws1] %s repaired=true hint=\"\"", doctor.StatusFail, doctor.IDWSRelease),
		fmt.Sprintf("%s [ws2] %s repaired=false hint=\"h\"", doctor.StatusFail, doctor.IDWSRelease),
		fmt.Sprintf("%s [] x.y repaired=false hint=\"\"", doctor.StatusWarn),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") || !res.Failed {
		t.Errorf("got\n%s\nwant\n%s\nfailed %v", strings.Join(got, "\n"), strings.Join(want, "\n"), res.Failed)
	}
	only := &PreflightResult{Ran: true}
	only.add(&doctor.Report{Checks: rep.Checks[:1]}, map[string]bool{"ws1": true})
	if only.Failed {
		t.Errorf("a failure the upgrade repairs failed the checks")
	}
}
