package change

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

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

// crdDryRun is what applying the CRD files would change, found by a server-side dry run of the very apply
// (issue 12 §4): one FileDiff per CRD, from the live object to the one the API server would store, and a
// warning for each CRD that would be kept (a downgrade or a dropped version, without force).
func CRDDryRun(ctx context.Context, dyn dynamic.Interface, files [][]byte, force bool) (diffs []FileDiff, warnings []string, err error) {
	for _, data := range files {
		for _, doc := range bytes.Split(append([]byte("\n"), data...), []byte("\n---")) {
			var obj map[string]any
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			if err := yaml.Unmarshal(doc, &obj); err != nil {
				return diffs, warnings, fmt.Errorf("parsing a CRD: %v", err)
			}
			if obj == nil || obj["kind"] != "CustomResourceDefinition" {
				continue
			}
			name := nestedString(obj, "metadata", "name")
			var live map[string]any
			if l, err := dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{}); err == nil {
				live = l.Object
			} else if !apierrors.IsNotFound(err) {
				return diffs, warnings, fmt.Errorf("reading CRD %s: %w", name, err)
			}
			if v := compareCRD(live, obj); v.Keep && !force {
				warnings = append(warnings, fmt.Sprintf("CRD %s is kept: %s (give --force to apply the chart's)", name, v.Reason))
				diffs = append(diffs, FileDiff{Name: "CustomResourceDefinition/" + name, Change: "kept"})
				continue
			}
			body, err := (&unstructured.Unstructured{Object: obj}).MarshalJSON()
			if err != nil {
				return diffs, warnings, err
			}
			forceOwnership := true
			after, err := dyn.Resource(crdGVR).Patch(ctx, name, types.ApplyPatchType, body,
				metav1.PatchOptions{FieldManager: FieldManager, Force: &forceOwnership, DryRun: []string{metav1.DryRunAll}})
			if err != nil {
				return diffs, warnings, fmt.Errorf("dry run of applying CRD %s: %w", name, err)
			}
			diffs = append(diffs, crdDiff(name, live, after.Object))
		}
	}
	return diffs, warnings, nil
}

// crdDiff diffs the live CRD (nil when absent) with the one a dry run would store, without the fields the
// server keeps for itself (status, managed fields, resource version, ...).
func crdDiff(name string, live, after map[string]any) FileDiff {
	text := func(o map[string]any) string {
		if o == nil {
			return ""
		}
		c := runtime.DeepCopyJSON(o)
		delete(c, "status")
		if md, ok := c["metadata"].(map[string]any); ok {
			for _, f := range []string{"managedFields", "resourceVersion", "uid", "creationTimestamp", "generation"} {
				delete(md, f)
			}
		}
		b, _ := yaml.Marshal(c)
		return string(b)
	}
	a, b := text(live), text(after)
	d := FileDiff{Name: "CustomResourceDefinition/" + name, Change: "unchanged"}
	switch {
	case live == nil:
		d.Change = "added"
	case a != b:
		d.Change = "changed"
	}
	if a != b {
		d.Diff = Unified("a/"+d.Name, "b/"+d.Name, a, b, 3)
	}
	return d
}

// notRolledBack is what a rollback of the release leaves as the upgrade made it (issue 12 §4): Helm does
// not manage the CRDs it applied nor the Jobs it deleted. "" when it did neither.
func notRolledBack(done []string) string {
	var crds []string
	jobs := false
	for _, d := range done {
		switch {
		case d == StepJobs:
			jobs = true
		case strings.HasPrefix(d, StepCRDs+":"):
			crds = append(crds, strings.TrimPrefix(d, StepCRDs+":"))
		}
	}
	var parts []string
	if len(crds) > 0 {
		parts = append(parts, "the CRDs it applied ("+strings.Join(crds, ", ")+") stay as applied")
	}
	if jobs {
		parts = append(parts, "the admission Jobs it deleted stay deleted (the next upgrade creates them)")
	}
	if len(parts) == 0 {
		return ""
	}
	return "not rolled back: " + strings.Join(parts, "; ")
}
