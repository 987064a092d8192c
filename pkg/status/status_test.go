package status

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/golden"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk/helmtest"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

const ns = "skoala-system"

// fakeSource serves fake clientsets by context; a context without one is unreachable.
type fakeSource map[string]*fake.Clientset

func (f fakeSource) Cluster(name string) (*kube.Cluster, error) {
	c, ok := f[name]
	if !ok {
		return &kube.Cluster{Context: name, Client: unreachableClient()}, nil
	}
	return &kube.Cluster{Context: name, Client: c}, nil
}

func unreachableClient() *fake.Clientset {
	c := fake.NewSimpleClientset()
	c.PrependReactor("*", "*", func(a k8stesting) (bool, runtime.Object, error) {
		return true, nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	})
	return c
}

func deployManifest(names ...string) string {
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "---\n# Source: x/templates/%s.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: %s\n", n, n)
	}
	return b.String()
}

func deployment(name, image string, sidecar bool, ready int32) (*appsv1.Deployment, *corev1.Pod) {
	one := int32(1)
	containers := []corev1.Container{{Name: name, Image: image}}
	if sidecar {
		containers = append(containers, corev1.Container{Name: "istio-proxy", Image: "release.daocloud.io/istio/proxyv2:1.20.0"})
	}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Generation: 1},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: containers}},
		},
		Status: appsv1.DeploymentStatus{ReadyReplicas: ready, UpdatedReplicas: 1, Replicas: 1, ObservedGeneration: 1},
	}
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-7d9f-abcde", Namespace: ns, Labels: map[string]string{"app": name}},
		Spec:       corev1.PodSpec{Containers: containers},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning},
	}
	for _, c := range containers {
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: c.Name, Ready: ready > 0, Image: c.Image})
	}
	return d, p
}

func controlPlane(version string, rev int) *fake.Clientset {
	var objs []runtime.Object
	for i := 1; i <= rev; i++ {
		st := "superseded"
		if i == rev {
			st = "deployed"
		}
		objs = append(objs, helmtest.Secret(helmtest.Spec{Name: "skoala", Namespace: ns, Revision: i, Status: st, Chart: "skoala", Version: version,
			Manifest: deployManifest("hive", "sesame", "skoala-ui")}))
	}
	for _, n := range []string{"hive", "sesame", "skoala-ui"} {
		d, p := deployment(n, "release.daocloud.io/skoala/"+n+":v"+version, true, 1)
		objs = append(objs, d, p)
	}
	return fake.NewSimpleClientset(objs...)
}

func workspace(version string, crash bool) *fake.Clientset {
	comps := []string{"skoala-agent", "nacos-operator", "sentinel-operator", "seata-operator", "contour-provisioner", "gateway-api-admission-server"}
	manifest := deployManifest(comps...) + "---\n# Source: x/templates/job.yaml\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: gateway-api-admission\n"
	objs := []runtime.Object{helmtest.Secret(helmtest.Spec{Name: "skoala-init", Namespace: ns, Revision: 1, Status: "deployed", Chart: "skoala-init", Version: version, Manifest: manifest})}
	for _, n := range comps {
		tag := "v" + version
		if n == "contour-provisioner" {
			tag = "v1.27.0"
		}
		d, p := deployment(n, "release.daocloud.io/skoala/"+n+":"+tag, false, 1)
		if crash && n == "nacos-operator" {
			d.Status.ReadyReplicas = 0
			p.Status.ContainerStatuses[0].Ready = false
			p.Status.ContainerStatuses[0].RestartCount = 7
			p.Status.ContainerStatuses[0].State.Waiting = &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}
			p.Status.ContainerStatuses[0].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{Reason: "Error", ExitCode: 1}
		}
		objs = append(objs, d, p)
	}
	one := int32(1)
	objs = append(objs, &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "gateway-api-admission", Namespace: ns},
		Spec: batchv1.JobSpec{Completions: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"job": "admission"}},
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "create", Image: "release.daocloud.io/skoala/kube-webhook-certgen:v" + version}}}}},
		Status: batchv1.JobStatus{Succeeded: 1, Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}},
	})
	return fake.NewSimpleClientset(objs...)
}

