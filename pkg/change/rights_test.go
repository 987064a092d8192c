package change

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	authv1 "k8s.io/api/authorization/v1"
)

// mapping of a cluster that serves the core kinds and not the chart's own (their CRDs come with it).
func testMapping(group, version, kind string) (string, bool, bool) {
	switch group + "/" + kind {
	case "apps/Deployment":
		return "deployments", true, true
	case "/Service":
		return "services", true, true
	case "/Secret":
		return "secrets", true, true
	case "batch/Job":
		return "jobs", true, true
	case "rbac.authorization.k8s.io/ClusterRole":
		return "clusterroles", false, true
	case "rbac.authorization.k8s.io/ClusterRoleBinding":
		return "clusterrolebindings", false, true
	case "admissionregistration.k8s.io/ValidatingWebhookConfiguration":
		return "validatingwebhookconfigurations", false, true
	}
	return "", false, false
}

func rightStrings(rs []authv1.ResourceAttributes) []string {
	var out []string
	for _, r := range rs {
		s := r.Verb + " " + r.Resource
		if r.Group != "" {
			s = r.Verb + " " + r.Resource + "." + r.Group
		}
		if r.Name != "" {
			s += "/" + r.Name
		}
		if r.Namespace != "" {
			s += " in " + r.Namespace
		}
		out = append(out, s)
	}
	return out
}

const rightsPrevious = `---
apiVersion: v1
kind: Service
metadata:
  name: hive
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hive
  namespace: skoala-system
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: old-operator
`

const rightsTarget = `---
apiVersion: v1
kind: Service
metadata:
  name: hive
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hive
  namespace: skoala-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: nacos-operator
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: nacos-operator
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: nacos-operator}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: contour
---
apiVersion: example.io/v1
kind: Policy
metadata:
  name: p
  namespace: other
`

const rightsCRD = `---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gatewayclasses.gateway.networking.k8s.io
spec:
  group: gateway.networking.k8s.io
  names: {kind: GatewayClass, plural: gatewayclasses}
  scope: Cluster
`

func TestRightsOfAnUpgrade(t *testing.T) {
	got := rightStrings(Rights(RightsInput{
		Namespace: "skoala-system", Release: "skoala-init", Manifest: rightsTarget, Previous: rightsPrevious,
		Atomic: true, Jobs: []string{"gateway-api-admission"}, CRDs: [][]byte{[]byte(rightsCRD)}, ChartCRDs: [][]byte{[]byte(rightsCRD)},
	}, testMapping))
	want := []string{
		// cluster-scoped: the CRD applied, the chart's own GatewayClass (mapped by the chart's CRD), the
		// ClusterRole (escalate) and its binding (bind on the role it refers to)
		"create customresourcedefinitions.apiextensions.k8s.io",
		"get customresourcedefinitions.apiextensions.k8s.io/gatewayclasses.gateway.networking.k8s.io",
		"patch customresourcedefinitions.apiextensions.k8s.io/gatewayclasses.gateway.networking.k8s.io",
		"create gatewayclasses.gateway.networking.k8s.io",
		"delete gatewayclasses.gateway.networking.k8s.io/contour",
		"get gatewayclasses.gateway.networking.k8s.io/contour",
		"create clusterrolebindings.rbac.authorization.k8s.io",
		"delete clusterrolebindings.rbac.authorization.k8s.io/nacos-operator",
		"get clusterrolebindings.rbac.authorization.k8s.io/nacos-operator",
		"bind clusterroles.rbac.authorization.k8s.io/nacos-operator",
		"create clusterroles.rbac.authorization.k8s.io",
		"delete clusterroles.rbac.authorization.k8s.io/nacos-operator",
		"escalate clusterroles.rbac.authorization.k8s.io/nacos-operator",
		"get clusterroles.rbac.authorization.k8s.io/nacos-operator",
		// an object of its own namespace, of a kind nobody maps (guessed)
		"create policies.example.io in other",
		"delete policies.example.io/p in other",
		"get policies.example.io/p in other",
		// the release's namespace: kept objects patched, a removed one deleted (and re-created by an atomic
		// rollback), Helm's records, the lock, the Job
		"get services/hive in skoala-system",
		"patch services/hive in skoala-system",
		"create secrets in skoala-system",
		"get secrets in skoala-system",
		"list jobs.batch in skoala-system",
		"list secrets in skoala-system",
		"update secrets in skoala-system",
		"create deployments.apps in skoala-system",
		"get deployments.apps/hive in skoala-system",
		"patch deployments.apps/hive in skoala-system",
		"delete deployments.apps/old-operator in skoala-system",
		"get deployments.apps/old-operator in skoala-system",
		"delete jobs.batch/gateway-api-admission in skoala-system",
		"get jobs.batch/gateway-api-admission in skoala-system",
		"create leases.coordination.k8s.io in skoala-system",
		"delete leases.coordination.k8s.io/kubectl-skoala-upgrade.skoala-init in skoala-system",
		"get leases.coordination.k8s.io/kubectl-skoala-upgrade.skoala-init in skoala-system",
		"update leases.coordination.k8s.io/kubectl-skoala-upgrade.skoala-init in skoala-system",
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("rights:\n got  %q\n want %q", got, want)
	}
}

