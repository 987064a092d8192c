package doctor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authv1 "k8s.io/api/authorization/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/dynamic"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/dsn"
	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk/helmtest"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

const ns = "skoala-system"

// testNow is the clock of every test; the cached index is an hour old.
var testNow = time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)

// TestPassword is the DSN password of the fixtures; no output may contain it.
const TestPassword = "S3cr3t-Pa55w0rd"

// fixture is a healthy fleet (control plane "global", workspace "workspace-1") that tests break one way.
type fixture struct {
	// imageCheck answers the repository.images check (Deps.ImageCheck)
	imageCheck   ImageCheckFunc
	cpRel, wsRel helmtest.Spec
	insight      *helmtest.Spec
	// objects per cluster, by "kind/name" so that tests can change them
	cp, ws  map[string]runtime.Object
	sms     []string // live ServiceMonitors on the workspace
	noSMAPI bool
	kube    string // server version
	denied  map[string]bool
	// rules is how rules reviews answer: "" grants what is not denied, "incomplete" says it is incomplete
	// (no rules), "names" grants only named objects, "error" fails the review.
	rules     string
	reviews   map[string]*int64 // "ssar@cluster", "ssrr@cluster": requests made
	reviewsMu sync.Mutex
	forbidden map[string]bool // "list secrets": the API answers 403 to the call itself
	down      map[string]bool
	db        *fakeDB
	cfg       Config
	repoVers  []string
	indexAge  time.Duration
	noRepo    bool
	repoName  string // "" = skoala-release
	manifest  string
}

func deployManifest(kinds map[string]string, order ...string) string {
	var b strings.Builder
	for _, n := range order {
		fmt.Fprintf(&b, "---\n# Source: x/templates/%s.yaml\napiVersion: v1\nkind: %s\nmetadata:\n  name: %s\n", n, kinds[n], n)
	}
	return b.String()
}

func deployment(name, image string, sidecar bool) (*appsv1.Deployment, *corev1.Pod) {
	one := int32(1)
	cs := []corev1.Container{{Name: name, Image: image}}
	if sidecar {
		reg := strings.SplitN(image, "/", 2)[0]
		cs = append(cs, corev1.Container{Name: "istio-proxy", Image: reg + "/istio/proxyv2:1.20.0"})
	}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Generation: 1},
		Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: cs}}},
		Status: appsv1.DeploymentStatus{ReadyReplicas: 1, UpdatedReplicas: 1, Replicas: 1, ObservedGeneration: 1},
	}
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name + "-6d4f-x1", Namespace: ns, Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{Containers: cs}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	for _, c := range cs {
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: c.Name, Ready: true, Image: c.Image})
	}
	return d, p
}

func job(name, image string) *batchv1.Job {
	one := int32(1)
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: batchv1.JobSpec{Completions: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"job": name}},
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "create", Image: image}}}}},
		Status: batchv1.JobStatus{Succeeded: 1, Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}},
	}
}

// kpandaJob is a kpanda Helm operation that is still running: a Job owned by the HelmApp app, as kpanda
// creates them (../shared/docs/dce-kpanda.md).
func kpandaJob(name, app string) *batchv1.Job {
	j := job(name, "kpanda/kpanda-shell")
	j.OwnerReferences = []metav1.OwnerReference{{APIVersion: "helm.kpanda.io/v1alpha1", Kind: "HelmApp", Name: app, UID: "1"}}
	j.Status = batchv1.JobStatus{Active: 1}
	return j
}

func namespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}
}

