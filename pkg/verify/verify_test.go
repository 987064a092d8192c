package verify

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"

	"github.com/skoala-dev/kubectl-skoala/pkg/encode"
	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/golden"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk/helmtest"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

const ns = "skoala-system"

const manifest = `---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hive
  namespace: skoala-system
spec:
  replicas: 1
  selector:
    matchLabels: {app: hive}
  template:
    metadata:
      labels: {app: hive}
    spec:
      containers:
      - name: hive
        image: release.daocloud.io/skoala/hive:v0.28.1
        resources:
          requests: {cpu: 0.5, memory: 32Mi}
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Secret
metadata:
  name: hive-config
stringData:
  config.yaml: "database: []"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: hive-extra
data:
  level: info
  mode: fast
---
apiVersion: v1
kind: Service
metadata:
  name: hive
spec:
  ports:
  - port: 80
`

func obj(y string) *unstructured.Unstructured {
	var m map[string]any
	if err := yaml.Unmarshal([]byte(y), &m); err != nil {
		panic(err)
	}
	return &unstructured.Unstructured{Object: m}
}

// liveObjects are hive as it runs after an incident: another image and 3 replicas (an HPA scales it), the
// Secret and the ConfigMap edited by hand, the Service deleted, and a ConfigMap of the release left behind.
func liveObjects() []k8sruntime.Object {
	helm := "  labels: {app.kubernetes.io/managed-by: Helm}\n  annotations: {meta.helm.sh/release-name: skoala, meta.helm.sh/release-namespace: skoala-system}\n"
	return []k8sruntime.Object{
		obj("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: hive\n  namespace: skoala-system\n  managedFields: [{manager: kubectl}]\n" + helm +
			"spec:\n  replicas: 3\n  revisionHistoryLimit: 10\n  selector:\n    matchLabels: {app: hive}\n  template:\n    metadata:\n      labels: {app: hive}\n    spec:\n      containers:\n" +
			"      - name: hive\n        image: release.daocloud.io/skoala/hive:hotfix\n        imagePullPolicy: IfNotPresent\n        resources:\n          requests: {cpu: 500m, memory: 32Mi}\n        ports:\n        - containerPort: 8080\n          protocol: TCP\nstatus: {replicas: 3}\n"),
		obj("apiVersion: v1\nkind: Secret\nmetadata:\n  name: hive-config\n  namespace: skoala-system\n" + helm + "data:\n  config.yaml: ZGF0YWJhc2U6IFtzZWNyZXRd\n"),
		obj("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hive-extra\n  namespace: skoala-system\n" + helm + "data:\n  level: debug\n  mode: fast\n"),
		obj("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hive-old\n  namespace: skoala-system\n" + helm + "data: {a: b}\n"),
		obj("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: someone-else\n  namespace: skoala-system\n  labels: {app.kubernetes.io/managed-by: Helm}\n  annotations: {meta.helm.sh/release-name: other}\n"),
		obj("apiVersion: v1\nkind: Pod\nmetadata:\n  name: hive-1\n  namespace: skoala-system\n  labels: {app: hive}\nstatus:\n  containerStatuses:\n  - name: hive\n    imageID: release.daocloud.io/skoala/hive@sha256:1111111111111111111111111111111111111111111111111111111111111111\n"),
	}
}

func mapper() meta.RESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	for _, k := range []struct {
		gv   schema.GroupVersion
		kind string
		ns   bool
	}{
		{schema.GroupVersion{Group: "apps", Version: "v1"}, "Deployment", true},
		{schema.GroupVersion{Version: "v1"}, "Secret", true},
		{schema.GroupVersion{Version: "v1"}, "ConfigMap", true},
		{schema.GroupVersion{Version: "v1"}, "Service", true},
		{schema.GroupVersion{Version: "v1"}, "Pod", true},
		{schema.GroupVersion{Group: "apiextensions.k8s.io", Version: "v1"}, "CustomResourceDefinition", false},
	} {
		scope := meta.RESTScopeRoot
		if k.ns {
			scope = meta.RESTScopeNamespace
		}
		m.Add(k.gv.WithKind(k.kind), scope)
	}
	return m
}

func dynamicClient(objs ...k8sruntime.Object) *dynamicfake.FakeDynamicClient {
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(k8sruntime.NewScheme(), map[schema.GroupVersionResource]string{
		{Group: "apps", Version: "v1", Resource: "deployments"}:                               "DeploymentList",
		{Version: "v1", Resource: "secrets"}:                                                  "SecretList",
		{Version: "v1", Resource: "configmaps"}:                                               "ConfigMapList",
		{Version: "v1", Resource: "services"}:                                                 "ServiceList",
		{Version: "v1", Resource: "pods"}:                                                     "PodList",
		{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}: "CustomResourceDefinitionList",
	}, objs...)
}

type clusters map[string]*kube.Cluster