func TestRightsOfAnInstall(t *testing.T) {
	got := rightStrings(Rights(RightsInput{Namespace: "ns", Release: "skoala", Manifest: rightsPrevious, Install: true}, testMapping))
	for _, w := range []string{"create namespaces", "get namespaces/ns", "create deployments.apps in ns", "create services in ns"} {
		if !slices.Contains(got, w) {
			t.Errorf("missing %q in %q", w, got)
		}
	}
	for _, g := range got {
		if g == "delete secrets in ns" || g == "patch deployments.apps/hive in ns" {
			t.Errorf("a non-atomic install does not %s", g)
		}
	}
}

// A right on a create has no name: the authorizer sees none (the object does not exist yet).
func TestRightsNameNoCreate(t *testing.T) {
	for _, r := range Rights(RightsInput{Namespace: "ns", Release: "r", Manifest: rightsTarget, Install: true, Atomic: true}, testMapping) {
		if (r.Verb == "create" || r.Verb == "list") && r.Name != "" {
			t.Errorf("%s names %s", r.Verb, fmt.Sprint(r.Name))
		}
	}
}

func TestGuessResource(t *testing.T) {
	for k, want := range map[string]string{"Policy": "policies", "Gateway": "gateways", "Ingress": "ingresses", "Mesh": "meshes", "Proxy": "proxies"} {
		if got := guessResource(k); got != want {
			t.Errorf("%s: %s, want %s", k, got, want)
		}
	}
}

func TestRightsOfTheRegistry(t *testing.T) {
	has := func(in RightsInput, want string) bool {
		return slices.Contains(rightStrings(Rights(in, testMapping)), want)
	}
	base := RightsInput{Namespace: "ns", Release: "skoala-init", Manifest: rightsPrevious}
	cp, ws := base, base
	cp.Registry, cp.ControlPlane, ws.Registry = true, true, true
	if !has(cp, "list clusters.cluster.kpanda.io") || has(cp, "get namespaces/kube-system") {
		t.Errorf("control plane of --fleet kpanda: %v", rightStrings(Rights(cp, testMapping)))
	}
	if !has(ws, "get namespaces/kube-system") || has(ws, "list clusters.cluster.kpanda.io") {
		t.Errorf("workspace of --fleet kpanda: %v", rightStrings(Rights(ws, testMapping)))
	}
	if has(base, "get namespaces/kube-system") || has(base, "list clusters.cluster.kpanda.io") {
		t.Errorf("without the registry: %v", rightStrings(Rights(base, testMapping)))
	}
	for _, r := range rightStrings(Rights(cp, testMapping)) {
		if strings.Contains(r, "kpanda-system") {
			t.Errorf("a right in kpanda-system: %s", r)
		}
	}
}
