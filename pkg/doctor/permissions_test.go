package doctor

import (
	"strings"
	"sync/atomic"
	"testing"

	authv1 "k8s.io/api/authorization/v1"
)

func TestGrants(t *testing.T) {
	rules := []authv1.ResourceRule{
		{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"pods", "secrets"}},
		{Verbs: []string{"*"}, APIGroups: []string{"apps"}, Resources: []string{"deployments"}},
		{Verbs: []string{"delete"}, APIGroups: []string{"batch"}, Resources: []string{"jobs"}, ResourceNames: []string{"gateway-api-admission"}},
		{Verbs: []string{"list"}, APIGroups: []string{"*"}, Resources: []string{"*"}},
	}
	for _, c := range []struct {
		verb, group, res string
		want             bool
	}{
		{"list", "", "secrets", true},
		{"create", "", "secrets", false},
		{"patch", "apps", "deployments", true},
		{"patch", "apps", "statefulsets", false},
		{"patch", "", "deployments", false},                        // the core group is not apps
		{"delete", "batch", "jobs", false},                         // only one named Job: not every Job
		{"list", "monitoring.coreos.com", "servicemonitors", true}, // wildcards
	} {
		if got := grants(rules, c.verb, c.group, c.res, ""); got != c.want {
			t.Errorf("grants(%s %s/%s) = %v, want %v", c.verb, c.group, c.res, got, c.want)
		}
	}
	if grants(nil, "list", "", "pods", "") {
		t.Error("no rules grant something")
	}
}

// clusterScoped counts the distinct cluster-scoped permissions doctor asks about on a cluster of role.
func clusterScoped(role string, mode Mode) int64 {
	d, u := needed(role, mode)
	seen := map[string]bool{}
	for _, a := range append(d, u...) {
		if a.Namespace == "" {
			seen[a.key()] = true
		}
	}
	return int64(len(seen))
}

func reviews(f *fixture, kind, cluster string) int64 {
	return atomic.LoadInt64(f.counter(kind + "@" + cluster))
}

// A healthy run asks one rules review per namespace and an access review only for cluster-scoped
// permissions, instead of one access review per permission.
func TestPermissionsAskOneRulesReviewPerNamespace(t *testing.T) {
	f := newFixture(t)
	rep := f.run(t)
	if rep.Failed() {
		t.Fatalf("healthy fleet failed: %+v", rep.Failures())
	}
	for _, c := range []struct {
		cluster, role string
		namespaces    int64
	}{
		{"global", RoleControlPlane, 2},   // skoala-system, mcamel-system
		{"workspace-1", RoleWorkspace, 2}, // skoala-system, insight-system
	} {
		if got := reviews(f, "ssrr", c.cluster); got != c.namespaces {
			t.Errorf("%s: %d rules reviews, want one per namespace (%d)", c.cluster, got, c.namespaces)
		}
		if got, want := reviews(f, "ssar", c.cluster), clusterScoped(c.role, f.cfg.Mode); got != want {
			t.Errorf("%s: %d access reviews, want %d (the cluster-scoped permissions only)", c.cluster, got, want)
		}
	}
}

// Whatever the rules review says or fails to say, a denial is the access review's answer, and a grant the
// rules review cannot confirm is asked again: the report is the same.
func TestPermissionsFallBackToAccessReviews(t *testing.T) {
	for _, mode := range []string{"", "incomplete", "names", "error"} {
		t.Run("rules="+mode, func(t *testing.T) {
			f := newFixture(t)
			f.rules = mode
			rep := f.run(t)
			if r := get(t, rep, IDPermissions, "global"); r.Status != StatusOK {
				t.Errorf("healthy: %+v", r)
			}
			if mode != "" && reviews(f, "ssar", "global") <= clusterScoped(RoleControlPlane, f.cfg.Mode) {
				t.Errorf("rules review %q was trusted: only %d access reviews", mode, reviews(f, "ssar", "global"))
			}

			f = newFixture(t)
			f.rules = mode
			f.denied["delete jobs"] = true
			rep = f.run(t)
			r := get(t, rep, IDPermissions, "global")
			if r.Status != StatusWarn || !strings.Contains(r.Message, "cannot delete jobs.batch in skoala-system") {
				t.Errorf("denied: %+v", r)
			}
			if strings.Contains(r.Message, "list") {
				t.Errorf("a granted permission reported as denied: %s", r.Message)
			}
		})
	}
}

