package verify

import (
	"context"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/semver"
)

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// crds compares each CRD of the installed chart's crds/ files (its subcharts' included when the archive
// can be had) with the live CRD.
func (v *releaseVerify) crds(ctx context.Context) {
	files := v.hr.StoredCRDFiles()
	// The release keeps the root chart only: a chart with dependencies is read from its archive.
	if md := v.hr.Metadata(); v.cfg.Chart != nil && md != nil && len(md.Dependencies) > 0 {
		ch, err := v.cfg.Chart(ctx, v.hr.Chart, v.hr.ChartVersion)
		if err != nil {
			v.rel.Skipped = append(v.rel.Skipped, Skipped{What: "CRD files of subcharts", Right: "the chart archive could not be had: " + err.Error()})
		} else {
			files = ch.CRDFiles()
		}
	}
	for _, f := range files {
		for _, doc := range helmsdk.SplitDocuments(string(f.Data)) {
			var obj map[string]any
			if err := yaml.Unmarshal([]byte(doc+"\n"), &obj); err != nil || obj == nil || obj["kind"] != "CustomResourceDefinition" {
				continue
			}
			name := str(obj, "metadata", "name")
			live, err := v.rd.Get(ctx, crdResource, "", name)
			switch {
			case apierrors.IsNotFound(err):
				v.rel.CRDs = append(v.rel.CRDs, CRD{File: f.Path, Name: name, State: CRDMissing, Detail: "the cluster has no such CRD"})
				continue
			case err != nil:
				v.skip("CRD "+name, "get", "customresourcedefinitions.apiextensions.k8s.io", "", err)
				continue
			}
			v.rel.CRDs = append(v.rel.CRDs, compareCRD(f.Path, name, obj, live))
		}
	}
}

// compareCRD says whether the live CRD is the chart's: older or newer (a version annotation such as the
// Gateway API's bundle-version, or the versions each defines), or changed by hand (same versions, other
// fields than the chart's file sets).
func compareCRD(file, name string, chart, live map[string]any) CRD {
	out := CRD{File: file, Name: name, State: CRDSame}
	ignore := append([]string(nil), DefaultIgnores...)
	keys := versionAnnotations(chart)
	for _, k := range keys {
		ignore = append(ignore, "/metadata/annotations/"+escape(k))
	}
	// The fields the file sets that the live CRD does not have as the file has them, versions aside: a
	// hand change when the versions are the same.
	out.Fields = diffObject(chart, live, ignore)
	for _, k := range keys {
		cv, lv := str(chart, "metadata", "annotations", k), str(live, "metadata", "annotations", k)
		if lv == "" || cv == lv {
			continue
		}
		if _, err := semver.Parse(lv); err != nil {
			continue
		}
		switch c := semver.Compare(lv, cv); {
		case c < 0:
			out.State, out.Detail = CRDLiveOlder, fmt.Sprintf("live %s %s, the chart's %s", k, lv, cv)
			return out
		case c > 0:
			out.State, out.Detail = CRDLiveNewer, fmt.Sprintf("live %s %s, the chart's %s", k, lv, cv)
			return out
		}
	}
	cvs, lvs := crdVersionNames(chart), crdVersionNames(live)
	if extra := minus(lvs, cvs); len(extra) > 0 {
		out.State, out.Detail = CRDLiveNewer, "the live CRD defines "+strings.Join(extra, ", ")+", the chart's does not"
		return out
	}
	if extra := minus(cvs, lvs); len(extra) > 0 {
		out.State, out.Detail = CRDLiveOlder, "the chart's CRD defines "+strings.Join(extra, ", ")+", the live one does not"
		return out
	}
	if len(out.Fields) > 0 {
		out.State = CRDChanged
		out.Detail = "changed by hand: the live CRD differs from " + file
	}
	return out
}

// versionAnnotations are the annotations of a CRD that carry a version ("…/bundle-version", "…/version").
func versionAnnotations(crd map[string]any) []string {
	md, _ := crd["metadata"].(map[string]any)
	ann, _ := md["annotations"].(map[string]any)
	var out []string
	for k := range ann {
		if strings.HasSuffix(k, "/bundle-version") || strings.HasSuffix(k, "/version") {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func crdVersionNames(crd map[string]any) []string {
	spec, _ := crd["spec"].(map[string]any)
	list, _ := spec["versions"].([]any)
	var out []string
	for _, x := range list {
		if m, ok := x.(map[string]any); ok {
			if n, _ := m["name"].(string); n != "" {
				out = append(out, n)
			}
		}
	}
	return out
}

// minus lists what a has and b lacks.
func minus(a, b []string) []string {
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}

func str(obj map[string]any, path ...string) string {
	var cur any = obj
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[p]
	}
	s, _ := cur.(string)
	return s
}
