// Package kpanda reads DCE 5.0's cluster registry: the Cluster objects of clusters.cluster.kpanda.io in
// the global cluster, and finds a proven credential for each registered workspace cluster (a kubeconfig
// context, or the kubeconfig the kpanda API hands the user). No Go type of kpanda is published, so the
// objects are read as unstructured data and every field may be missing. No Secret is ever read.
//
// Where each field comes from (../shared/docs/dce-kpanda.md): the printed columns NAME VERSION MODE
// PROVIDER RUNNING KUBESYSTEMID; status.kubeSystemID, status.phase and status.conditions from the kpanda
// OpenAPI; status.kubeSystemId and the host label cluster-role.kpanda.io/host from an unattributed Go type.
package kpanda

import (
	"context"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// GVR is the resource of kpanda's Cluster objects (cluster-scoped).
var GVR = schema.GroupVersionResource{Group: "cluster.kpanda.io", Version: "v1alpha1", Resource: "clusters"}

// HostLabel marks the host (global) cluster, which is the control plane, not a workspace.
const HostLabel = "cluster-role.kpanda.io/host"

// Phases of status.phase (the OpenAPI's enum); only Running is reachable work.
const PhaseRunning = "Running"

// Cluster is what is read of one Cluster object.
type Cluster struct {
	Name string `json:"name"`
	// KubeSystemID is status.kubeSystemID (or status.kubeSystemId): the UID of the cluster's kube-system
	// namespace, its identity.
	KubeSystemID string `json:"kubeSystemID,omitempty"`
	// Phase is status.phase ("" when absent).
	Phase string `json:"phase,omitempty"`
	// RunningCondition is the status of the Running condition ("" when absent).
	RunningCondition string `json:"runningCondition,omitempty"`
	// Host is the host cluster (label cluster-role.kpanda.io/host).
	Host bool `json:"host,omitempty"`
	// Version is status.kubernetesVersion.
	Version string `json:"version,omitempty"`
}

// Running reports whether kpanda says the cluster runs: phase Running, or, without a phase, a Running
// condition that is True. A cluster with neither field is taken as running (the fields are not certain).
func (c Cluster) Running() bool {
	switch {
	case c.Phase != "":
		return c.Phase == PhaseRunning
	case c.RunningCondition != "":
		return strings.EqualFold(c.RunningCondition, "True")
	}
	return true
}

// State is the phase, else the Running condition, for a row ("Unknown" when kpanda says nothing).
func (c Cluster) State() string {
	switch {
	case c.Phase != "":
		return c.Phase
	case c.RunningCondition != "":
		return "Running=" + c.RunningCondition
	}
	return "Unknown"
}

// Parse reads a Cluster object, tolerating every missing field.
func Parse(u *unstructured.Unstructured) Cluster {
	c := Cluster{Name: u.GetName()}
	if _, ok := u.GetLabels()[HostLabel]; ok {
		c.Host = true
	}
	for _, k := range []string{"kubeSystemID", "kubeSystemId"} {
		if v, _, _ := unstructured.NestedString(u.Object, "status", k); v != "" {
			c.KubeSystemID = v
			break
		}
	}
	c.Phase, _, _ = unstructured.NestedString(u.Object, "status", "phase")
	c.Version, _, _ = unstructured.NestedString(u.Object, "status", "kubernetesVersion")
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, x := range conds {
		m, ok := x.(map[string]any)
		if !ok {
			continue
		}
		if t, _ := m["type"].(string); t == "Running" {
			c.RunningCondition, _ = m["status"].(string)
		}
	}
	return c
}

// NotInstalledError says the global cluster has no clusters.cluster.kpanda.io: it is not a DCE platform.
type NotInstalledError struct{ Err error }

func (e *NotInstalledError) Error() string {
	return "the control-plane cluster has no clusters.cluster.kpanda.io (is it the global cluster of a DCE 5.0 platform?)"
}
func (e *NotInstalledError) Unwrap() error { return e.Err }

// Hint says what to do.
func (e *NotInstalledError) Hint() string {
	return "give --context of the global cluster, or name the workspaces with -w instead of --fleet kpanda"
}

// List reads every Cluster object, sorted by name, the host cluster included (Workspaces leaves it out).
// A server without the resource is a *NotInstalledError.
func List(ctx context.Context, dyn dynamic.Interface) ([]Cluster, error) {
	l, err := dyn.Resource(GVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) || meta.IsNoMatchError(err) {
			return nil, &NotInstalledError{Err: err}
		}
		return nil, err
	}
	out := make([]Cluster, 0, len(l.Items))
	for i := range l.Items {
		out = append(out, Parse(&l.Items[i]))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Workspaces leaves the host cluster out.
func Workspaces(cs []Cluster) []Cluster {
	var out []Cluster
	for _, c := range cs {
		if !c.Host {
			out = append(out, c)
		}
	}
	return out
}