// The lists that several checks need are made once per cluster: the release, insight-agent's release
// (Secrets), the Jobs (components and the admission-Job check), the namespaces.
func TestSharedReadsAreMadeOnce(t *testing.T) {
	f := newFixture(t)
	if rep := f.run(t); rep.Failed() {
		t.Fatalf("healthy fleet failed: %+v", rep.Failures())
	}
	for key, want := range map[string]int64{
		"list jobs@workspace-1":    1,
		"list secrets@workspace-1": 2, // skoala-init's and insight-agent's releases
		"list secrets@global":      1,
		"list pods@workspace-1":    1,
		"get namespaces@global":    1,
	} {
		if got := atomic.LoadInt64(f.counter(key)); got != want {
			t.Errorf("%s: %d requests, want %d", key, got, want)
		}
	}
}

// Missing upgrade rights are a warning for doctor, and a failure in an upgrade's preflight (it refuses to
// start instead of stopping at its first write).
func TestMissingUpgradeRightsFailThePreflight(t *testing.T) {
	for _, mode := range []Mode{ModeDefault, ModePreUpgrade} {
		f := newFixture(t)
		f.denied["delete jobs"] = true
		if mode == ModePreUpgrade {
			f.cfg.Mode, f.cfg.TargetVersion = ModePreUpgrade, "0.57.2"
		}
		r := get(t, f.run(t), IDPermissions, "workspace-1")
		want := StatusWarn
		if mode == ModePreUpgrade {
			want = StatusFail
		}
		if r.Status != want || !strings.Contains(r.Message, "upgrade would fail: cannot delete jobs.batch in skoala-system") {
			t.Errorf("%s: %+v, want %s", mode, r, want)
		}
	}
	// Rights doctor lacks but upgrade does not need stay a warning before an upgrade too.
	f := newFixture(t)
	f.denied["list pods"] = true
	f.cfg.Mode, f.cfg.TargetVersion = ModePreUpgrade, "0.57.2"
	if r := get(t, f.run(t), IDPermissions, "workspace-1"); r.Status != StatusWarn {
		t.Errorf("doctor-only rights before an upgrade: %+v", r)
	}
}

// A rule limited to resourceNames grants the objects it names, and only those.
func TestGrantsNamedObjects(t *testing.T) {
	rules := []authv1.ResourceRule{{Verbs: []string{"delete"}, APIGroups: []string{"batch"}, Resources: []string{"jobs"}, ResourceNames: []string{"gateway-api-admission"}}}
	if !grants(rules, "delete", "batch", "jobs", "gateway-api-admission") {
		t.Error("the named Job is not granted")
	}
	if grants(rules, "delete", "batch", "jobs", "gateway-api-admission-patch") || grants(rules, "delete", "batch", "jobs", "") {
		t.Error("a rule limited to one name grants another Job, or every Job")
	}
}

// Before an upgrade, the permissions check asks about the rights the plan uses (Config.UpgradeRights)
// instead of its fixed list, and names the missing one with its object.
func TestPermissionsCheckAsksTheUpgradesRights(t *testing.T) {
	rights := map[string][]Access{"workspace-1": {
		{Verb: "create", Group: "coordination.k8s.io", Resource: "leases", Namespace: "skoala-system"},
		{Verb: "delete", Group: "coordination.k8s.io", Resource: "leases", Namespace: "skoala-system", Name: "kubectl-skoala-upgrade.skoala-init"},
	}}
	f := newFixture(t)
	f.cfg.Mode, f.cfg.TargetVersion, f.cfg.UpgradeRights = ModePreUpgrade, "0.57.2", rights
	if r := get(t, f.run(t), IDPermissions, "workspace-1"); r.Status != StatusOK {
		t.Errorf("all rights granted: %+v", r)
	}

	f = newFixture(t)
	f.cfg.Mode, f.cfg.TargetVersion, f.cfg.UpgradeRights = ModePreUpgrade, "0.57.2", rights
	f.denied["delete leases/kubectl-skoala-upgrade.skoala-init"] = true
	f.denied["delete jobs"] = true // in the fixed list, not in the plan's: not asked
	r := get(t, f.run(t), IDPermissions, "workspace-1")
	want := "upgrade would fail: cannot delete leases.coordination.k8s.io/kubectl-skoala-upgrade.skoala-init in skoala-system"
	if r.Status != StatusFail || r.Message != want {
		t.Errorf("got %s %q, want fail %q", r.Status, r.Message, want)
	}
	if !strings.Contains(r.Hint, "kubectl auth can-i delete leases.coordination.k8s.io/kubectl-skoala-upgrade.skoala-init -n skoala-system") {
		t.Errorf("hint: %q", r.Hint)
	}
}