func (c clusters) Cluster(name string) (*kube.Cluster, error) { return c[name], nil }

func driftConfig(dyn *dynamicfake.FakeDynamicClient) (Config, clusters) {
	rel := helmtest.Secret(helmtest.Spec{Name: "skoala", Namespace: ns, Revision: 2, Status: "deployed", Chart: "skoala", Version: "0.28.1", Manifest: manifest})
	hpa := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "hive", Namespace: ns},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "hive", APIVersion: "apps/v1"}}}
	cs := clusters{"global": {Context: "global", Client: fake.NewSimpleClientset(rel, hpa)}}
	cfg := Config{Namespace: ns, Targets: fleet.Of("global"), ClusterTimeout: 10 * time.Second, Name: "kubectl skoala",
		Readers: func(*kube.Cluster) (Reader, error) { return &DynamicReader{Dynamic: dyn, Mapper: mapper()}, nil },
		Images: &ImageConfig{
			Digest: func(_ context.Context, ref string) (string, error) {
				return "sha256:2222222222222222222222222222222222222222222222222222222222222222", nil
			},
			Pushed: map[string]string{"release.daocloud.io/skoala/hive:hotfix": "sha256:1111111111111111111111111111111111111111111111111111111111111111"},
		},
		Provenance: func(context.Context, string, string) Provenance {
			return Provenance{State: ProvenanceUnsigned, Detail: "the repository has no .prov file for skoala 0.28.1"}
		},
	}
	return cfg, cs
}

