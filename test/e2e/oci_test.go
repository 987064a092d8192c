package e2e

// Charts from an OCI registry (issue 11): the fixture charts pushed with the real `helm push` to the fleet's
// CNCF registry (TLS from its own CA, htpasswd), logged in with `helm registry login`; versions, status,
// doctor and upgrade take --repo oci://HOST/PATH.

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ociEnv is the environment of helm and the plugin for the fleet's registry: a registry config of the
// test's own and the registry's CA as the system roots.
func ociEnv(t *testing.T, reg offlineRegistry) []string {
	return []string{"HELM_REGISTRY_CONFIG=" + filepath.Join(t.TempDir(), "registry.json"), "SSL_CERT_FILE=" + reg.CAFile}
}

func helmOCI(t *testing.T, env []string, args ...string) Result {
	t.Helper()
	r := Run(t, append(fleet.BaseEnv(t), env...), 3*time.Minute, filepath.Join(fleet.BinDir, "helm3"), args...)
	if r.Code != 0 {
		t.Fatalf("helm failed:\n%s", r)
	}
	return r
}

func TestOCIChartRepository(t *testing.T) {
	reg := fleetRegistry(t)
	path := reg.Host + "/" + runPrefix(t, "charts")
	repo := "oci://" + path
	env := ociEnv(t, reg)
	// helm registry login, the password on stdin (never an argument)
	login := Run(t, append(append(fleet.BaseEnv(t), env...), "SKOALA_STDIN="+reg.Password), 2*time.Minute, "sh", "-c",
		`printf '%s\n' "$SKOALA_STDIN" | "$0" registry login "$1" --username "$2" --password-stdin`,
		filepath.Join(fleet.BinDir, "helm3"), reg.Host, reg.User)
	if login.Code != 0 {
		t.Fatalf("helm registry login: %s", login)
	}
	// pushed out of semver order: 0.34.0 before 0.33.3, the pre-release in between
	versions := []string{"0.28.1", "0.34.0", "0.58.0-rc.1", "0.33.3", "0.57.2", "0.57.0"}
	var fns []func()
	for _, chart := range []string{"skoala", "skoala-init"} {
		fns = append(fns, func() {
			for _, v := range versions {
				helmOCI(t, env, "push", filepath.Join(fleet.Dir, "charts", chart+"-"+v+".tgz"), repo)
			}
		})
	}
	ns := freshNamespace(t, "oci")
	fns = append(fns, func() { installUpgradeFleet(t, ns, "0.57.0", []string{"workspace-1"}) })
	inParallel(t, 8*time.Minute, fns...)

	t.Run("versions --repo oci:// lists the tags in semver order", func(t *testing.T) {
		r := SkoalaEnv(t, env, "versions", "skoala-init", "--repo", repo, "--no-clusters", "-o", "json")
		if r.Code != 0 {
			t.Fatalf("exit %d\n%s", r.Code, r)
		}
		var v struct {
			Charts []struct {
				Versions []struct {
					Version string `json:"version"`
				} `json:"versions"`
			} `json:"charts"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil || len(v.Charts) != 1 {
			t.Fatalf("%v\n%s", err, r)
		}
		var got []string
		for _, e := range v.Charts[0].Versions {
			got = append(got, e.Version)
		}
		if want := "0.57.2 0.57.0 0.34.0 0.33.3 0.28.1"; strings.Join(got, " ") != want {
			t.Errorf("versions\n got %s\nwant %s", strings.Join(got, " "), want)
		}
		all := SkoalaEnv(t, env, "versions", "skoala", "--repo", repo, "--no-clusters", "--all")
		if all.Code != 0 || !strings.Contains(all.Stdout, "0.58.0-rc.1") || !strings.Contains(all.Stdout, path) {
			t.Errorf("--all lacks the pre-release or the registry:\n%s", all)
		}
	})
	t.Run("status compares against the registry", func(t *testing.T) {
		r := SkoalaEnv(t, env, "status", "-n", ns, "-w", "workspace-1", "--repo", repo, "-o", "json")
		if r.Code != 0 {
			t.Fatalf("exit %d\n%s", r.Code, r)
		}
		s := parseStatus(t, r)
		for _, c := range s.Clusters {
			for _, rel := range c.Releases {
				if rel.Version != "0.57.0" || rel.Latest != "0.57.2" || !rel.UpgradeAvailable {
					t.Errorf("%s/%s: version %s latest %q upgradeAvailable %v", c.Context, rel.Name, rel.Version, rel.Latest, rel.UpgradeAvailable)
				}
			}
		}
	})
	t.Run("doctor reads the registry as the repository", func(t *testing.T) {
		r := SkoalaEnv(t, env, "doctor", "-n", ns, "-w", "workspace-1", "--repo", repo, "--category", "repository", "-o", "json")
		d := parseDoctor(t, r)
		wantStatus(t, d.check(t, "repository.index", ""), "ok", path)
	})
	t.Run("without a login: one error line naming helm registry login", func(t *testing.T) {
		r := SkoalaEnv(t, ociEnv(t, reg), "versions", "skoala", "--repo", repo, "--no-clusters")
		if r.Code == 0 || !strings.Contains(r.Stdout+r.Stderr, "helm registry login "+reg.Host) {
			t.Errorf("exit %d, want a failure with the login hint\n%s", r.Code, r)
		}
		if strings.Contains(r.Stdout+r.Stderr, reg.Password) {
			t.Errorf("the password was printed\n%s", r)
		}
	})
	t.Run("upgrade --repo oci:// upgrades the fleet", func(t *testing.T) {
		r := SkoalaEnv(t, env, "upgrade", "-n", ns, "-w", "workspace-1", "--repo", repo, "--backup-dir", t.TempDir(), "--timeout", "2m", "--yes")
		if r.Code != 0 {
			t.Fatalf("exit %d\n%s", r.Code, r)
		}
		s := parseStatus(t, SkoalaEnv(t, env, "status", "-n", ns, "-w", "workspace-1", "--repo", repo, "-o", "json"))
		for _, c := range s.Clusters {
			for _, rel := range c.Releases {
				if rel.Version != "0.57.2" || rel.UpgradeAvailable {
					t.Errorf("%s/%s: version %s after the upgrade (upgradeAvailable %v)", c.Context, rel.Name, rel.Version, rel.UpgradeAvailable)
				}
			}
		}
	})
}
