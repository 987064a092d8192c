package change

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynfake "k8s.io/client-go/dynamic/fake"
	"sigs.k8s.io/yaml"
)

func TestCRDDiff(t *testing.T) {
	live := crd("v1.0.0", []string{"v1"}, "v1")
	live["metadata"].(map[string]any)["resourceVersion"] = "42"
	after := crd("v1.1.0", nil, "v1")
	d := crdDiff("gateways.gateway.networking.k8s.io", live, after)
	if d.Change != "changed" || !strings.Contains(d.Diff, "-    gateway.networking.k8s.io/bundle-version: v1.0.0") ||
		!strings.Contains(d.Diff, "+    gateway.networking.k8s.io/bundle-version: v1.1.0") {
		t.Errorf("diff:\n%+v", d)
	}
	if strings.Contains(d.Diff, "resourceVersion") || strings.Contains(d.Diff, "storedVersions") {
		t.Errorf("the server's own fields are in the diff:\n%s", d.Diff)
	}
	if d := crdDiff("x", crd("v1.1.0", nil, "v1"), crd("v1.1.0", []string{"v1"}, "v1")); d.Change != "unchanged" || d.Diff != "" {
		t.Errorf("only status differs: %+v", d)
	}
	if d := crdDiff("x", nil, after); d.Change != "added" || !strings.Contains(d.Diff, "+kind: CustomResourceDefinition") {
		t.Errorf("new CRD: %+v", d)
	}
}

// A CRD the chart would downgrade is shown as kept, with a warning, and never sent (not even as a dry run).
func TestCRDDryRunKeepsANewerLiveCRD(t *testing.T) {
	live := &unstructured.Unstructured{Object: crd("v1.2.0", []string{"v1"}, "v1")}
	live.SetAPIVersion("apiextensions.k8s.io/v1")
	dyn := dynfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{crdGVR: "CustomResourceDefinitionList"}, live)
	chart := crd("v1.0.0", nil, "v1")
	chart["apiVersion"] = "apiextensions.k8s.io/v1"
	b, _ := yaml.Marshal(chart)
	diffs, warnings, err := CRDDryRun(context.Background(), dyn, [][]byte{b}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) != 1 || diffs[0].Change != "kept" || len(warnings) != 1 ||
		!strings.Contains(warnings[0], "CRD gateways.gateway.networking.k8s.io is kept: the live CRD is bundle v1.2.0, the chart's v1.0.0 (give --force") {
		t.Errorf("diffs %+v, warnings %q", diffs, warnings)
	}
	for _, a := range dyn.Actions() {
		if a.GetVerb() == "patch" {
			t.Errorf("a kept CRD was sent: %v", a)
		}
	}
}

func TestNotRolledBack(t *testing.T) {
	for _, c := range []struct {
		done []string
		want string
	}{
		{[]string{StepHelm}, ""},
		{[]string{StepJobs, StepCRDs + ":charts/contour-provisioner-prereq/crds/gateway-api.yaml"},
			"not rolled back: the CRDs it applied (charts/contour-provisioner-prereq/crds/gateway-api.yaml) stay as applied; the admission Jobs it deleted stay deleted (the next upgrade creates them)"},
		{[]string{StepJobs}, "not rolled back: the admission Jobs it deleted stay deleted (the next upgrade creates them)"},
	} {
		if got := notRolledBack(c.done); got != c.want {
			t.Errorf("notRolledBack(%q) = %q, want %q", c.done, got, c.want)
		}
	}
}
