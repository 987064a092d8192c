// Package inspect reads the workloads of a release from a cluster: for every Deployment, StatefulSet,
// DaemonSet and Job the release's manifest names, how many pods are ready, whether all their containers
// are (the real skoala pods are 2/2), restarts, waiting reasons (CrashLoopBackOff, ImagePullBackOff) and
// image tags. It costs one list per workload kind present plus one list of pods, whatever the history.
package inspect

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/semver"
)

// Component is one workload of a release.
type Component struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	// Found is false when the manifest names the workload but the cluster does not have it.
	Found bool `json:"found"`
	// Ready and Desired count pods (replicas); for a Job, Ready counts succeeded pods.
	Ready   int `json:"ready"`
	Desired int `json:"desired"`
	// ContainersReady and Containers count the containers of the workload's pods, summed over pods (2/2).
	ContainersReady int `json:"containersReady"`
	Containers      int `json:"containers"`
	Restarts        int `json:"restarts"`
	// Images are the images of the pod template, by container.
	Images []Image `json:"images"`
	// Tag is the tag of the component's own image (not of a sidecar), and TagMatch compares it with the
	// chart version: "match", "differs", or "unknown" when there is no tag to compare.
	Tag      string `json:"tag,omitempty"`
	TagMatch string `json:"tagMatch"`
	// State is one of: ready, progressing, degraded, failed, completed, missing.
	State string `json:"state"`
	// Problems are container-level findings: "container hive: CrashLoopBackOff (last terminated: Error, exit code 1)".
	Problems []string `json:"problems,omitempty"`
	Pods     []Pod    `json:"pods,omitempty"`
}

// Image is a container's image.
type Image struct {
	Container string `json:"container"`
	Image     string `json:"image"`
	Registry  string `json:"registry"`
	Tag       string `json:"tag"`
	Init      bool   `json:"init,omitempty"`
}

// Pod is one pod of a component.
type Pod struct {
	Name            string `json:"name"`
	Phase           string `json:"phase"`
	ContainersReady int    `json:"containersReady"`
	Containers      int    `json:"containers"`
	Restarts        int    `json:"restarts"`
	Reason          string `json:"reason,omitempty"`
}

// Component states.
const (
	StateReady       = "ready"
	StateProgressing = "progressing"
	StateDegraded    = "degraded"
	StateFailed      = "failed"
	StateCompleted   = "completed"
	StateMissing     = "missing"
)

// Healthy reports whether the state needs no attention.
func (c Component) Healthy() bool { return c.State == StateReady || c.State == StateCompleted }

// Unhealthy is what a verification after a rollout says of a component that is not healthy: its state,
// its readiness and its first problem ("" when it is healthy).
func (c Component) Unhealthy() string {
	if c.Healthy() {
		return ""
	}
	p := fmt.Sprintf("%s is %s (%d/%d)", c.Name, c.State, c.Ready, c.Desired)
	if len(c.Problems) > 0 {
		p += ": " + c.Problems[0]
	}
	return p
}

var workloadKinds = map[string]bool{"Deployment": true, "StatefulSet": true, "DaemonSet": true, "Job": true}

// Workloads returns the workload objects of a manifest.
func Workloads(objs []helmsdk.ManifestObject) []helmsdk.ManifestObject {
	var out []helmsdk.ManifestObject
	for _, o := range objs {
		if workloadKinds[o.Kind] {
			out = append(out, o)
		}
	}
	return out
}

// Release inspects the workloads of rel in the cluster. chartVersion is what image tags are compared with.
func Release(ctx context.Context, client kubernetes.Interface, rel *helmsdk.Release) ([]Component, error) {
	return ReleaseWith(ctx, client, rel, Lists{})
}

// Lists supplies lists that Objects would otherwise make itself, for a caller that reads the same list for
// another purpose and wants it read once (a nil field: Objects lists it).
type Lists struct {
	// Jobs lists the Jobs of the namespace.
	Jobs func(ctx context.Context) (*batchv1.JobList, error)
}

// ReleaseWith is Release with lists the caller supplies.
func ReleaseWith(ctx context.Context, client kubernetes.Interface, rel *helmsdk.Release, lists Lists) ([]Component, error) {
	return objects(ctx, client, rel.Namespace, Workloads(rel.Objects()), rel.ChartVersion, lists)
}

// Objects inspects the given workload objects (namespace defaults to ns).
func Objects(ctx context.Context, client kubernetes.Interface, ns string, objs []helmsdk.ManifestObject, chartVersion string) ([]Component, error) {
	return objects(ctx, client, ns, objs, chartVersion, Lists{})
}

