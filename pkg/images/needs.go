package images

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
)

// ReleaseValues is one release of the fleet the target chart is rendered for.
type ReleaseValues struct {
	Context   string `json:"context"`
	Role      string `json:"role"`
	Release   string `json:"release"`
	Namespace string `json:"namespace"`
	Chart     string `json:"chart"`
	// Installed is the chart version installed ("" when the release is not there).
	Installed string `json:"installed,omitempty"`
	// Values are the release's user-supplied values (the chart defaults when it is not installed).
	Values map[string]any `json:"-"`
}

// ChartImages are the images one release renders with the target chart.
type ChartImages struct {
	Context   string                  `json:"context"`
	Release   string                  `json:"release"`
	Chart     string                  `json:"chart"`
	Version   string                  `json:"version"`
	Installed string                  `json:"installed,omitempty"`
	Images    []string                `json:"images"`
	Workloads []helmsdk.RenderedImage `json:"workloads"`
}

// ListReport is what images list prints.
type ListReport struct {
	Registry string        `json:"registry,omitempty"`
	Releases []ChartImages `json:"releases"`
	// Images is every distinct image, sorted.
	Images []string `json:"images"`
}

// ValuesFunc computes the values a release is upgraded with (the upgrade's own computation: image tags
// of the target, a pinned UI tag dropped, global.imageRegistry); nil means the release's values with
// global.imageRegistry set.
type ValuesFunc func(r ReleaseValues, ch *helmsdk.Chart, registry string) (map[string]any, error)

// List renders each release's target chart (charts by name) with the values the upgrade would give it
// (values; see ValuesFunc) and collects the images.
func List(charts map[string]*helmsdk.Chart, releases []ReleaseValues, registry string, values ValuesFunc) (*ListReport, error) {
	if values == nil {
		values = registryValues
	}
	rep := &ListReport{Registry: registry, Releases: []ChartImages{}, Images: []string{}}
	all := map[string]bool{}
	for _, r := range releases {
		ch := charts[r.Chart]
		if ch == nil {
			continue
		}
		vals, err := values(r, ch, registry)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", r.Context, r.Release, err)
		}
		ws, err := helmsdk.RenderImages(ch, vals, r.Release, r.Namespace)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", r.Context, r.Release, err)
		}
		ci := ChartImages{Context: r.Context, Release: r.Release, Chart: ch.Name, Version: ch.Version, Installed: r.Installed, Workloads: ws, Images: []string{}}
		seen := map[string]bool{}
		for _, w := range ws {
			if !seen[w.Image] {
				seen[w.Image] = true
				ci.Images = append(ci.Images, w.Image)
			}
			all[w.Image] = true
		}
		sort.Strings(ci.Images)
		rep.Releases = append(rep.Releases, ci)
	}
	for im := range all {
		rep.Images = append(rep.Images, im)
	}
	sort.Strings(rep.Images)
	return rep, nil
}

// Needs turns a list into the needs of a check; fix(chart, version) gives the command that pushes them.
func (r *ListReport) Needs(fix func(chart, version string) string) []Need {
	var out []Need
	for _, rel := range r.Releases {
		for _, im := range rel.Images {
			n := Need{Image: im, Chart: rel.Chart, Version: rel.Version}
			if fix != nil {
				n.Fix = fix(rel.Chart, rel.Version)
			}
			out = append(out, n)
		}
	}
	return out
}

func registryValues(r ReleaseValues, _ *helmsdk.Chart, registry string) (map[string]any, error) {
	vals := cloneMap(r.Values)
	if registry != "" {
		g, _ := vals["global"].(map[string]any)
		if g == nil {
			g = map[string]any{}
		}
		g["imageRegistry"] = registry
		vals["global"] = g
	}
	return vals, nil
}

func cloneMap(v map[string]any) map[string]any {
	out := make(map[string]any, len(v))
	for k, x := range v {
		if m, ok := x.(map[string]any); ok {
			out[k] = cloneMap(m)
			continue
		}
		out[k] = x
	}
	return out
}

// NodeArchitectures lists the architectures of a cluster's nodes (node.status.nodeInfo.architecture,
// else the kubernetes.io/arch label).
func NodeArchitectures(ctx context.Context, client kubernetes.Interface) ([]string, error) {
	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing the nodes: %w", err)
	}
	var out []string
	for _, n := range nodes.Items {
		a := strings.TrimSpace(n.Status.NodeInfo.Architecture)
		if a == "" {
			a = n.Labels["kubernetes.io/arch"]
		}
		out = append(out, a)
	}
	return uniqSorted(out), nil
}

// ReadRelease reads the user values and version of a release (nil values and "" version when it is not
// installed).
func ReadRelease(ctx context.Context, client kubernetes.Interface, namespace, release, driver string) (map[string]any, string, error) {
	rel, err := helmsdk.GetCurrent(ctx, client, namespace, release, driver)
	if err != nil {
		if errors.Is(err, helmsdk.ErrReleaseNotFound) {
			return nil, "", nil
		}
		return nil, "", err
	}
	return rel.Values, rel.ChartVersion, nil
}
