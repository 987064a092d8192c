package change

import (
	"bytes"
	"cmp"
	"slices"
	"strings"

	authv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

// Rights (issue 12 §5b): every API right one release's upgrade uses, derived from what it will touch: the
// objects of the rendered target manifest and of the revision it replaces (Helm gets, creates, patches and
// deletes them; an atomic rollback or cleanup-on-fail undoes that), Helm's release Secrets, the Lease of
// the lock, the admission Jobs it deletes, the CRDs it applies and the namespace it creates. The preflight
// asks the API server about each before any change, so a missing one refuses the upgrade up front instead
// of failing mid-apply and rolling back.

// RightsInput is what one release's upgrade touches.
type RightsInput struct {
	// Namespace and Release of the Helm release.
	Namespace, Release string
	// Manifest is the rendered target manifest; Previous the manifest of the revision it replaces ("" on an
	// install). Resumed lists further manifests the resume's rollback moves between (the interrupted and
	// the deployed revision).
	Manifest, Previous string
	Resumed            []string
	Install            bool
	Atomic             bool
	CleanupOnFail      bool
	// PruneHistory is set when Helm deletes old revisions (--history-max).
	PruneHistory bool
	// Jobs are the Jobs deleted before the Helm call.
	Jobs []string
	// CRDs are the crds/ files applied before the Helm call; ChartCRDs every crds/ file of the chart (they
	// say the resource and scope of the chart's own kinds when the cluster does not serve them yet).
	CRDs, ChartCRDs [][]byte
	// Registry is --fleet kpanda: the control plane's Cluster objects are listed (ControlPlane) and each
	// workspace's kube-system namespace is read, its identity (otherwise).
	Registry, ControlPlane bool
}

// KindMapping is the cluster's REST mapping of a kind: its resource and whether it is namespaced; ok is
// false when the cluster does not know the kind.
type KindMapping func(group, version, kind string) (resource string, namespaced, ok bool)

// manifestObject is the part of a manifest object that rights depend on.
type manifestObject struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	RoleRef struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	} `json:"roleRef"`
	Spec struct {
		Group string `json:"group"`
		Names struct {
			Kind   string `json:"kind"`
			Plural string `json:"plural"`
		} `json:"names"`
		Scope string `json:"scope"`
	} `json:"spec"`
}

func (o manifestObject) group() (group, version string) {
	if i := strings.IndexByte(o.APIVersion, '/'); i >= 0 {
		return o.APIVersion[:i], o.APIVersion[i+1:]
	}
	return "", o.APIVersion
}

// decodeObjects reads the objects of a manifest or crds/ file (documents that are no object are skipped).
func decodeObjects(data []byte) []manifestObject {
	var out []manifestObject
	for _, doc := range bytes.Split(append([]byte("\n"), data...), []byte("\n---")) {
		var o manifestObject
		if len(bytes.TrimSpace(doc)) == 0 || yaml.Unmarshal(doc, &o) != nil || o.Kind == "" || o.Metadata.Name == "" {
			continue
		}
		out = append(out, o)
	}
	return out
}

const (
	groupRBAC = "rbac.authorization.k8s.io"
	groupCRD  = "apiextensions.k8s.io"
)

// Rights lists every right the upgrade of in uses, without duplicates, sorted by namespace, group,
// resource, name and verb. A right on a named object carries its name (so a role limited to resourceNames
// is judged right); creating never does (the authorizer sees no name on a create).
func Rights(in RightsInput, mapping KindMapping) []authv1.ResourceAttributes {
	rs := rightSet{}
	rs.fixed(in)
	r := resolver{ns: in.Namespace, mapping: mapping, chartKinds: chartKinds(in.ChartCRDs)}
	rs.objects(in, r)
	out := make([]authv1.ResourceAttributes, 0, len(rs))
	for a := range rs {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b authv1.ResourceAttributes) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Group, b.Group), cmp.Compare(a.Resource, b.Resource),
			cmp.Compare(a.Name, b.Name), cmp.Compare(a.Verb, b.Verb))
	})
	return out
}

// rightSet is a set of rights.
type rightSet map[authv1.ResourceAttributes]bool

func (rs rightSet) add(ns, group, resource, name string, verbs ...string) {
	for _, v := range verbs {
		n := name
		if v == "create" || v == "list" {
			n = ""
		}
		rs[authv1.ResourceAttributes{Namespace: ns, Verb: v, Group: group, Resource: resource, Name: n}] = true
	}
}

// fixed adds the rights every change of in uses whatever its manifests: Helm's records, the lock, the
// registry, the namespace, kpanda's Jobs, the Jobs deleted and the CRDs applied.
func (rs rightSet) fixed(in RightsInput) {
	ns := in.Namespace
	// Helm's release records: Secrets sh.helm.release.v1.<release>.v<N> (their revisions are not known in
	// advance: no names).
	rs.add(ns, "", "secrets", "", "get", "list", "create", "update")
	if in.PruneHistory || (in.Install && in.Atomic) {
		rs.add(ns, "", "secrets", "", "delete")
	}
	// The lock.
	rs.add(ns, "coordination.k8s.io", "leases", LockName(in.Release), "get", "create", "update", "delete")
	// DCE's cluster registry and each member's identity (--fleet kpanda); never a Secret of kpanda.
	switch {
	case in.Registry && in.ControlPlane:
		rs.add("", "cluster.kpanda.io", "clusters", "", "list")
	case in.Registry:
		rs.add("", "", "namespaces", "kube-system", "get")
	}
	if in.Install {
		rs.add("", "", "namespaces", ns, "get", "create")
	}
	// kpanda's Helm operation Jobs, looked for before any change (helmops.ActiveOperations).
	rs.add(ns, "batch", "jobs", "", "list")
	for _, j := range in.Jobs {
		rs.add(ns, "batch", "jobs", j, "get", "delete")
	}
	for _, f := range in.CRDs {
		for _, o := range decodeObjects(f) {
			if o.Kind == "CustomResourceDefinition" {
				rs.add("", groupCRD, "customresourcedefinitions", o.Metadata.Name, "get", "create", "patch")
			}
		}
	}
}

