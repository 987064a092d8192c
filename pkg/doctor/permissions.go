package doctor

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	authv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Namespace placeholders of Access.Namespace, resolved from the Config.
const (
	// NSRelease is the releases' namespace (skoala-system).
	NSRelease = "{release}"
	// NSInsight is insight-agent's namespace (insight-system).
	NSInsight = "{insight}"
	// NSMySQL is common-mysql's namespace (mcamel-system, or the one the DSN names).
	NSMySQL = "{mysql}"
)

// Access is one API permission: a verb on a resource, in a namespace ("" for cluster-scoped or all), on
// one object when Name is set (else on every object).
type Access struct {
	Verb      string `json:"verb"`
	Group     string `json:"group,omitempty"`
	Resource  string `json:"resource"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
}

func (a Access) resolve(cfg *Config, mysqlNS string) Access {
	switch a.Namespace {
	case NSRelease:
		a.Namespace = cfg.Namespace
	case NSInsight:
		a.Namespace = cfg.InsightNamespace
	case NSMySQL:
		a.Namespace = mysqlNS
	}
	return a
}

// String is "list secrets in skoala-system", "delete jobs.batch/gateway-api-admission in skoala-system".
func (a Access) String() string {
	res := a.resource()
	if a.Namespace == "" {
		return a.Verb + " " + res
	}
	return fmt.Sprintf("%s %s in %s", a.Verb, res, a.Namespace)
}

// resource is "jobs.batch", "jobs.batch/gateway-api-admission" (kubectl auth can-i's form).
func (a Access) resource() string {
	res := a.Resource
	if a.Group != "" {
		res += "." + a.Group
	}
	if a.Name != "" {
		res += "/" + a.Name
	}
	return res
}

// CanI is the kubectl command that checks the permission.
func (a Access) CanI() string {
	s := "kubectl auth can-i " + a.Verb + " " + a.resource()
	if a.Namespace != "" {
		s += " -n " + a.Namespace
	}
	return s
}

func (a Access) key() string {
	return a.Verb + "|" + a.Group + "|" + a.Resource + "|" + a.Namespace + "|" + a.Name
}

// Permission sets. Doctor only reads; upgrade also writes the release (Secrets), the workloads, the
// admission Jobs and the CRDs Helm does not upgrade.
var (
	readRelease = []Access{
		{Verb: "list", Resource: "secrets", Namespace: NSRelease},
	}
	readWorkloads = []Access{
		{Verb: "list", Group: "apps", Resource: "deployments", Namespace: NSRelease},
		{Verb: "list", Resource: "pods", Namespace: NSRelease},
	}
	readJobs       = []Access{{Verb: "list", Group: "batch", Resource: "jobs", Namespace: NSRelease}}
	readNamespaces = []Access{{Verb: "get", Resource: "namespaces"}}
	readJournal    = []Access{{Verb: "get", Resource: "configmaps", Namespace: NSRelease}}
	readInsight    = []Access{
		{Verb: "list", Resource: "pods", Namespace: NSInsight},
	}
	readServiceMonitors = []Access{{Verb: "list", Group: "monitoring.coreos.com", Resource: "servicemonitors", Namespace: NSRelease}}
	readMySQL           = []Access{{Verb: "list", Group: "apps", Resource: "statefulsets", Namespace: NSMySQL}}

	// Helm stores revisions in Secrets (create, update, delete old ones) and patches the chart's objects;
	// upgrade deletes the admission Jobs and server-side applies the CRDs Helm does not upgrade.
	upgradeWrites = []Access{
		{Verb: "create", Resource: "secrets", Namespace: NSRelease},
		{Verb: "update", Resource: "secrets", Namespace: NSRelease},
		{Verb: "delete", Resource: "secrets", Namespace: NSRelease},
		{Verb: "patch", Resource: "secrets", Namespace: NSRelease},
		{Verb: "patch", Group: "apps", Resource: "deployments", Namespace: NSRelease},
		{Verb: "create", Group: "apps", Resource: "deployments", Namespace: NSRelease},
		{Verb: "patch", Resource: "services", Namespace: NSRelease},
		{Verb: "create", Resource: "services", Namespace: NSRelease},
		{Verb: "delete", Group: "batch", Resource: "jobs", Namespace: NSRelease},
		{Verb: "create", Group: "batch", Resource: "jobs", Namespace: NSRelease},
	}
	upgradeWorkspaceWrites = []Access{
		{Verb: "create", Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"},
		{Verb: "patch", Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"},
		{Verb: "patch", Group: "monitoring.coreos.com", Resource: "servicemonitors", Namespace: NSRelease},
	}
)

func join(sets ...[]Access) []Access {
	var out []Access
	for _, s := range sets {
		out = append(out, s...)
	}
	return out
}

// needed lists what doctor and upgrade need on a cluster of the role, tagged with who needs it. The
// upgrade's list is the fixed one of the product's charts; an upgrade's preflight passes the rights its plan
// uses instead (Config.UpgradeRights).
func needed(role string, mode Mode) (doctor, upgrade []Access) {
	doctor = join(readNamespaces, readRelease, readWorkloads, readJobs)
	upgrade = append([]Access{}, upgradeWrites...)
	switch role {
	case RoleControlPlane:
		doctor = join(doctor, readMySQL, readJournal)
	case RoleWorkspace:
		doctor = join(doctor, readInsight, readServiceMonitors)
		upgrade = append(upgrade, upgradeWorkspaceWrites...)
	}
	if mode == ModePreInstall {
		upgrade = append(upgrade, Access{Verb: "create", Resource: "namespaces"})
	}
	return doctor, upgrade
}

// access memoizes the answers about one cluster's permissions: one SelfSubjectRulesReview per namespace,
// and a SelfSubjectAccessReview for each permission the rules do not grant (cluster-scoped resources, a
// rules review that is incomplete or denies).
type access struct {
	mu    sync.Mutex
	m     map[string]*lazy[accessAnswer]
	rules map[string]*lazy[rulesAnswer]
}

type accessAnswer struct {
	allowed bool
	// known is false when the review itself could not be made (the check then finds out by trying).
	known  bool
	reason string
}

// rulesAnswer is what a SelfSubjectRulesReview said about one namespace.
type rulesAnswer struct {
	rules      []authv1.ResourceRule
	incomplete bool
}

// grants reports whether one of the rules allows verb on group/resource for every object, or for the
// object name when it is not "" (a rule limited to resourceNames grants only the objects it names).
func grants(rules []authv1.ResourceRule, verb, group, resource, name string) bool {
	for _, r := range rules {
		if len(r.ResourceNames) > 0 && (name == "" || !matchRule(r.ResourceNames, name)) {
			continue
		}
		if matchRule(r.Verbs, verb) && matchRule(r.APIGroups, group) && matchRule(r.Resources, resource) {
			return true
		}
	}
	return false
}

func matchRule(list []string, v string) bool {
	for _, x := range list {
		if x == "*" || x == v {
			return true
		}
	}
	return false
}

// rulesFor returns the user's rules in namespace ns (one SelfSubjectRulesReview, shared by every check).
func (e *Env) rulesFor(ctx context.Context, ns string) (rulesAnswer, error) {
	cs := e.cs
	cs.access.mu.Lock()
	if cs.access.rules == nil {
		cs.access.rules = map[string]*lazy[rulesAnswer]{}
	}
	l, ok := cs.access.rules[ns]
	if !ok {
		l = &lazy[rulesAnswer]{}
		cs.access.rules[ns] = l
	}
	cs.access.mu.Unlock()
	return l.get(ctx, e.r.base, e.r.cfg.CheckTimeout, func(ctx context.Context) (rulesAnswer, error) {
		rev := &authv1.SelfSubjectRulesReview{Spec: authv1.SelfSubjectRulesReviewSpec{Namespace: ns}}
		out, err := cs.client.AuthorizationV1().SelfSubjectRulesReviews().Create(ctx, rev, metav1.CreateOptions{})
		if err != nil {
			return rulesAnswer{}, err
		}
		return rulesAnswer{rules: out.Status.ResourceRules, incomplete: out.Status.Incomplete}, nil
	})
}

// can asks the API server whether the user may do a. A namespaced permission the namespace's rules
// grant needs no further request; anything else is asked with a SelfSubjectAccessReview (once per
// permission), because only the authorizer's own answer is final for a denial: rules reviews can be
// incomplete (webhook authorizers) and do not cover cluster-scoped resources.
func (e *Env) can(ctx context.Context, a Access) accessAnswer {
	cs := e.cs
	if cs == nil || cs.client == nil {
		return accessAnswer{allowed: true}
	}
	if a.Namespace != "" {
		if ra, err := e.rulesFor(ctx, a.Namespace); err == nil && grants(ra.rules, a.Verb, a.Group, a.Resource, a.Name) {
			return accessAnswer{allowed: true, known: true}
		}
	}
	cs.access.mu.Lock()
	if cs.access.m == nil {
		cs.access.m = map[string]*lazy[accessAnswer]{}
	}
	l, ok := cs.access.m[a.key()]
	if !ok {
		l = &lazy[accessAnswer]{}
		cs.access.m[a.key()] = l
	}
	cs.access.mu.Unlock()
	ans, err := l.get(ctx, e.r.base, e.r.cfg.CheckTimeout, func(ctx context.Context) (accessAnswer, error) {
		rev := &authv1.SelfSubjectAccessReview{Spec: authv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authv1.ResourceAttributes{
			Verb: a.Verb, Group: a.Group, Resource: a.Resource, Namespace: a.Namespace, Name: a.Name,
		}}}
		out, err := cs.client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, rev, metav1.CreateOptions{})
		if err != nil {
			return accessAnswer{}, err
		}
		return accessAnswer{allowed: out.Status.Allowed, known: true, reason: out.Status.Reason}, nil
	})
	if err != nil {
		return accessAnswer{allowed: true}
	}
	return ans
}

// denied returns the permissions of list that the user does not have, resolved and sorted.
func (e *Env) denied(ctx context.Context, list []Access) []Access {
	type res struct {
		a  Access
		ok bool
	}
	out := make([]res, len(list))
	var wg sync.WaitGroup
	for i, a := range list {
		wg.Add(1)
		go func(i int, a Access) {
			defer wg.Done()
			a = a.resolve(e.Config, e.mysqlNamespace())
			out[i] = res{a: a, ok: e.can(ctx, a).allowed}
		}(i, a)
	}
	wg.Wait()
	var d []Access
	seen := map[string]bool{}
	for _, r := range out {
		if !r.ok && !seen[r.a.key()] {
			seen[r.a.key()] = true
			d = append(d, r.a)
		}
	}
	sort.SliceStable(d, func(i, j int) bool { return d[i].String() < d[j].String() })
	return d
}

func accessList(list []Access) string {
	s := make([]string, len(list))
	for i, a := range list {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}