func objects(ctx context.Context, client kubernetes.Interface, ns string, objs []helmsdk.ManifestObject, chartVersion string, supplied Lists) ([]Component, error) {
	kinds := map[string]bool{}
	for _, o := range objs {
		kinds[o.Kind] = true
	}
	deps := map[string]*appsv1.Deployment{}
	sts := map[string]*appsv1.StatefulSet{}
	dss := map[string]*appsv1.DaemonSet{}
	jobs := map[string]*batchv1.Job{}
	var pods []corev1.Pod
	// The lists are independent: they go out together (one round trip to a remote cluster, not five), and
	// the first error in this order is the one reported.
	lists := []struct {
		resource string
		want     bool
		list     func() error
	}{
		{"deployments", kinds["Deployment"], func() error {
			l, err := client.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
			if err == nil {
				deps = byName(l.Items)
			}
			return err
		}},
		{"statefulsets", kinds["StatefulSet"], func() error {
			l, err := client.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
			if err == nil {
				sts = byName(l.Items)
			}
			return err
		}},
		{"daemonsets", kinds["DaemonSet"], func() error {
			l, err := client.AppsV1().DaemonSets(ns).List(ctx, metav1.ListOptions{})
			if err == nil {
				dss = byName(l.Items)
			}
			return err
		}},
		{"jobs", kinds["Job"], func() error {
			var l *batchv1.JobList
			var err error
			if supplied.Jobs != nil {
				l, err = supplied.Jobs(ctx)
			} else {
				l, err = client.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
			}
			if err == nil {
				jobs = byName(l.Items)
			}
			return err
		}},
		{"pods", len(objs) > 0, func() error {
			l, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			if err == nil {
				pods = l.Items
			}
			return err
		}},
	}
	errs := make([]error, len(lists))
	var wg sync.WaitGroup
	for i, l := range lists {
		if !l.want {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = l.list()
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, &ListError{Resource: lists[i].resource, Namespace: ns, Err: err}
		}
	}

	out := make([]Component, 0, len(objs))
	for _, o := range objs {
		c := Component{Name: o.Name, Kind: o.Kind, Namespace: ns, State: StateMissing, TagMatch: "unknown"}
		var sel *metav1.LabelSelector
		var tmpl *corev1.PodSpec
		switch o.Kind {
		case "Deployment":
			if d, ok := deps[o.Name]; ok {
				c.Found = true
				sel, tmpl = d.Spec.Selector, &d.Spec.Template.Spec
				c.Desired = int(ptrOr(d.Spec.Replicas, 1))
				c.Ready = int(d.Status.ReadyReplicas)
				c.State = deploymentState(d)
			}
		case "StatefulSet":
			if s, ok := sts[o.Name]; ok {
				c.Found = true
				sel, tmpl = s.Spec.Selector, &s.Spec.Template.Spec
				c.Desired = int(ptrOr(s.Spec.Replicas, 1))
				c.Ready = int(s.Status.ReadyReplicas)
				c.State = replicaState(c.Ready, c.Desired, s.Status.UpdatedReplicas, s.Generation, s.Status.ObservedGeneration)
			}
		case "DaemonSet":
			if d, ok := dss[o.Name]; ok {
				c.Found = true
				sel, tmpl = d.Spec.Selector, &d.Spec.Template.Spec
				c.Desired = int(d.Status.DesiredNumberScheduled)
				c.Ready = int(d.Status.NumberReady)
				c.State = replicaState(c.Ready, c.Desired, d.Status.UpdatedNumberScheduled, d.Generation, d.Status.ObservedGeneration)
			}
		case "Job":
			if j, ok := jobs[o.Name]; ok {
				c.Found = true
				sel, tmpl = j.Spec.Selector, &j.Spec.Template.Spec
				c.Desired = int(ptrOr(j.Spec.Completions, 1))
				c.Ready = int(j.Status.Succeeded)
				c.State = jobState(j)
			}
		}
		if tmpl != nil {
			for _, ct := range tmpl.InitContainers {
				c.Images = append(c.Images, newImage(ct.Name, ct.Image, true))
			}
			for _, ct := range tmpl.Containers {
				c.Images = append(c.Images, newImage(ct.Name, ct.Image, false))
			}
		} else {
			for _, ct := range o.Containers {
				c.Images = append(c.Images, newImage(ct.Name, ct.Image, ct.Init))
			}
		}
		if main := MainImage(c.Name, c.Images); main != nil {
			c.Tag = main.Tag
			if c.Tag != "" && chartVersion != "" {
				if semver.Equal(c.Tag, chartVersion) {
					c.TagMatch = "match"
				} else {
					c.TagMatch = "differs"
				}
			}
		}
		if sel != nil {
			s, err := metav1.LabelSelectorAsSelector(sel)
			if err == nil {
				c.addPods(pods, s, o.Kind)
			}
		}
		if c.State == StateReady && c.ContainersReady < c.Containers && o.Kind != "Job" {
			c.State = StateDegraded
		}
		if len(c.Problems) > 0 && c.State == StateReady {
			c.State = StateDegraded
		}
		out = append(out, c)
	}
	return out, nil
}

