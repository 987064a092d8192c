package cmd

import (
	"context"
	"testing"
	"time"

	k8sruntime "k8s.io/apimachinery/pkg/runtime"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk/helmtest"
	"github.com/skoala-dev/kubectl-skoala/pkg/journal"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

func manifestOf(name, version string) string {
	return "---\n# Source: " + name + "/templates/deploy.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " + name + "\n  namespace: skoala-system\nspec:\n  template:\n    spec:\n      containers:\n      - name: " + name + "\n        image: release.daocloud.io/skoala/" + name + ":v" + version + "\n"
}

// revisions is a release's history: one revision per version, the last deployed, the others superseded.
func revisions(name, chart, component string, versions ...string) []k8sruntime.Object {
	var out []k8sruntime.Object
	for i, v := range versions {
		status := "superseded"
		if i == len(versions)-1 {
			status = "deployed"
		}
		out = append(out, helmtest.Secret(helmtest.Spec{Name: name, Namespace: ns, Revision: i + 1, Status: status, Chart: chart, Version: v,
			Values:   map[string]any{component: map[string]any{"image": map[string]any{"tag": "v" + v}}, "global": map[string]any{"imageRegistry": "registry.example:5000"}},
			Manifest: manifestOf(component, v)}))
	}
	return out
}

// upgradedFleet is a fleet that an upgrade run of the journal took from 0.28.1 to 0.57.2.
func upgradedFleet(t *testing.T) *fakeClusters {
	f := &fakeClusters{current: "global", clusters: map[string]*kube.Cluster{
		"global":      cluster("global", revisions("skoala", "skoala", "hive", "0.28.1", "0.57.2")...),
		"workspace-1": cluster("workspace-1", revisions("skoala-init", "skoala-init", "skoala-agent", "0.28.1", "0.57.2")...),
	}}
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	store := &journal.Store{Client: f.clusters["global"].Client, Namespace: ns}
	err := store.Begin(context.Background(), journal.Run{ID: "20261201T090000Z-abc123", Kind: journal.KindUpgrade, Who: "admin", Started: at, Finished: at.Add(4 * time.Minute),
		Target: "0.57.2", Outcome: "upgraded", Updated: at.Add(4 * time.Minute), Releases: []journal.Release{
			{Context: "global", Role: "control-plane", Release: "skoala", Chart: "skoala", FromRevision: 1, FromVersion: "0.28.1", ToRevision: 2, ToVersion: "0.57.2", Outcome: "upgraded", Steps: []string{"backup", "helm", "verify"}},
			{Context: "workspace-1", Role: "workspace", Release: "skoala-init", Chart: "skoala-init", FromRevision: 1, FromVersion: "0.28.1", ToRevision: 2, ToVersion: "0.57.2", Outcome: "upgraded",
				Steps: []string{"backup", "admission-jobs", "crds:charts/contour-provisioner/crds/higress.gen.yaml", "helm", "verify"}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// onContext is f with another current context (the fakes stand for --context by it).
func onContext(f *fakeClusters, name string) *fakeClusters {
	f.current = name
	return f
}

func TestRollbackVerb(t *testing.T) {
	ws := []string{"-w", "workspace-1"}
	args := func(a ...string) []string { return append(append([]string{"rollback"}, a...), ws...) }
	cases := []cmdTestCase{
		{name: "rollback --dry-run: the plan and the diff", args: args("--dry-run", "--backup-dir", "/backups"), golden: "rollback-dry-run", clusters: upgradedFleet(t)},
		{name: "rollback --dry-run -o json", args: args("--dry-run", "--backup-dir", "/backups", "-o", "json"), golden: "rollback-dry-run-json", clusters: upgradedFleet(t)},
		{name: "rollback --dry-run -o yaml", args: args("--dry-run", "--backup-dir", "/backups", "-o", "yaml"), golden: "rollback-dry-run-yaml", clusters: upgradedFleet(t)},
		{name: "rollback without a terminal and without --yes changes nothing", args: args("--backup-dir", "/backups"), golden: "rollback-no-terminal", code: 1, clusters: upgradedFleet(t)},
		{name: "rollback with an empty journal has nothing to do", args: args("--backup-dir", "/backups"), golden: "rollback-nothing"},
		{name: "rollback --run of a run the journal lacks fails", args: args("--run", "nope", "--backup-dir", "/backups"), golden: "rollback-unknown-run", code: 1, clusters: upgradedFleet(t)},
		{name: "rollback --to-revision takes no -w", args: args("--to-revision", "1"), golden: "rollback-usage", code: 2},
		{name: "rollback --to-revision of the workspace release plans it as a workspace's", args: []string{"rollback", "--release", "skoala-init", "--to-revision", "1", "--dry-run", "--backup-dir", "/backups"}, golden: "rollback-to-revision-workspace", clusters: onContext(upgradedFleet(t), "workspace-1")},
		{name: "rollback --to-revision of a revision Helm no longer holds is refused", args: []string{"rollback", "--to-revision", "5", "--backup-dir", "/backups"}, golden: "rollback-no-revision", code: 3, clusters: upgradedFleet(t)},
	}
	runCmdTests(t, cases)
}
