package helmsdk

import (
	"context"
	"fmt"
	"strings"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling/engine"
	"github.com/fluxcd/cli-utils/pkg/kstatus/polling/event"
	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"github.com/fluxcd/cli-utils/pkg/object"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// A ready release (docs/safety.md, "What a ready release is"). Helm 4's wait (the kstatus watcher)
// waits for every object of the release. Workloads and the other built-in kinds keep kstatus's rules
// (a Deployment is ready when its new pods are available, and so on). A custom resource is read here:
//
//   - without a status (or an empty one) it is ready: its controller may not run on the site (skoala-init
//     renders Gateway API and Contour objects whose status nothing fills there), and a status that never
//     comes must not hold the release until --timeout and roll it back;
//   - reporting a failure it fails the wait at once: a condition Stalled=True, Accepted=False (Gateway
//     API: the controller rejected it) or Failed=True, or Contour's status.currentStatus "invalid";
//   - otherwise kstatus decides from its conditions (Reconciling=True or Ready=False: in progress, waited
//     for up to --timeout; observedGeneration behind generation: in progress).

// customResourceReader is the kstatus status reader of custom resources (any API group that is not
// built into Kubernetes).
type customResourceReader struct {
	mapper meta.RESTMapper
}

func newCustomResourceReader(mapper meta.RESTMapper) engine.StatusReader {
	return &customResourceReader{mapper: mapper}
}

// builtinGroups are the API groups Kubernetes serves itself (kstatus's own rules apply to them).
func builtinGroup(g string) bool {
	if g == "" {
		return true
	}
	switch g {
	case "apps", "batch", "autoscaling", "policy":
		return true
	}
	return strings.HasSuffix(g, ".k8s.io") && !strings.HasSuffix(g, ".x-k8s.io") && g != "gateway.networking.k8s.io"
}

func (r *customResourceReader) Supports(gk schema.GroupKind) bool { return !builtinGroup(gk.Group) }

func (r *customResourceReader) ReadStatus(ctx context.Context, cr engine.ClusterReader, id object.ObjMetadata) (*event.ResourceStatus, error) {
	if r.mapper == nil {
		return &event.ResourceStatus{Identifier: id, Status: status.UnknownStatus, Message: "no REST mapper to read it"}, nil
	}
	m, err := r.mapper.RESTMapping(id.GroupKind)
	if err != nil {
		return &event.ResourceStatus{Identifier: id, Status: status.UnknownStatus, Error: err}, nil
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(m.GroupVersionKind)
	if err := cr.Get(ctx, client.ObjectKey{Namespace: id.Namespace, Name: id.Name}, u); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if apierrors.IsNotFound(err) {
			return &event.ResourceStatus{Identifier: id, Status: status.NotFoundStatus, Message: "not found"}, nil
		}
		return &event.ResourceStatus{Identifier: id, Status: status.UnknownStatus, Error: err}, nil
	}
	return r.ReadStatusForObject(ctx, cr, u)
}

func (r *customResourceReader) ReadStatusForObject(_ context.Context, _ engine.ClusterReader, u *unstructured.Unstructured) (*event.ResourceStatus, error) {
	res := customResourceStatus(u)
	return &event.ResourceStatus{Identifier: object.UnstructuredToObjMetadata(u), Status: res.Status, Resource: u, Message: res.Message}, nil
}

// customResourceStatus is the readiness of a custom resource, as the comment above says.
func customResourceStatus(u *unstructured.Unstructured) *status.Result {
	if u.GetDeletionTimestamp() != nil {
		return &status.Result{Status: status.TerminatingStatus, Message: "being deleted"}
	}
	st, ok := u.Object["status"].(map[string]any)
	if !ok || len(st) == 0 {
		return &status.Result{Status: status.CurrentStatus, Message: "reports no status: not waited for"}
	}
	if cs, _ := st["currentStatus"].(string); strings.EqualFold(cs, "invalid") {
		desc, _ := st["description"].(string)
		return &status.Result{Status: status.FailedStatus, Message: strings.TrimSpace("invalid: " + desc)}
	}
	conds, _ := st["conditions"].([]any)
	for _, c := range conds {
		cm, _ := c.(map[string]any)
		typ, _ := cm["type"].(string)
		val, _ := cm["status"].(string)
		failed := (typ == "Stalled" && val == "True") || (typ == "Failed" && val == "True") || (typ == "Accepted" && val == "False")
		if failed {
			reason, _ := cm["reason"].(string)
			msg, _ := cm["message"].(string)
			return &status.Result{Status: status.FailedStatus, Message: fmt.Sprintf("%s=%s %s: %s", typ, val, reason, msg)}
		}
	}
	res, err := status.Compute(u)
	if err != nil {
		return &status.Result{Status: status.UnknownStatus, Message: err.Error()}
	}
	return res
}