func (c *Component) addPods(pods []corev1.Pod, sel labels.Selector, kind string) {
	for i := range pods {
		p := &pods[i]
		if !sel.Matches(labels.Set(p.Labels)) || p.DeletionTimestamp != nil {
			continue
		}
		pp := Pod{Name: p.Name, Phase: string(p.Status.Phase), Containers: len(p.Spec.Containers)}
		for _, cs := range p.Status.ContainerStatuses {
			if cs.Ready {
				pp.ContainersReady++
			}
			pp.Restarts += int(cs.RestartCount)
			if w := cs.State.Waiting; w != nil && w.Reason != "" && w.Reason != "ContainerCreating" && w.Reason != "PodInitializing" {
				msg := fmt.Sprintf("container %s: %s", cs.Name, w.Reason)
				if t := cs.LastTerminationState.Terminated; t != nil {
					msg += fmt.Sprintf(" (last terminated: %s, exit code %d)", orDash(t.Reason), t.ExitCode)
				}
				c.Problems = appendOnce(c.Problems, msg)
				pp.Reason = w.Reason
			} else if t := cs.State.Terminated; t != nil && t.ExitCode != 0 && kind != "Job" {
				c.Problems = appendOnce(c.Problems, fmt.Sprintf("container %s: terminated: %s, exit code %d", cs.Name, orDash(t.Reason), t.ExitCode))
			}
		}
		for _, cs := range p.Status.InitContainerStatuses {
			if w := cs.State.Waiting; w != nil && (strings.Contains(w.Reason, "BackOff") || strings.Contains(w.Reason, "Err")) {
				c.Problems = appendOnce(c.Problems, fmt.Sprintf("init container %s: %s", cs.Name, w.Reason))
			}
		}
		if kind != "Job" || p.Status.Phase == corev1.PodRunning {
			c.Containers += pp.Containers
			c.ContainersReady += pp.ContainersReady
		}
		c.Restarts += pp.Restarts
		c.Pods = append(c.Pods, pp)
	}
	sort.Slice(c.Pods, func(i, j int) bool { return c.Pods[i].Name < c.Pods[j].Name })
}

func deploymentState(d *appsv1.Deployment) string {
	for _, cond := range d.Status.Conditions {
		if cond.Type == appsv1.DeploymentProgressing && cond.Status == corev1.ConditionFalse && cond.Reason == "ProgressDeadlineExceeded" {
			return StateFailed
		}
	}
	return replicaState(int(d.Status.ReadyReplicas), int(ptrOr(d.Spec.Replicas, 1)), d.Status.UpdatedReplicas, d.Generation, d.Status.ObservedGeneration)
}

func replicaState(ready, desired int, updated int32, gen, observed int64) string {
	switch {
	case desired == 0:
		return StateReady
	case ready >= desired && int(updated) >= desired && observed >= gen:
		return StateReady
	case ready == 0:
		return StateDegraded
	}
	return StateProgressing
}

func jobState(j *batchv1.Job) string {
	for _, cond := range j.Status.Conditions {
		if cond.Status != corev1.ConditionTrue {
			continue
		}
		switch cond.Type {
		case batchv1.JobComplete:
			return StateCompleted
		case batchv1.JobFailed:
			return StateFailed
		}
	}
	return StateProgressing
}

// MainImage picks the component's own image among its containers: the one whose container name or image
// repository is the component's name (skoala-ui's container may be called ui), else the first non-sidecar
// container. Sidecars (istio-proxy) have their own version line and are never compared with the chart.
func MainImage(component string, imgs []Image) *Image {
	var first *Image
	for i := range imgs {
		im := &imgs[i]
		if im.Init {
			continue
		}
		repo := repoBase(im.Image)
		if im.Container == component || repo == component || strings.TrimPrefix(component, "skoala-") == im.Container {
			return im
		}
		if first == nil && !isSidecar(im.Container) {
			first = im
		}
	}
	return first
}

func isSidecar(name string) bool {
	switch name {
	case "istio-proxy", "istio-init", "linkerd-proxy", "envoy", "sidecar":
		return true
	}
	return false
}

func repoBase(image string) string {
	ref := image
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, "/"); i >= 0 {
		ref = ref[i+1:]
	}
	return ref
}

func newImage(container, image string, init bool) Image {
	reg, tag := SplitImage(image)
	return Image{Container: container, Image: image, Registry: reg, Tag: tag, Init: init}
}

// SplitImage returns an image reference's registry (docker.io when none is named) and tag ("" for none).
func SplitImage(image string) (registry, tag string) {
	ref := image
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		tag = ref[i+1:]
		ref = ref[:i]
	}
	registry = "docker.io"
	if i := strings.Index(ref, "/"); i >= 0 {
		first := ref[:i]
		if strings.ContainsAny(first, ".:") || first == "localhost" {
			registry = first
		}
	}
	return registry, tag
}

// ListError says a list call failed; Explain it with kube.Explain("list", Resource+" in "+Namespace).
type ListError struct {
	Resource, Namespace string
	Err                 error
}

func (e *ListError) Error() string {
	return fmt.Sprintf("listing %s in %s: %v", e.Resource, e.Namespace, e.Err)
}
func (e *ListError) Unwrap() error { return e.Err }

// byName indexes API objects by name.
func byName[T any, P interface {
	*T
	GetName() string
}](items []T) map[string]*T {
	m := make(map[string]*T, len(items))
	for i := range items {
		m[P(&items[i]).GetName()] = &items[i]
	}
	return m
}

func ptrOr[T any](p *T, d T) T {
	if p == nil {
		return d
	}
	return *p
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
