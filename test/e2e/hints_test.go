package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHintsNameTheRepositoryInEffect: with the fleet's repository added under another name than
// skoala-release (dce-skoala), every hint status, doctor and upgrade print on a namespace without the
// releases names dce-skoala, and none names skoala-release.
func TestHintsNameTheRepositoryInEffect(t *testing.T) {
	dir := t.TempDir()
	index, err := os.ReadFile(filepath.Join(fleet.Env["HELM_REPOSITORY_CACHE"], "skoala-release-index.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	repos := writeFile(t, dir, "repositories.yaml", fmt.Sprintf("apiVersion: \"\"\nrepositories:\n- name: dce-skoala\n  url: %s\n", fleet.RepoURL), 0o600)
	cache := filepath.Join(dir, "cache")
	writeFile(t, cache, "dce-skoala-index.yaml", string(index), 0o644)
	env := []string{"HELM_REPOSITORY_CONFIG=" + repos, "HELM_REPOSITORY_CACHE=" + cache}
	ns := freshNamespace(t, "hint")
	for _, c := range []struct {
		name     string
		args     []string
		mustName string
	}{
		{"status", []string{"status", "-n", ns, "-w", "workspace-1", "--repo", "dce-skoala"}, "dce-skoala/skoala-init"},
		{"doctor", []string{"doctor", "-n", ns, "-w", "workspace-1", "--repo", "dce-skoala"}, "dce-skoala/skoala-init"},
		{"upgrade", []string{"upgrade", "-n", ns, "-w", "workspace-1", "--repo", "dce-skoala", "--dry-run"}, "dce-skoala"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := SkoalaEnv(t, env, c.args...)
			out := r.Stdout + r.Stderr
			if strings.Contains(out, "skoala-release") {
				t.Errorf("%s names skoala-release, not the repository in effect (dce-skoala):\n%s", c.name, r)
			}
			if !strings.Contains(out, c.mustName) {
				t.Errorf("%s does not name %s:\n%s", c.name, c.mustName, r)
			}
		})
	}
}

// TestAllContextsNeverInstalls: 'upgrade --all-contexts --yes' over the fleet's kubeconfig, where only
// workspace-1 of the workspaces has skoala-init, upgrades global and workspace-1 and leaves every other
// workspace (workspace-2, workspace-3, ...) untouched (no release, no namespace), even with --install.
func TestAllContextsNeverInstalls(t *testing.T) {
	ns := freshNamespace(t, "allc")
	installUpgradeFleet(t, ns, "0.57.0", []string{"workspace-1"})
	r := Skoala(t, "upgrade", "-n", ns, "--all-contexts", "--install", "--backup-dir", t.TempDir(), "--timeout", "2m", "--yes", "-o", "json")
	if r.Code != 0 {
		t.Fatalf("upgrade exit %d, want 0\n%s", r.Code, r)
	}
	u := parseUpgrade(t, r)
	seen := map[string]bool{}
	for _, rel := range u.Releases {
		seen[rel.Context] = true
		want := "upgrade"
		if rel.Context != "global" && rel.Context != "workspace-1" {
			want = "skipped"
		}
		if rel.Action != want {
			t.Errorf("%s/%s: action %s, want %s", rel.Context, rel.Release, rel.Action, want)
		}
	}
	for _, c := range fleet.Clusters {
		if !seen[c] {
			t.Errorf("the plan of --all-contexts lacks context %s:\n%s", c, r.Stdout)
		}
		if c == "global" || c == "workspace-1" {
			continue
		}
		if k := Kubectl(t, "--context", c, "get", "namespace", ns); k.Code == 0 {
			t.Errorf("namespace %s was created on %s:\n%s", ns, c, k)
		}
		if h := Helm(t, "status", "skoala-init", "--kube-context", c, "-n", ns); h.Code == 0 {
			t.Errorf("skoala-init was installed on %s:\n%s", c, h)
		}
	}
}
