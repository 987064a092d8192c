package helmsdk

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// History reads every stored revision of a release, newest first (what `helm history` lists, in reverse).
// A record that does not decode is returned as a revision with Status "corrupt" and the reason in
// Description, so one bad record never hides the others.
func History(ctx context.Context, client kubernetes.Interface, namespace, name, driver string) ([]*Release, error) {
	drv, err := NormalizeDriver(driver)
	if err != nil {
		return nil, err
	}
	opts := metav1.ListOptions{LabelSelector: "owner=helm,name=" + name}
	type record struct {
		rev     int
		payload []byte
	}
	var recs []record
	switch drv {
	case DriverSecret:
		list, err := client.CoreV1().Secrets(namespace).List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("listing release secrets of %q: %w", name, err)
		}
		for i := range list.Items {
			rev, _ := strconv.Atoi(list.Items[i].Labels["version"])
			recs = append(recs, record{rev: rev, payload: list.Items[i].Data["release"]})
		}
	case DriverConfigMap:
		list, err := client.CoreV1().ConfigMaps(namespace).List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("listing release configmaps of %q: %w", name, err)
		}
		for i := range list.Items {
			rev, _ := strconv.Atoi(list.Items[i].Labels["version"])
			recs = append(recs, record{rev: rev, payload: []byte(list.Items[i].Data["release"])})
		}
	}
	if len(recs) == 0 {
		return nil, &NotFoundError{Name: name, Namespace: namespace, OtherDriver: otherDriverHas(ctx, client, namespace, name, drv)}
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].rev > recs[j].rev })
	out := make([]*Release, 0, len(recs))
	for _, r := range recs {
		rel, err := DecodeRelease(r.payload)
		if err != nil {
			out = append(out, &Release{Name: name, Namespace: namespace, Revision: r.rev, Status: "corrupt", Description: err.Error(), Values: map[string]any{}, Driver: drv})
			continue
		}
		rel.Driver = drv
		if rel.Namespace == "" {
			rel.Namespace = namespace
		}
		out = append(out, rel)
	}
	return out, nil
}

// ChartMetadata is the Chart.yaml of a release's chart, as stored with the release.
type ChartMetadata struct {
	Name         string            `json:"name"`
	Version      string            `json:"version"`
	AppVersion   string            `json:"appVersion,omitempty"`
	APIVersion   string            `json:"apiVersion,omitempty"`
	Description  string            `json:"description,omitempty"`
	Type         string            `json:"type,omitempty"`
	KubeVersion  string            `json:"kubeVersion,omitempty"`
	Home         string            `json:"home,omitempty"`
	Sources      []string          `json:"sources,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	Dependencies []ChartDependency `json:"dependencies,omitempty"`
}

// ChartDependency is one dependency of Chart.yaml.
type ChartDependency struct {
	Name       string `json:"name"`
	Version    string `json:"version,omitempty"`
	Repository string `json:"repository,omitempty"`
	Condition  string `json:"condition,omitempty"`
	Enabled    bool   `json:"enabled"`
}

// Metadata returns the chart metadata of the release, or nil when the record carries no chart.
func (r *Release) Metadata() *ChartMetadata {
	if r.raw == nil || r.raw.Chart == nil || r.raw.Chart.Metadata == nil {
		return nil
	}
	m := r.raw.Chart.Metadata
	out := &ChartMetadata{Name: m.Name, Version: m.Version, AppVersion: m.AppVersion, APIVersion: m.APIVersion,
		Description: m.Description, Type: m.Type, KubeVersion: m.KubeVersion, Home: m.Home, Sources: m.Sources, Annotations: m.Annotations}
	for _, d := range m.Dependencies {
		if d == nil {
			continue
		}
		out.Dependencies = append(out.Dependencies, ChartDependency{Name: d.Name, Version: d.Version, Repository: d.Repository, Condition: d.Condition, Enabled: d.Enabled})
	}
	return out
}
