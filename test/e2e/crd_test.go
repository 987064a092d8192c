package e2e

// issue 12 §4: a CRD newer on the cluster than in the chart (a Gateway API another product installed) is
// not downgraded by `upgrade --yes`; --dry-run says so; --force is what it takes to apply the chart's.

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const gatewaysCRD = "gateways.gateway.networking.k8s.io"

// TestCRDNewerOnTheClusterIsNotDowngraded makes the live Gateway API CRD of workspace-2 newer with the
// real kubectl (a higher gateway.networking.k8s.io/bundle-version and a version v2 the chart does not
// define), then upgrades skoala-init 0.28.1 -> 0.35.0 (whose plan applies the chart's Gateway API CRDs).
func TestCRDNewerOnTheClusterIsNotDowngraded(t *testing.T) {
	ns := Namespace(t, "crd")
	installUpgradeFleet(t, ns, "0.28.1", []string{"workspace-2"})

	kc := func(args ...string) Result {
		return MustKubectl(t, append([]string{"--context", "workspace-2"}, args...)...)
	}
	orig := kc("get", "crd", gatewaysCRD, "-o", "json").Stdout
	var crd map[string]any
	if err := json.Unmarshal([]byte(orig), &crd); err != nil {
		t.Fatal(err)
	}
	md := crd["metadata"].(map[string]any)
	ann, _ := md["annotations"].(map[string]any)
	if ann == nil {
		ann = map[string]any{}
	}
	ann["gateway.networking.k8s.io/bundle-version"] = "v9.9.9"
	md["annotations"] = ann
	spec := crd["spec"].(map[string]any)
	versions := spec["versions"].([]any)
	v2 := map[string]any{}
	for k, v := range versions[0].(map[string]any) {
		v2[k] = v
	}
	v2["name"], v2["served"], v2["storage"] = "v2", true, false
	spec["versions"] = append(versions, v2)
	delete(crd, "status")
	newer, _ := json.Marshal(crd)
	replace := func(body string) {
		cmd := exec.Command("kubectl", "--context", "workspace-2", "replace", "-f", "-")
		cmd.Env = fleet.BaseEnv(t)
		cmd.Stdin = strings.NewReader(body)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kubectl replace crd %s: %v\n%s", gatewaysCRD, err, out)
		}
	}
	replace(string(newer))
	t.Cleanup(func() {
		// Back to the chart's: v2 was never stored, so it may go.
		cur := MustKubectl(t, "--context", "workspace-2", "get", "crd", gatewaysCRD, "-o", "json").Stdout
		var c, o map[string]any
		_ = json.Unmarshal([]byte(cur), &c)
		_ = json.Unmarshal([]byte(orig), &o)
		o["metadata"].(map[string]any)["resourceVersion"] = c["metadata"].(map[string]any)["resourceVersion"]
		delete(o, "status")
		b, _ := json.Marshal(o)
		replace(string(b))
	})
	rv := func() string {
		return kc("get", "crd", gatewaysCRD, "-o", "jsonpath={.metadata.resourceVersion}").Stdout
	}
	before := rv()

	dry := Skoala(t, "upgrade", "-n", ns, "-w", "workspace-2", "--version", "0.35.0", "--dry-run", "--backup-dir", writtenDir(t, "dry"), "--color", "never")
	if dry.Code != 0 || !strings.Contains(dry.Stdout, "CRD "+gatewaysCRD+" is kept") || !strings.Contains(dry.Stdout, "stop serving v2") {
		t.Errorf("--dry-run: exit %d, want 0 and the CRD shown as kept (it would stop serving v2)\n%s", dry.Code, dry)
	}
	if got := rv(); got != before {
		t.Fatalf("--dry-run changed the CRD (resourceVersion %s -> %s)", before, got)
	}

	up := Skoala(t, "upgrade", "-n", ns, "-w", "workspace-2", "--version", "0.35.0", "--timeout", "2m", "--backup-dir", writtenDir(t, "up"), "--yes")
	if up.Code != 0 || !strings.Contains(up.Stderr, "kept the live CRD "+gatewaysCRD) {
		t.Fatalf("upgrade --yes: exit %d, want 0 and the live CRD kept\n%s", up.Code, up)
	}
	if got := rv(); got != before {
		t.Errorf("upgrade --yes changed the newer CRD (resourceVersion %s -> %s)", before, got)
	}
	if a := kc("get", "crd", gatewaysCRD, "-o", `jsonpath={.metadata.annotations.gateway\.networking\.k8s\.io/bundle-version} {.spec.versions[*].name}`).Stdout; a != "v9.9.9 v1 v2" {
		t.Errorf("after upgrade --yes the CRD is %q, want bundle v9.9.9 with v1 and v2", a)
	}

	// Back to 0.28.1 with the real helm, so that the plan applies the CRDs again, now with --force.
	kc("-n", ns, "delete", "jobs", "gateway-api-admission", "gateway-api-admission-patch", "--ignore-not-found", "--wait")
	MustHelm(t, "rollback", "skoala-init", "1", "--kube-context", "workspace-2", "-n", ns, "--wait", "--timeout", "2m")
	forced := Skoala(t, "upgrade", "-n", ns, "-w", "workspace-2", "--version", "0.35.0", "--timeout", "2m", "--backup-dir", writtenDir(t, "forced"), "--yes", "--force")
	if forced.Code != 0 || strings.Contains(forced.Stderr, "kept the live CRD "+gatewaysCRD) {
		t.Fatalf("upgrade --yes --force: exit %d, want 0 and the chart's CRD applied\n%s", forced.Code, forced)
	}
	if got := rv(); got == before {
		t.Errorf("upgrade --force did not apply the chart's CRD (resourceVersion still %s)", got)
	}
	if m := kc("get", "crd", gatewaysCRD, "-o", "jsonpath={.metadata.managedFields[*].manager}").Stdout; !strings.Contains(m, "kubectl-skoala") {
		t.Errorf("after --force the CRD's managers are %q, want kubectl-skoala among them", m)
	}
}
