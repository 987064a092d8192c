package verify

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

// TypedReader is a Reader over a typed clientset: the kinds of a release that doctor's drift check reads
// with the rights it already asks (workloads, Services, ConfigMaps, Secrets, ServiceAccounts, Jobs, Pods).
// Other kinds are not read (KindNotReadError); verify itself reads every kind (DynamicReader).
type TypedReader struct {
	Client kubernetes.Interface
}

// KindNotReadError says a Reader does not read a kind.
type KindNotReadError struct{ Kind string }

func (e *KindNotReadError) Error() string { return fmt.Sprintf("%s is not read here", e.Kind) }

var typedKinds = map[string]schema.GroupVersionResource{
	"Deployment":     {Group: "apps", Version: "v1", Resource: "deployments"},
	"StatefulSet":    {Group: "apps", Version: "v1", Resource: "statefulsets"},
	"DaemonSet":      {Group: "apps", Version: "v1", Resource: "daemonsets"},
	"Job":            {Group: "batch", Version: "v1", Resource: "jobs"},
	"Service":        {Version: "v1", Resource: "services"},
	"ConfigMap":      {Version: "v1", Resource: "configmaps"},
	"Secret":         {Version: "v1", Resource: "secrets"},
	"ServiceAccount": {Version: "v1", Resource: "serviceaccounts"},
	"Pod":            {Version: "v1", Resource: "pods"},
}

// Resource implements Reader.
func (r *TypedReader) Resource(_, kind string) (schema.GroupVersionResource, bool, error) {
	gvr, ok := typedKinds[kind]
	if !ok {
		return gvr, false, &KindNotReadError{Kind: kind}
	}
	return gvr, true, nil
}

// Get implements Reader.
func (r *TypedReader) Get(ctx context.Context, gvr schema.GroupVersionResource, ns, name string) (map[string]any, error) {
	var obj runtime.Object
	var err error
	o := metav1.GetOptions{}
	switch gvr.Resource {
	case "deployments":
		obj, err = r.Client.AppsV1().Deployments(ns).Get(ctx, name, o)
	case "statefulsets":
		obj, err = r.Client.AppsV1().StatefulSets(ns).Get(ctx, name, o)
	case "daemonsets":
		obj, err = r.Client.AppsV1().DaemonSets(ns).Get(ctx, name, o)
	case "jobs":
		obj, err = r.Client.BatchV1().Jobs(ns).Get(ctx, name, o)
	case "services":
		obj, err = r.Client.CoreV1().Services(ns).Get(ctx, name, o)
	case "configmaps":
		obj, err = r.Client.CoreV1().ConfigMaps(ns).Get(ctx, name, o)
	case "secrets":
		obj, err = r.Client.CoreV1().Secrets(ns).Get(ctx, name, o)
	case "serviceaccounts":
		obj, err = r.Client.CoreV1().ServiceAccounts(ns).Get(ctx, name, o)
	case "pods":
		obj, err = r.Client.CoreV1().Pods(ns).Get(ctx, name, o)
	default:
		return nil, &KindNotReadError{Kind: gvr.Resource}
	}
	if err != nil {
		return nil, err
	}
	return runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
}

// List implements Reader.
func (r *TypedReader) List(ctx context.Context, gvr schema.GroupVersionResource, ns, selector string) ([]map[string]any, error) {
	o := metav1.ListOptions{LabelSelector: selector}
	var items []runtime.Object
	switch gvr.Resource {
	case "deployments":
		l, err := r.Client.AppsV1().Deployments(ns).List(ctx, o)
		if err != nil {
			return nil, err
		}
		for i := range l.Items {
			items = append(items, &l.Items[i])
		}
	case "configmaps":
		l, err := r.Client.CoreV1().ConfigMaps(ns).List(ctx, o)
		if err != nil {
			return nil, err
		}
		for i := range l.Items {
			items = append(items, &l.Items[i])
		}
	case "pods":
		l, err := r.Client.CoreV1().Pods(ns).List(ctx, o)
		if err != nil {
			return nil, err
		}
		for i := range l.Items {
			items = append(items, &l.Items[i])
		}
	default:
		return nil, &KindNotReadError{Kind: gvr.Resource}
	}
	out := make([]map[string]any, 0, len(items))
	for _, it := range items {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(it)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// DriftOf compares the manifest of release hr with the live objects read by rd: what doctor's drift check
// asks (the drifted fields, the missing and the unmanaged objects, what was skipped), without CRDs,
// record size, images or provenance.
func DriftOf(ctx context.Context, client kubernetes.Interface, rd Reader, namespace string, hr *helmsdk.Release) Release {
	rel := Release{Name: hr.Name, Namespace: namespace, Installed: true, Chart: hr.Chart, Version: hr.ChartVersion, Revision: hr.Revision,
		Drift: []ObjectDrift{}, Missing: []ObjectRef{}, NotInManifest: []ObjectRef{}, Skipped: []Skipped{}}
	v := &releaseVerify{cfg: Config{Namespace: namespace}, kc: &kube.Cluster{Client: client}, rd: rd, rel: &rel, hr: hr}
	v.drift(ctx)
	return rel
}