func TestGatherReportsDriftWithPathsAndValues(t *testing.T) {
	cfg, cs := driftConfig(dynamicClient(liveObjects()...))
	rep := Gather(context.Background(), cs, cfg)
	rel := rep.Clusters[0].Releases[0]
	var got []string
	for _, d := range rel.Drift {
		for _, f := range d.Fields {
			got = append(got, d.String()+" "+f.Path+" "+f.Chart+" -> "+f.Live)
		}
	}
	want := []string{
		"Deployment/hive /spec/template/spec/containers/0/image release.daocloud.io/skoala/hive:v0.28.1 -> release.daocloud.io/skoala/hive:hotfix",
		"Secret/hive-config /stringData/config.yaml  -> ",
		"ConfigMap/hive-extra /data/level info -> debug",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("drift:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(rel.Missing) != 1 || rel.Missing[0].String() != "Service/hive" {
		t.Errorf("missing %v, want Service/hive", rel.Missing)
	}
	if len(rel.NotInManifest) != 1 || rel.NotInManifest[0].String() != "ConfigMap/hive-old" {
		t.Errorf("not in manifest %v, want ConfigMap/hive-old only (someone-else is another release's)", rel.NotInManifest)
	}
	if rep.Differences != 5 { // 3 fields, 1 missing, 1 unmanaged (hive's image is one of the fields)
		t.Errorf("differences %d, want 5", rep.Differences)
	}
	var b bytes.Buffer
	_ = encode.JSON(&b, rep)
	if strings.Contains(b.String(), "secret]") || strings.Contains(b.String(), "ZGF0YWJhc2U6IFtzZWNyZXRd") {
		t.Errorf("a Secret value leaked into the report:\n%s", b.String())
	}
}

func TestReplicasAreDriftWithoutAnHPA(t *testing.T) {
	cfg, cs := driftConfig(dynamicClient(liveObjects()...))
	cs["global"].Client = fake.NewSimpleClientset(helmtest.Secret(helmtest.Spec{Name: "skoala", Namespace: ns, Revision: 2, Status: "deployed", Chart: "skoala", Version: "0.28.1", Manifest: manifest}))
	rep := Gather(context.Background(), cs, cfg)
	found := false
	for _, d := range rep.Clusters[0].Releases[0].Drift {
		for _, f := range d.Fields {
			if f.Path == "/spec/replicas" && f.Chart == "1" && f.Live == "3" {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("without an HPA, replicas 1 -> 3 is drift: %+v", rep.Clusters[0].Releases[0].Drift)
	}
}

func TestIgnoreLeavesFieldsOut(t *testing.T) {
	cfg, cs := driftConfig(dynamicClient(liveObjects()...))
	for _, s := range []string{"ConfigMap/hive-extra:/data/level", "/spec/template/spec/containers"} {
		ig, err := ParseIgnore(s)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Ignore = append(cfg.Ignore, ig)
	}
	rep := Gather(context.Background(), cs, cfg)
	for _, d := range rep.Clusters[0].Releases[0].Drift {
		if d.Kind != "Secret" {
			t.Errorf("ignored, still reported: %+v", d)
		}
	}
}

func TestParseIgnore(t *testing.T) {
	for in, want := range map[string]string{"/spec/replicas": "", "spec/replicas": "want a JSON pointer", "hive:/x": "KIND/NAME", "Deployment/hive:/spec/replicas": ""} {
		_, err := ParseIgnore(in)
		if (err == nil) != (want == "") || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("ParseIgnore(%q) = %v, want %q", in, err, want)
		}
	}
}

func TestDiffObjectNormalizes(t *testing.T) {
	chart := map[string]any{"spec": map[string]any{"cpu": 0.5, "n": float64(3), "off": false, "empty": map[string]any{}, "list": []any{"a", "b"}}}
	live := map[string]any{"spec": map[string]any{"cpu": "500m", "n": int64(3), "list": []any{"a", "b"}, "extra": "server default"}}
	if f := diffObject(chart, live, nil); len(f) != 0 {
		t.Errorf("want no drift, got %+v", f)
	}
	live["spec"].(map[string]any)["list"] = []any{"b", "a"}
	if f := diffObject(chart, live, nil); len(f) != 1 || f[0].Path != "/spec/list" {
		t.Errorf("want /spec/list, got %+v", f)
	}
}

func TestCompareCRD(t *testing.T) {
	chart := obj("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gateways.x\n  annotations: {gateway.networking.k8s.io/bundle-version: v1.1.0}\nspec:\n  scope: Namespaced\n  versions:\n  - {name: v1, served: true, storage: true}\n").Object
	for name, tc := range map[string]struct{ live, state string }{
		"same":    {"  annotations: {gateway.networking.k8s.io/bundle-version: v1.1.0}\nspec:\n  scope: Namespaced\n  versions:\n  - {name: v1, served: true, storage: true}\n", CRDSame},
		"older":   {"  annotations: {gateway.networking.k8s.io/bundle-version: v1.0.0}\nspec:\n  scope: Namespaced\n  versions:\n  - {name: v1, served: true, storage: true}\n", CRDLiveOlder},
		"newer":   {"  annotations: {gateway.networking.k8s.io/bundle-version: v1.1.0}\nspec:\n  scope: Namespaced\n  versions:\n  - {name: v1, served: true, storage: true}\n  - {name: v2, served: true, storage: false}\n", CRDLiveNewer},
		"changed": {"  annotations: {gateway.networking.k8s.io/bundle-version: v1.1.0}\nspec:\n  scope: Namespaced\n  versions:\n  - {name: v1, served: false, storage: true}\n", CRDChanged},
	} {
		live := obj("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gateways.x\n" + tc.live).Object
		if got := compareCRD("crds/gw.yaml", "gateways.x", chart, live); got.State != tc.state {
			t.Errorf("%s: state %s (%s), want %s", name, got.State, got.Detail, tc.state)
		}
	}
}

// TestGolden pins the report the verify command's test (pkg/cmd/verify) renders every view of.
func TestGolden(t *testing.T) {
	crd := obj("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gateways.x\nspec:\n  scope: Namespaced\n  versions:\n  - {name: v1, served: false, storage: true}\n")
	cfg, cs := driftConfig(dynamicClient(append(liveObjects(), crd)...))
	cs["workspace-1"] = &kube.Cluster{Context: "workspace-1", Client: fake.NewSimpleClientset()}
	cfg.Targets = fleet.Of("global", "workspace-1")
	rep := Gather(context.Background(), cs, cfg)
	rep.Clusters[0].Releases[0].CRDs = []CRD{compareCRD("charts/gw/crds/gw.yaml", "gateways.x",
		obj("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gateways.x\nspec:\n  versions:\n  - {name: v1, served: true, storage: true}\n").Object, crd.Object)}
	rep.Clusters[0].Releases[0].Size = SizeOf("secret/sh.helm.release.v1.skoala.v2", 2, 996147)
	rep.Differences++
	golden.AssertModel(t, "../cmd/verify/testdata/verify.json", rep)
}

func TestImagesReportATagPushedAgain(t *testing.T) {
	objs := liveObjects()
	dep := objs[0].(*unstructured.Unstructured)
	c := dep.Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	c["image"] = "release.daocloud.io/skoala/hive:v0.28.1"
	cfg, cs := driftConfig(dynamicClient(objs...))
	const pushed, now = "sha256:1111111111111111111111111111111111111111111111111111111111111111", "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	cfg.Images.Pushed = map[string]string{"release.daocloud.io/skoala/hive:v0.28.1": pushed}
	rep := Gather(context.Background(), cs, cfg)
	ims := rep.Clusters[0].Releases[0].Images
	if len(ims) != 1 || ims[0].State != ImageTagMoved || ims[0].PushedDigest != pushed || ims[0].RegistryDigest != now {
		t.Fatalf("images %+v, want hive's tag reported as pushed again", ims)
	}
	cfg.Images.Pushed = nil
	rep = Gather(context.Background(), cs, cfg)
	if ims := rep.Clusters[0].Releases[0].Images; len(ims) != 1 || ims[0].State != ImageDigestDiffers {
		t.Fatalf("images %+v, want the pods' digest reported as not the registry's", ims)
	}
}