func testIndex(t *testing.T) *helmsdk.Index {
	t.Helper()
	var b strings.Builder
	b.WriteString("apiVersion: v1\nentries:\n")
	order := []string{"0.28.0", "0.28.1", "0.33.2", "0.34.0", "0.33.3", "0.57.2", "0.58.0-rc.1"}
	for _, chart := range []string{"skoala", "skoala-init"} {
		fmt.Fprintf(&b, "  %s:\n", chart)
		for i, v := range order {
			fmt.Fprintf(&b, "  - name: %s\n    version: %s\n    appVersion: %s\n    apiVersion: v2\n    created: \"2026-01-%02dT10:00:00Z\"\n    urls: [%s-%s.tgz]\n", chart, v, v, i+1, chart, v)
		}
	}
	b.WriteString("generated: \"2026-02-01T00:00:00Z\"\n")
	p := filepath.Join(t.TempDir(), "index.yaml")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	idx, err := helmsdk.LoadIndex(p)
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

func fleetReport(t *testing.T, exitOnUpgrade bool) *Report {
	src := fakeSource{
		"global":      controlPlane("0.28.1", 3),
		"workspace-1": workspace("0.28.0", false),
		"workspace-2": workspace("0.33.3", true),
	}
	targets := []fleet.Target{
		{Context: "global", Role: fleet.RoleControlPlane, Release: "skoala"},
		{Context: "workspace-1", Role: fleet.RoleWorkspace, Release: "skoala-init"},
		{Context: "workspace-2", Role: fleet.RoleWorkspace, Release: "skoala-init"},
		{Context: "workspace-3", Role: fleet.RoleWorkspace, Release: "skoala-init"},
	}
	rep := Gather(context.Background(), src, Config{
		Namespace: ns, Targets: targets, ClusterTimeout: 5 * time.Second, MaxConcurrency: 4,
		Index: testIndex(t), Repo: &Repository{Name: "skoala-release", URL: "http://127.0.0.1:27099", IndexTime: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)},
		ExitOnUpgrade: exitOnUpgrade, Name: "kubectl skoala",
	})
	return rep
}

func TestGatherReportsTheFleet(t *testing.T) {
	rep := fleetReport(t, false)
	if len(rep.Clusters) != 4 {
		t.Fatalf("got %d clusters", len(rep.Clusters))
	}
	g := rep.Clusters[0]
	if !g.Reachable || g.Releases[0].Version != "0.28.1" || g.Releases[0].Revision != 3 || g.Releases[0].Status != "deployed" {
		t.Fatalf("control plane: %+v", g)
	}
	r := g.Releases[0]
	if r.Latest != "0.57.2" || r.LatestPatch != "0.28.1" || !r.UpgradeAvailable {
		t.Errorf("versions: latest=%q patch=%q upgrade=%v", r.Latest, r.LatestPatch, r.UpgradeAvailable)
	}
	if len(r.Components) != 3 || r.Components[0].Containers != 2 || r.Components[0].ContainersReady != 2 || r.Components[0].TagMatch != "match" {
		t.Errorf("components: %+v", r.Components)
	}
	if s := rep.Clusters[1].Releases[0].Skew; s != "warning" {
		t.Errorf("workspace-1 skew = %q, want warning", s)
	}
	if s := rep.Clusters[2].Releases[0].Skew; s != "error" {
		t.Errorf("workspace-2 skew = %q, want error", s)
	}
	if lp := rep.Clusters[2].Releases[0].LatestPatch; lp != "0.33.3" {
		t.Errorf("workspace-2 latest patch = %q (semver, not index order)", lp)
	}
	if rep.Clusters[3].Reachable || !strings.Contains(rep.Clusters[3].Error, "connection refused") {
		t.Errorf("workspace-3: %+v", rep.Clusters[3])
	}
	if rep.Problems != 1 {
		t.Errorf("problems = %d, want 1 (the unreachable cluster)", rep.Problems)
	}
	if got := fleetReport(t, true).Problems; got != 4 {
		t.Errorf("with --exit-code problems = %d, want 4", got)
	}
}

func TestCrashLoopIsNamed(t *testing.T) {
	rep := fleetReport(t, false)
	var found bool
	for _, c := range rep.Clusters[2].Releases[0].Components {
		if c.Name == "nacos-operator" {
			found = true
			if c.State != "degraded" || c.Restarts != 7 || len(c.Problems) != 1 || !strings.Contains(c.Problems[0], "CrashLoopBackOff (last terminated: Error, exit code 1)") {
				t.Errorf("nacos-operator: %+v", c)
			}
		}
	}
	if !found {
		t.Fatal("nacos-operator not reported")
	}
}

