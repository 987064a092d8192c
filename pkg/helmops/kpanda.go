package helmops

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// kpanda (DCE 5.0's cluster manager) runs the Helm operations of its UI as Jobs named
// helm-operation-<action>-<release>-<random> in the release's namespace, owned by a HelmApp
// (helm.kpanda.io/v1alpha1): see ../shared/docs/dce-kpanda.md. They take no kubectl-skoala Lease, so
// upgrade and rollback look for them before any change.

// JobPrefix starts the name of every kpanda Helm operation Job.
const JobPrefix = "helm-operation-"

// HelmAppGroup, HelmAppVersion and HelmAppKind name kpanda's HelmApp; HelmAppResource is its resource
// (the plural of the kind, as Kubernetes spells CRD resources: an inference, no CRD of it is public).
const (
	HelmAppGroup    = "helm.kpanda.io"
	HelmAppVersion  = "v1alpha1"
	HelmAppKind     = "HelmApp"
	HelmAppResource = "helmapps"
)

// HelmAppGVR is the HelmApp resource.
var HelmAppGVR = schema.GroupVersionResource{Group: HelmAppGroup, Version: HelmAppVersion, Resource: HelmAppResource}

// Operation is a kpanda Helm operation that has not finished: its Job and what its name says.
type Operation struct {
	Namespace string `json:"namespace"`
	Job       string `json:"job"`
	// Action and Release come from the Job's name (helm-operation-<action>-<release>-<random>).
	Action  string `json:"action"`
	Release string `json:"release"`
	// HelmApp is the HelmApp that owns the Job ("" when no owner reference names one).
	HelmApp string    `json:"helmApp,omitempty"`
	Started time.Time `json:"started,omitempty"`
}

// String names the Job and what it does, for a refusal or a doctor line.
func (o Operation) String() string {
	s := fmt.Sprintf("kpanda's helm %s of %s runs as Job %s/%s", o.Action, o.Release, o.Namespace, o.Job)
	var more []string
	if o.HelmApp != "" {
		more = append(more, "HelmApp "+o.HelmApp)
	}
	if !o.Started.IsZero() {
		more = append(more, "started "+o.Started.UTC().Format(time.RFC3339))
	}
	if len(more) > 0 {
		s += " (" + strings.Join(more, ", ") + ")"
	}
	return s
}

// ParseJobName reads a kpanda Helm operation Job's name: helm-operation-<action>-<release>-<random>, where
// the action is one word (install, upgrade, rollback, uninstall) and the random suffix has no dash, so a
// release name with dashes (skoala-init) is read whole.
func ParseJobName(name string) (action, release string, ok bool) {
	rest, found := strings.CutPrefix(name, JobPrefix)
	if !found {
		return "", "", false
	}
	action, rest, found = strings.Cut(rest, "-")
	if !found || action == "" {
		return "", "", false
	}
	i := strings.LastIndexByte(rest, '-')
	if i <= 0 || i == len(rest)-1 {
		return "", "", false
	}
	return action, rest[:i], true
}

// jobFinished reports whether a Job has ended (Complete or Failed).
func jobFinished(j *batchv1.Job) bool {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// ActiveOperations lists the kpanda Helm operation Jobs in ns that have not finished, for any of releases
// (all releases when none is given), sorted by Job name. It needs list on jobs.batch in ns.
func ActiveOperations(ctx context.Context, client kubernetes.Interface, ns string, releases ...string) ([]Operation, error) {
	jobs, err := client.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	return Operations(jobs.Items, releases...), nil
}

// Operations picks from jobs the kpanda Helm operations that have not finished, for any of releases (all
// releases when none is given), sorted by Job name.
func Operations(jobs []batchv1.Job, releases ...string) []Operation {
	want := map[string]bool{}
	for _, r := range releases {
		want[r] = true
	}
	var out []Operation
	for i := range jobs {
		j := &jobs[i]
		action, release, ok := ParseJobName(j.Name)
		if !ok || (len(want) > 0 && !want[release]) || jobFinished(j) || j.DeletionTimestamp != nil {
			continue
		}
		op := Operation{Namespace: j.Namespace, Job: j.Name, Action: action, Release: release, Started: j.CreationTimestamp.Time}
		if j.Status.StartTime != nil {
			op.Started = j.Status.StartTime.Time
		}
		for _, o := range j.OwnerReferences {
			if o.Kind == HelmAppKind && strings.HasPrefix(o.APIVersion, HelmAppGroup+"/") {
				op.HelmApp = o.Name
			}
		}
		out = append(out, op)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Job < out[b].Job })
	return out
}

// HelmApps lists the names of kpanda's HelmApps in ns, read as unstructured data (no Go type of it is
// published). A cluster that does not serve the resource (no kpanda, no CRD) has none: nil, nil.
func HelmApps(ctx context.Context, dyn dynamic.Interface, ns string) ([]string, error) {
	list, err := dyn.Resource(HelmAppGVR).Namespace(ns).List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) || meta.IsNoMatchError(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(list.Items))
	for _, it := range list.Items {
		out = append(out, it.GetName())
	}
	sort.Strings(out)
	return out, nil
}