var wsComponents = []string{"skoala-agent", "nacos-operator", "sentinel-operator", "seata-operator", "contour-provisioner", "gateway-api-admission-server"}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	v := "0.28.1"
	dsnStr := "skoala:" + TestPassword + "@tcp(mcamel-common-mysql-cluster-mysql-master.mcamel-system.svc.cluster.local:3306)/skoala?charset=utf8&parseTime=true&loc=Local&timeout=10s"
	f := &fixture{
		kube: "v1.28.3", denied: map[string]bool{}, forbidden: map[string]bool{}, down: map[string]bool{},
		db:       &fakeDB{dbs: map[string]bool{"skoala": true}, cols: map[string][]string{}},
		repoVers: []string{"0.28.0", "0.28.1", "0.33.3", "0.34.0", "0.35.0", "0.57.2", "0.58.0-rc.1"},
		indexAge: time.Hour,
		sms:      []string{"skoala-agent", "nacos-operator"},
		cp:       map[string]runtime.Object{}, ws: map[string]runtime.Object{},
	}
	for t, cols := range SchemaTables {
		f.db.cols[t] = cols
	}
	cpKinds := map[string]string{"hive": "Deployment", "sesame": "Deployment", "skoala-ui": "Deployment"}
	f.cpRel = helmtest.Spec{Name: "skoala", Namespace: ns, Revision: 2, Status: "deployed", Chart: "skoala", Version: v,
		Values:      map[string]any{"hive": map[string]any{"configMap": map[string]any{"database": []any{map[string]any{"driver": "mysql", "dsn": dsnStr}}}}},
		ChartValues: map[string]any{"global": map[string]any{"imageRegistry": "release.daocloud.io"}},
		Manifest:    deployManifest(cpKinds, "hive", "sesame", "skoala-ui"),
		Deployed:    time.Date(2026, 10, 1, 10, 0, 0, 0, time.UTC)}
	f.cp["ns/"+ns] = namespace(ns)
	f.cp["ns/mcamel-system"] = namespace("mcamel-system")
	for _, n := range []string{"hive", "sesame", "skoala-ui"} {
		tag := "v" + v
		if n == "skoala-ui" {
			tag = "v0.19.0"
		}
		d, p := deployment(n, "release.daocloud.io/skoala/"+n+":"+tag, true)
		f.cp["deploy/"+n], f.cp["pod/"+n] = d, p
	}
	two := int32(2)
	f.cp["sts/mysql"] = &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: CommonMySQLStatefulSet, Namespace: "mcamel-system"},
		Spec: appsv1.StatefulSetSpec{Replicas: &two}, Status: appsv1.StatefulSetStatus{ReadyReplicas: 2}}

	wsKinds := map[string]string{"gateway-api-admission": "Job", "gateway-api-admission-patch": "Job", "skoala-agent-sm": "ServiceMonitor", "nacos-operator-sm": "ServiceMonitor"}
	order := append([]string{}, wsComponents...)
	for _, c := range wsComponents {
		wsKinds[c] = "Deployment"
	}
	order = append(order, "gateway-api-admission", "gateway-api-admission-patch")
	manifest := deployManifest(wsKinds, order...) +
		"---\n# Source: x/templates/sm.yaml\napiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: skoala-agent\n" +
		"---\n# Source: x/templates/sm2.yaml\napiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: nacos-operator\n"
	f.wsRel = helmtest.Spec{Name: "skoala-init", Namespace: ns, Revision: 1, Status: "deployed", Chart: "skoala-init", Version: v,
		ChartValues: map[string]any{"global": map[string]any{"imageRegistry": "release.daocloud.io"}},
		Manifest:    manifest, Deployed: time.Date(2026, 10, 1, 11, 0, 0, 0, time.UTC)}
	f.insight = &helmtest.Spec{Name: InsightAgentRelease, Namespace: "insight-system", Revision: 1, Status: "deployed", Chart: "insight-agent", Version: "1.0.0",
		Deployed: time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)}
	f.ws["ns/"+ns] = namespace(ns)
	f.ws["ns/insight-system"] = namespace("insight-system")
	f.ws["pod/insight-agent"] = &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "insight-agent-7c9-q2", Namespace: "insight-system"}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	for _, n := range wsComponents {
		d, p := deployment(n, "release.daocloud.io/skoala/"+n+":v"+v, false)
		f.ws["deploy/"+n], f.ws["pod/"+n] = d, p
	}
	f.ws["job/a"] = job("gateway-api-admission", "release.daocloud.io/skoala/kube-webhook-certgen:v"+v)
	f.ws["job/b"] = job("gateway-api-admission-patch", "release.daocloud.io/skoala/kube-webhook-certgen:v"+v)
	f.cfg = Config{Namespace: ns, Targets: fleet.Of("global", "workspace-1"), DB: true,
		Timeout: 20 * time.Second, CheckTimeout: 5 * time.Second, Name: "kubectl skoala"}
	return f
}

