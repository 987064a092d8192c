package verify

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

// Reader reads the live objects of one cluster, whatever their kind.
type Reader interface {
	// Resource maps an apiVersion and kind to its resource and whether it is namespaced.
	Resource(apiVersion, kind string) (schema.GroupVersionResource, bool, error)
	Get(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string) (map[string]any, error)
	List(ctx context.Context, gvr schema.GroupVersionResource, namespace, selector string) ([]map[string]any, error)
}

// DynamicReader is a Reader over a dynamic client and a REST mapper.
type DynamicReader struct {
	Dynamic dynamic.Interface
	Mapper  meta.RESTMapper
}

// NewReader returns the Reader of a cluster: its dynamic client and its discovery's REST mapper.
func NewReader(kc *kube.Cluster) (Reader, error) {
	if kc.Config == nil || kc.Getter == nil {
		return nil, errors.New("no REST config for the cluster")
	}
	dyn, err := dynamic.NewForConfig(kc.Config)
	if err != nil {
		return nil, err
	}
	m, err := kc.Getter.ToRESTMapper()
	if err != nil {
		return nil, err
	}
	return &DynamicReader{Dynamic: dyn, Mapper: m}, nil
}

// Resource implements Reader.
func (r *DynamicReader) Resource(apiVersion, kind string) (schema.GroupVersionResource, bool, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return schema.GroupVersionResource{}, false, err
	}
	m, err := r.Mapper.RESTMapping(gv.WithKind(kind).GroupKind(), gv.Version)
	if err != nil {
		return schema.GroupVersionResource{}, false, fmt.Errorf("the cluster does not serve %s %s: %w", apiVersion, kind, err)
	}
	return m.Resource, m.Scope.Name() == meta.RESTScopeNameNamespace, nil
}

// Get implements Reader.
func (r *DynamicReader) Get(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string) (map[string]any, error) {
	u, err := r.Dynamic.Resource(gvr).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return u.Object, nil
}

// List implements Reader.
func (r *DynamicReader) List(ctx context.Context, gvr schema.GroupVersionResource, namespace, selector string) ([]map[string]any, error) {
	l, err := r.Dynamic.Resource(gvr).Namespace(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(l.Items))
	for i := range l.Items {
		out[i] = l.Items[i].Object
	}
	return out, nil
}