// chartKinds are the chart's kinds the cluster may not serve yet (their CRDs come with the chart).
func chartKinds(files [][]byte) map[string]manifestObject {
	kinds := map[string]manifestObject{}
	for _, f := range files {
		for _, o := range decodeObjects(f) {
			if o.Kind == "CustomResourceDefinition" {
				kinds[o.Spec.Group+"/"+o.Spec.Names.Kind] = o
			}
		}
	}
	return kinds
}

// resolver finds the resource and namespace of a manifest's object.
type resolver struct {
	ns         string
	mapping    KindMapping
	chartKinds map[string]manifestObject
}

func (r resolver) resourceOf(o manifestObject) (group, resource, namespace string) {
	group, version := o.group()
	res, namespaced, ok := "", false, false
	if r.mapping != nil {
		res, namespaced, ok = r.mapping(group, version, o.Kind)
	}
	if !ok {
		if crd, found := r.chartKinds[group+"/"+o.Kind]; found && crd.Spec.Names.Plural != "" {
			res, namespaced = crd.Spec.Names.Plural, crd.Spec.Scope != "Cluster"
		} else {
			res, namespaced = guessResource(o.Kind), o.Metadata.Namespace != ""
		}
	}
	if !namespaced {
		return group, res, ""
	}
	if o.Metadata.Namespace != "" {
		return group, res, o.Metadata.Namespace
	}
	return group, res, r.ns
}

type objectKey struct{ group, resource, namespace, name string }

func (r resolver) objects(manifest string) map[objectKey]manifestObject {
	m := map[objectKey]manifestObject{}
	for _, o := range decodeObjects([]byte(manifest)) {
		g, res, n := r.resourceOf(o)
		m[objectKey{g, res, n, o.Metadata.Name}] = o
	}
	return m
}

// objects adds the rights on the objects of the manifests: the target's created or patched, the
// previous revision's deleted, and what an atomic rollback or a resume undoes.
func (rs rightSet) objects(in RightsInput, r resolver) {
	target, previous := r.objects(in.Manifest), r.objects(in.Previous)
	undo := in.Atomic || in.CleanupOnFail
	for k, o := range target {
		if _, kept := previous[k]; kept {
			rs.add(k.namespace, k.group, k.resource, k.name, "get", "patch")
		} else {
			rs.add(k.namespace, k.group, k.resource, k.name, "get", "create")
			if undo {
				rs.add(k.namespace, k.group, k.resource, k.name, "delete")
			}
		}
		rbacRights(rs.add, k.namespace, k.group, k.resource, o)
	}
	for k, o := range previous {
		if _, kept := target[k]; kept {
			continue
		}
		rs.add(k.namespace, k.group, k.resource, k.name, "get", "delete")
		if in.Atomic {
			rs.add(k.namespace, k.group, k.resource, k.name, "create")
			rbacRights(rs.add, k.namespace, k.group, k.resource, o)
		}
	}
	// A resume rolls back between the interrupted and the deployed revision first: every object of either
	// may be created, patched or deleted.
	for _, m := range in.Resumed {
		for k, o := range r.objects(m) {
			rs.add(k.namespace, k.group, k.resource, k.name, "get", "create", "patch", "delete")
			rbacRights(rs.add, k.namespace, k.group, k.resource, o)
		}
	}
}

// rbacRights adds what the RBAC API asks beyond create and patch: writing a Role or ClusterRole that grants
// more than the writer holds needs escalate on it, a binding needs bind on the role it refers to.
func rbacRights(add func(ns, group, resource, name string, verbs ...string), ns, group, resource string, o manifestObject) {
	if group != groupRBAC {
		return
	}
	switch resource {
	case "roles", "clusterroles":
		add(ns, groupRBAC, resource, o.Metadata.Name, "escalate")
	case "rolebindings", "clusterrolebindings":
		switch o.RoleRef.Kind {
		case "Role":
			add(ns, groupRBAC, "roles", o.RoleRef.Name, "bind")
		case "ClusterRole":
			add(ns, groupRBAC, "clusterroles", o.RoleRef.Name, "bind")
		}
	}
}

// guessResource is the resource of a kind nobody maps (kubectl's guess: lower case, plural).
func guessResource(kind string) string {
	k := strings.ToLower(kind)
	switch {
	case strings.HasSuffix(k, "s"), strings.HasSuffix(k, "x"), strings.HasSuffix(k, "ch"), strings.HasSuffix(k, "sh"):
		return k + "es"
	case strings.HasSuffix(k, "y") && len(k) > 1 && !strings.ContainsAny(k[len(k)-2:len(k)-1], "aeiou"):
		return k[:len(k)-1] + "ies"
	}
	return k + "s"
}

// ClusterKindMapping is the REST mapping of the cluster's kinds (nil when it cannot be had).
func ClusterKindMapping(c *kube.Cluster) KindMapping {
	if c == nil || c.Getter == nil {
		return nil
	}
	m, err := c.Getter.ToRESTMapper()
	if err != nil {
		return nil
	}
	return func(group, version, kind string) (string, bool, bool) {
		rm, err := m.RESTMapping(schema.GroupKind{Group: group, Kind: kind}, version)
		if err != nil {
			return "", false, false
		}
		return rm.Resource.Resource, rm.Scope.Name() == meta.RESTScopeNameNamespace, true
	}
}