// fakeDB is a database in memory.
type fakeDB struct {
	dbs     map[string]bool
	cols    map[string][]string
	openErr error
	hang    bool // DatabaseExists never answers (and ignores its context, as a stuck driver would)
}

func (d *fakeDB) DatabaseExists(_ context.Context, n string) (bool, error) {
	if d.hang {
		time.Sleep(10 * time.Second)
	}
	return d.dbs[n], nil
}
func (d *fakeDB) Columns(_ context.Context, db string, _ []string) (map[string][]string, error) {
	if !d.dbs[db] {
		return map[string][]string{}, nil
	}
	return d.cols, nil
}
func (d *fakeDB) Close() error { return nil }

type fakeSource map[string]*fake.Clientset

func (f fakeSource) Cluster(name string) (*kube.Cluster, error) {
	c, ok := f[name]
	if !ok {
		return nil, &kube.UnknownContextError{Context: name}
	}
	return &kube.Cluster{Context: name, Client: c}, nil
}

// counter is the request counter of key, made on first use.
func (f *fixture) counter(key string) *int64 {
	f.reviewsMu.Lock()
	defer f.reviewsMu.Unlock()
	if f.reviews == nil {
		f.reviews = map[string]*int64{}
	}
	if f.reviews[key] == nil {
		f.reviews[key] = new(int64)
	}
	return f.reviews[key]
}

func (f *fixture) client(name string, objs map[string]runtime.Object, rels []helmtest.Spec, down bool) *fake.Clientset {
	var list []runtime.Object
	for _, o := range objs {
		list = append(list, o)
	}
	for _, r := range rels {
		list = append(list, helmtest.Secret(r))
	}
	c := fake.NewSimpleClientset(list...)
	c.Discovery().(*fakediscovery.FakeDiscovery).FakedServerVersion = &version.Info{GitVersion: f.kube, Major: "1"}
	if down {
		c.PrependReactor("*", "*", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
		})
		c.Discovery().(*fakediscovery.FakeDiscovery).FakedServerVersion = nil
		c.Discovery().(*fakediscovery.FakeDiscovery).Fake.PrependReactor("*", "*", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
		})
	}
	c.PrependReactor("*", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		atomic.AddInt64(f.counter(a.GetVerb()+" "+a.GetResource().Resource+"@"+name), 1)
		return false, nil, nil // counted, then answered by the reactors below
	})
	c.PrependReactor("create", "selfsubjectrulesreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		atomic.AddInt64(f.counter("ssrr@"+name), 1)
		rev := a.(k8stesting.CreateAction).GetObject().(*authv1.SelfSubjectRulesReview)
		switch f.rules {
		case "error":
			return true, nil, errors.New("the server could not find the requested resource")
		case "incomplete":
			rev.Status.Incomplete = true
			return true, rev, nil
		}
		for _, role := range []string{RoleControlPlane, RoleWorkspace} {
			d, u := needed(role, ModePreInstall)
			for _, acc := range append(d, u...) {
				if f.denied[acc.Verb+" "+acc.Resource] {
					continue
				}
				r := authv1.ResourceRule{Verbs: []string{acc.Verb}, APIGroups: []string{acc.Group}, Resources: []string{acc.Resource}}
				if f.rules == "names" {
					r.ResourceNames = []string{"skoala"}
				}
				rev.Status.ResourceRules = append(rev.Status.ResourceRules, r)
			}
		}
		return true, rev, nil
	})
	c.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		atomic.AddInt64(f.counter("ssar@"+name), 1)
		rev := a.(k8stesting.CreateAction).GetObject().(*authv1.SelfSubjectAccessReview)
		at := rev.Spec.ResourceAttributes
		key := at.Verb + " " + at.Resource
		rev.Status.Allowed = !f.denied[key] && (at.Name == "" || !f.denied[key+"/"+at.Name])
		return true, rev, nil
	})
	for key := range f.forbidden {
		verb, res, _ := strings.Cut(key, " ")
		c.PrependReactor(verb, res, func(a k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: res}, "", errors.New("RBAC"))
		})
	}
	return c
}

