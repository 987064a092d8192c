package upgrade

import (
	"bytes"
	"cmp"
	"slices"
	"strings"

	authv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/skoala-dev/kubectl-skoala/pkg/doctor"
	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
	"github.com/skoala-dev/kubectl-skoala/pkg/upgradepath"
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
	set := map[authv1.ResourceAttributes]bool{}
	add := func(ns, group, resource, name string, verbs ...string) {
		for _, v := range verbs {
			n := name
			if v == "create" || v == "list" {
				n = ""
			}
			set[authv1.ResourceAttributes{Namespace: ns, Verb: v, Group: group, Resource: resource, Name: n}] = true
		}
	}
	ns := in.Namespace

	// Helm's release records: Secrets sh.helm.release.v1.<release>.v<N> (their revisions are not known in
	// advance: no names).
	add(ns, "", "secrets", "", "get", "list", "create", "update")
	if in.PruneHistory || (in.Install && in.Atomic) {
		add(ns, "", "secrets", "", "delete")
	}
	// The lock.
	add(ns, "coordination.k8s.io", "leases", LockName(in.Release), "get", "create", "update", "delete")
	// DCE's cluster registry and each member's identity (--fleet kpanda); never a Secret of kpanda.
	switch {
	case in.Registry && in.ControlPlane:
		add("", "cluster.kpanda.io", "clusters", "", "list")
	case in.Registry:
		add("", "", "namespaces", "kube-system", "get")
	}
	if in.Install {
		add("", "", "namespaces", ns, "get", "create")
	}
	// kpanda's Helm operation Jobs, looked for before any change (helmops.ActiveOperations).
	add(ns, "batch", "jobs", "", "list")
	for _, j := range in.Jobs {
		add(ns, "batch", "jobs", j, "get", "delete")
	}
	for _, f := range in.CRDs {
		for _, o := range decodeObjects(f) {
			if o.Kind == "CustomResourceDefinition" {
				add("", groupCRD, "customresourcedefinitions", o.Metadata.Name, "get", "create", "patch")
			}
		}
	}

	// The chart's kinds the cluster may not serve yet (their CRDs come with the chart).
	chartKinds := map[string]manifestObject{}
	for _, f := range in.ChartCRDs {
		for _, o := range decodeObjects(f) {
			if o.Kind == "CustomResourceDefinition" {
				chartKinds[o.Spec.Group+"/"+o.Spec.Names.Kind] = o
			}
		}
	}
	resourceOf := func(o manifestObject) (group, resource, namespace string) {
		group, version := o.group()
		res, namespaced, ok := "", false, false
		if mapping != nil {
			res, namespaced, ok = mapping(group, version, o.Kind)
		}
		if !ok {
			if crd, found := chartKinds[group+"/"+o.Kind]; found && crd.Spec.Names.Plural != "" {
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
		return group, res, ns
	}

	type key struct{ group, resource, namespace, name string }
	objects := func(manifest string) map[key]manifestObject {
		m := map[key]manifestObject{}
		for _, o := range decodeObjects([]byte(manifest)) {
			g, r, n := resourceOf(o)
			m[key{g, r, n, o.Metadata.Name}] = o
		}
		return m
	}
	target, previous := objects(in.Manifest), objects(in.Previous)
	undo := in.Atomic || in.CleanupOnFail
	for k, o := range target {
		if _, kept := previous[k]; kept {
			add(k.namespace, k.group, k.resource, k.name, "get", "patch")
		} else {
			add(k.namespace, k.group, k.resource, k.name, "get", "create")
			if undo {
				add(k.namespace, k.group, k.resource, k.name, "delete")
			}
		}
		rbacRights(add, k.namespace, k.group, k.resource, o)
	}
	for k, o := range previous {
		if _, kept := target[k]; kept {
			continue
		}
		add(k.namespace, k.group, k.resource, k.name, "get", "delete")
		if in.Atomic {
			add(k.namespace, k.group, k.resource, k.name, "create")
			rbacRights(add, k.namespace, k.group, k.resource, o)
		}
	}
	// A resume rolls back between the interrupted and the deployed revision first: every object of either
	// may be created, patched or deleted.
	for _, m := range in.Resumed {
		for k, o := range objects(m) {
			add(k.namespace, k.group, k.resource, k.name, "get", "create", "patch", "delete")
			rbacRights(add, k.namespace, k.group, k.resource, o)
		}
	}

	out := make([]authv1.ResourceAttributes, 0, len(set))
	for a := range set {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b authv1.ResourceAttributes) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Group, b.Group), cmp.Compare(a.Resource, b.Resource),
			cmp.Compare(a.Name, b.Name), cmp.Compare(a.Verb, b.Verb))
	})
	return out
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

// planRights is Rights of every release the plan changes, by context.
func planRights(cfg Config, ws []*work) map[string][]authv1.ResourceAttributes {
	out := map[string][]authv1.ResourceAttributes{}
	for _, w := range ws {
		p := w.plan
		if p.Action != ActionUpgrade && p.Action != ActionInstall && p.Action != ActionResume {
			continue
		}
		in := RightsInput{Namespace: cfg.Namespace, Release: w.target.Release, Manifest: w.manifest,
			Install: p.Action == ActionInstall, Atomic: cfg.Atomic, CleanupOnFail: cfg.CleanupOnFail, PruneHistory: cfg.MaxHistory > 0,
			Registry: cfg.Scope.Registry, ControlPlane: w.target.Role == fleet.RoleControlPlane}
		if b := baseRelease(w); b != nil && !in.Install {
			in.Previous = b.Manifest
		}
		if p.Action == ActionResume {
			in.Resumed = append(in.Resumed, in.Previous)
			if w.last != nil {
				in.Resumed = append(in.Resumed, w.last.Manifest)
			}
		}
		for _, s := range p.Steps {
			if s.Kind == StepJobs {
				in.Jobs = append(in.Jobs, upgradepath.AdmissionJobs...)
			}
		}
		for _, f := range w.crds {
			in.CRDs = append(in.CRDs, f.Data)
		}
		if w.chart != nil {
			for _, f := range w.chart.CRDFiles() {
				in.ChartCRDs = append(in.ChartCRDs, f.Data)
			}
		}
		out[p.Context] = append(out[p.Context], Rights(in, ClusterKindMapping(w.cluster))...)
	}
	return out
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

// doctorAccess is rights in the permissions check's terms.
func doctorAccess(rights map[string][]authv1.ResourceAttributes) map[string][]doctor.Access {
	if rights == nil {
		return nil
	}
	out := make(map[string][]doctor.Access, len(rights))
	for ctx, list := range rights {
		acc := make([]doctor.Access, 0, len(list))
		for _, r := range list {
			acc = append(acc, doctor.Access{Verb: r.Verb, Group: r.Group, Resource: r.Resource, Namespace: r.Namespace, Name: r.Name})
		}
		out[ctx] = acc
	}
	return out
}