func TestMissingReleaseAndOtherDriver(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "sh.helm.release.v1.skoala.v1", Namespace: ns, Labels: map[string]string{"owner": "helm", "name": "skoala", "status": "deployed", "version": "1"}}}
	src := fakeSource{"a": fake.NewSimpleClientset(), "b": fake.NewSimpleClientset(cm)}
	rep := Gather(context.Background(), src, Config{Namespace: ns, ClusterTimeout: time.Second, Targets: []fleet.Target{
		{Context: "a", Role: fleet.RoleControlPlane, Release: "skoala"}, {Context: "b", Role: fleet.RoleWorkspace, Release: "skoala"}}})
	a := rep.Clusters[0].Releases[0]
	if a.Status != StatusMissing || !strings.Contains(a.Hint, "helm upgrade --install skoala skoala-release/skoala") {
		t.Errorf("missing release: %+v", a)
	}
	rep = Gather(context.Background(), src, Config{Namespace: ns, ClusterTimeout: time.Second, Repo: &Repository{Name: "dce-skoala"}, Targets: []fleet.Target{
		{Context: "a", Role: fleet.RoleControlPlane, Release: "skoala"}}})
	if h := rep.Clusters[0].Releases[0].Hint; !strings.Contains(h, "helm upgrade --install skoala dce-skoala/skoala -n "+ns) || !strings.Contains(h, "--kube-context a") {
		t.Errorf("the install hint does not name the repository in effect: %s", h)
	}
	rep = Gather(context.Background(), src, Config{Namespace: ns, ClusterTimeout: time.Second, Targets: []fleet.Target{
		{Context: "a", Role: fleet.RoleControlPlane, Release: "skoala"}, {Context: "b", Role: fleet.RoleWorkspace, Release: "skoala"}}})
	b := rep.Clusters[1].Releases[0]
	if b.Status != StatusMissing || b.Hint != "set HELM_DRIVER=configmap" {
		t.Errorf("configmap release: %+v", b)
	}
	if rep.Problems != 2 {
		t.Errorf("problems = %d", rep.Problems)
	}
}

func TestCorruptReleaseSecret(t *testing.T) {
	for name, data := range map[string]string{"base64": "%%%not-base64", "gzip": "H4sIAAAA", "json": "eyJuYW1lIjo="} {
		t.Run("reports bad "+name, func(t *testing.T) {
			s := helmtest.Secret(helmtest.Spec{Name: "skoala", Namespace: ns, Revision: 1, Status: "deployed", Chart: "skoala", Version: "0.28.1"})
			s.Data["release"] = []byte(data)
			rep := Gather(context.Background(), fakeSource{"g": fake.NewSimpleClientset(s)}, Config{Namespace: ns, ClusterTimeout: time.Second,
				Targets: []fleet.Target{{Context: "g", Role: fleet.RoleControlPlane, Release: "skoala"}}})
			r := rep.Clusters[0].Releases[0]
			if !strings.Contains(r.Error, "corrupt") || !strings.Contains(r.Error, "bad "+strings.ToUpper(name[:1])) && !strings.Contains(strings.ToLower(r.Error), "bad "+name) {
				t.Errorf("error = %q", r.Error)
			}
			if rep.Problems != 1 {
				t.Errorf("problems = %d", rep.Problems)
			}
		})
	}
}

func TestLongHistoryReadsOneRevision(t *testing.T) {
	c := controlPlane("0.28.1", 200)
	rep := Gather(context.Background(), fakeSource{"g": c}, Config{Namespace: ns, ClusterTimeout: time.Second,
		Targets: []fleet.Target{{Context: "g", Role: fleet.RoleControlPlane, Release: "skoala"}}})
	if r := rep.Clusters[0].Releases[0]; r.Revision != 200 || r.Status != "deployed" {
		t.Fatalf("got revision %d %s", r.Revision, r.Status)
	}
	for _, a := range c.Actions() {
		if a.GetResource().Resource == "secrets" {
			if l, ok := a.(listAction); ok {
				if sel := l.GetListRestrictions().Labels.String(); !strings.Contains(sel, "status!=superseded") {
					t.Errorf("secrets listed without the status selector: %q", sel)
				}
			}
		}
	}
}

func TestGolden(t *testing.T) {
	rep := fleetReport(t, false)
	// A release DCE's kpanda manages too (a HelmApp of its name; read from the cluster in the e2e tests).
	for i := range rep.Clusters {
		if c := &rep.Clusters[i]; c.Role == fleet.RoleWorkspace && len(c.Releases) > 0 && c.Releases[0].Installed {
			c.Releases[0].HelmApp = c.Releases[0].Name
			break
		}
	}
	// The command's test (pkg/cmd/status) renders every view of this model.
	golden.AssertModel(t, "../cmd/status/testdata/status.json", rep)
}