var smGVR = schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "servicemonitors"}

func (f *fixture) dynamicClient() dynamic.Interface {
	var objs []runtime.Object
	for _, n := range f.sms {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("monitoring.coreos.com/v1")
		u.SetKind("ServiceMonitor")
		u.SetName(n)
		u.SetNamespace(ns)
		objs = append(objs, u)
	}
	d := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{smGVR: "ServiceMonitorList"}, objs...)
	if f.noSMAPI {
		d.PrependReactor("list", "servicemonitors", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewNotFound(smGVR.GroupResource(), "")
		})
	}
	return d
}

// repoEnv writes repositories.yaml and a cached index of f.repoVers.
func (f *fixture) repoEnv(t *testing.T) helmsdk.Env {
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	_ = os.MkdirAll(cache, 0o755)
	cfg := filepath.Join(dir, "repositories.yaml")
	if f.noRepo {
		return helmsdk.Env{RepositoryConfig: cfg, RepositoryCache: cache}
	}
	name, url := f.repoName, "http://127.0.0.1:27099"
	if name == "" {
		name = "skoala-release"
	} else {
		url += "/chartrepo/skoala" // an offline mirror's path: found by URL
	}
	_ = os.WriteFile(cfg, []byte("apiVersion: v1\nrepositories:\n- name: "+name+"\n  url: "+url+"\n"), 0o644)
	var b strings.Builder
	b.WriteString("apiVersion: v1\nentries:\n")
	for _, chart := range []string{"skoala", "skoala-init"} {
		fmt.Fprintf(&b, "  %s:\n", chart)
		for _, v := range f.repoVers {
			fmt.Fprintf(&b, "  - name: %s\n    version: %s\n    appVersion: %s\n    apiVersion: v2\n    urls: [%s-%s.tgz]\n", chart, v, v, chart, v)
		}
	}
	idx := filepath.Join(cache, name+"-index.yaml")
	_ = os.WriteFile(idx, []byte(b.String()), 0o644)
	mt := testNow.Add(-f.indexAge)
	_ = os.Chtimes(idx, mt, mt)
	return helmsdk.Env{RepositoryConfig: cfg, RepositoryCache: cache}
}

func (f *fixture) run(t *testing.T) *Report {
	t.Helper()
	src := fakeSource{}
	for _, tg := range f.cfg.Targets {
		switch {
		case tg.Context == "global":
			src[tg.Context] = f.client(tg.Context, f.cp, []helmtest.Spec{f.cpRel}, f.down[tg.Context])
		case strings.HasPrefix(tg.Context, "workspace"):
			rels := []helmtest.Spec{f.wsRel}
			if f.wsRel.Name == "" {
				rels = nil
			}
			if f.insight != nil {
				rels = append(rels, *f.insight)
			}
			src[tg.Context] = f.client(tg.Context, f.ws, rels, f.down[tg.Context])
		}
	}
	if f.cpRel.Name == "" {
		src["global"] = f.client("global", f.cp, nil, f.down["global"])
	}
	cfg := f.cfg
	cfg.Manifest = f.manifest
	rep, err := Run(context.Background(), Deps{
		Clusters: src, Helm: f.repoEnv(t), Now: func() time.Time { return testNow },
		OpenDB: func(ctx context.Context, d *dsn.DSN, _ time.Duration) (DB, error) {
			if f.db.openErr != nil {
				return nil, f.db.openErr
			}
			return f.db, nil
		},
		Dynamic:    func(string) dynamic.Interface { return f.dynamicClient() },
		ImageCheck: f.imageCheck,
	}, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func get(t *testing.T, rep *Report, id, cluster string) Result {
	t.Helper()
	r, ok := rep.Get(id, cluster)
	if !ok {
		var ids []string
		for _, c := range rep.Checks {
			ids = append(ids, c.ID+"@"+c.Cluster)
		}
		t.Fatalf("no result for %s on %q; have %v", id, cluster, ids)
	}
	return r
}
