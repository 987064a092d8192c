package cmd

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk/helmtest"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

// verifyFleet is a control plane whose release installed the ConfigMap hive-extra (level: info), which
// someone edited by hand (level: debug); live is what its dynamic client reads.
func verifyFleet(level string) (*fakeClusters, func(*kube.Cluster) (dynamic.Interface, meta.RESTMapper, error)) {
	manifest := "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hive-extra\n  namespace: skoala-system\ndata:\n  level: info\n"
	rel := helmtest.Secret(helmtest.Spec{Name: "skoala", Namespace: ns, Revision: 2, Status: "deployed", Chart: "skoala", Version: "0.28.1", Manifest: manifest})
	f := &fakeClusters{current: "global", clusters: map[string]*kube.Cluster{"global": cluster("global", rel)}}
	live := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "hive-extra", "namespace": ns}, "data": map[string]any{"level": level}}}
	m := meta.NewDefaultRESTMapper(nil)
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, meta.RESTScopeNamespace)
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "Pod"}, meta.RESTScopeNamespace)
	return f, func(*kube.Cluster) (dynamic.Interface, meta.RESTMapper, error) {
		d := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(k8sruntime.NewScheme(), map[schema.GroupVersionResource]string{
			{Version: "v1", Resource: "configmaps"}: "ConfigMapList",
			{Version: "v1", Resource: "pods"}:       "PodList",
		}, live)
		return d, m, nil
	}
}

func TestVerify(t *testing.T) {
	var cases []cmdTestCase
	for _, o := range []string{"table", "json", "yaml"} {
		f, dyn := verifyFleet("debug")
		cases = append(cases, cmdTestCase{name: "verify -o " + o, args: []string{"verify", "-o", o}, golden: "verify-" + o, code: 3, clusters: f, dynamic: dyn})
	}
	clean, dyn := verifyFleet("info")
	edited, dyn2 := verifyFleet("debug")
	cases = append(cases,
		cmdTestCase{name: "verify of a release as installed exits 0", args: []string{"verify"}, golden: "verify-clean", clusters: clean, dynamic: dyn},
		cmdTestCase{name: "verify --ignore leaves the field out", args: []string{"verify", "--ignore", "ConfigMap/hive-extra:/data/level"}, golden: "verify-ignore", clusters: edited, dynamic: dyn2},
		cmdTestCase{name: "a bad --ignore is a usage error", args: []string{"verify", "--ignore", "spec/replicas"}, golden: "verify-bad-ignore", code: 2},
	)
	runCmdTests(t, cases)
}
