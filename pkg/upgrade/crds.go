package upgrade

import (
	"context"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/skoala-dev/kubectl-skoala/pkg/semver"
)

// BundleVersionAnnotation is the Gateway API's release of a CRD.
const BundleVersionAnnotation = "gateway.networking.k8s.io/bundle-version"

// CRDVerdict is what the comparison of a chart's CRD with the live one found.
type CRDVerdict struct {
	Name string `json:"name"`
	// From and To are the bundle versions of the live and the chart's CRD ("" when not annotated).
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Keep is set when applying the chart's CRD would downgrade the live one or drop a version it stores or
	// serves: the live CRD is kept unless --force.
	Keep   bool   `json:"keep,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// compareCRD compares the chart's CRD with the live one (nil when absent): a lower bundle version, or a
// stored or served version the chart's CRD does not define, means the live one must be kept.
func compareCRD(live, chart map[string]any) CRDVerdict {
	v := CRDVerdict{Name: nestedString(chart, "metadata", "name")}
	if live == nil {
		return v
	}
	v.From = nestedString(live, "metadata", "annotations", BundleVersionAnnotation)
	v.To = nestedString(chart, "metadata", "annotations", BundleVersionAnnotation)
	var why []string
	if v.From != "" && v.To != "" && semver.Compare(v.To, v.From) < 0 {
		why = append(why, fmt.Sprintf("the live CRD is bundle %s, the chart's %s", v.From, v.To))
	}
	defined := map[string]bool{}
	for _, name := range crdVersions(chart, false) {
		defined[name] = true
	}
	var dropStored, dropServed []string
	stored, _, _ := unstructured.NestedStringSlice(live, "status", "storedVersions")
	for _, s := range stored {
		if !defined[s] {
			dropStored = append(dropStored, s)
		}
	}
	for _, s := range crdVersions(live, true) {
		if !defined[s] {
			dropServed = append(dropServed, s)
		}
	}
	sort.Strings(dropStored)
	sort.Strings(dropServed)
	if len(dropStored) > 0 {
		why = append(why, "it would drop stored version "+strings.Join(dropStored, ", "))
	}
	if len(dropServed) > 0 {
		why = append(why, "it would stop serving "+strings.Join(dropServed, ", "))
	}
	if len(why) > 0 {
		v.Keep = true
		v.Reason = strings.Join(why, "; ")
	}
	return v
}

// crdVersions lists the version names of a CRD (only the served ones when servedOnly).
func crdVersions(crd map[string]any, servedOnly bool) []string {
	list, _, _ := unstructured.NestedSlice(crd, "spec", "versions")
	var out []string
	for _, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			continue
		}
		if servedOnly {
			if served, _ := m["served"].(bool); !served {
				continue
			}
		}
		if n, _ := m["name"].(string); n != "" {
			out = append(out, n)
		}
	}
	return out
}

func nestedString(obj map[string]any, path ...string) string {
	s, _, _ := unstructured.NestedString(obj, path...)
	return s
}

// checkLiveCRD reads the live CRD of obj and compares: a verdict whose Keep is set (and force is not) means
// obj must not be applied.
func checkLiveCRD(ctx context.Context, dyn dynamic.Interface, obj map[string]any) (CRDVerdict, error) {
	name := nestedString(obj, "metadata", "name")
	live, err := dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return compareCRD(nil, obj), nil
	}
	if err != nil {
		return CRDVerdict{Name: name}, fmt.Errorf("reading CRD %s: %w", name, err)
	}
	return compareCRD(live.Object, obj), nil
}
