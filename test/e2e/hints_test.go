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
