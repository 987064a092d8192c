package change

import (
	"strings"
	"testing"
)

func crd(bundle string, stored []string, vers ...string) map[string]any {
	var vs []any
	for _, v := range vers {
		vs = append(vs, map[string]any{"name": v, "served": true, "storage": v == vers[len(vers)-1]})
	}
	obj := map[string]any{
		"kind":     "CustomResourceDefinition",
		"metadata": map[string]any{"name": "gateways.gateway.networking.k8s.io", "annotations": map[string]any{BundleVersionAnnotation: bundle}},
		"spec":     map[string]any{"versions": vs},
	}
	if stored != nil {
		var s []any
		for _, x := range stored {
			s = append(s, x)
		}
		obj["status"] = map[string]any{"storedVersions": s}
	}
	return obj
}

func TestCompareCRD(t *testing.T) {
	for _, c := range []struct {
		name       string
		live, mine map[string]any
		keep       bool
		says       string
	}{
		{"absent: applied", nil, crd("v1.0.0", nil, "v1"), false, ""},
		{"newer chart: applied", crd("v0.8.0", []string{"v1beta1"}, "v1beta1"), crd("v1.0.0", nil, "v1beta1", "v1"), false, ""},
		{"same: applied", crd("v1.0.0", []string{"v1"}, "v1"), crd("v1.0.0", nil, "v1"), false, ""},
		{"a newer live bundle is kept", crd("v1.2.0", []string{"v1"}, "v1"), crd("v1.0.0", nil, "v1"), true, "the live CRD is bundle v1.2.0, the chart's v1.0.0"},
		{"a stored version the chart drops is kept", crd("", []string{"v1alpha2", "v1"}, "v1alpha2", "v1"), crd("", nil, "v1"), true, "drop stored version v1alpha2"},
		{"a served version the chart drops is kept", crd("", []string{"v1"}, "v1beta1", "v1"), crd("", nil, "v1"), true, "stop serving v1beta1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := compareCRD(c.live, c.mine)
			if v.Keep != c.keep || !strings.Contains(v.Reason, c.says) {
				t.Errorf("got %+v, want keep=%v %q", v, c.keep, c.says)
			}
		})
	}
}
