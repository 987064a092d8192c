package e2e

// Secrets in every form (issue 12 §6): a URL-style DSN, a password-like key (rootPwd), repository URL
// credentials and a registry credential, planted in a release, the repositories file and the registry
// config, never appear in what status, versions, doctor, upgrade --dry-run, backup-values --redact and a
// failing command print, nor in the redacted copies. The secret scanner (zz_secrets_test.go) also looks
// for each of them in every capture of the suite.

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The canaries of every form but the MySQL DSN (matrix_test.go's plantedPassword).
const (
	plantedURLDSNPassword   = `K1ngb4se-Canary-Pw`   // kingbase://system:<it>@host:port/db
	plantedRootPwd          = `R00tPwd-Canary-Value` // a rootPwd key
	plantedRepoURLPassword  = `Rep0Url-Canary-Pw`    // http://robot:<it>@127.0.0.1:PORT, the repository URL
	plantedRegistryAuthPass = `Regi5try-Auth-Canary` // a docker config auths entry
)

// plantedRegistryAuth is the docker config "auth" of the registry canary: base64 of user:password.
var plantedRegistryAuth = base64.StdEncoding.EncodeToString([]byte("robot:" + plantedRegistryAuthPass))

// secretFormCanaries are the canaries of this file, for the scanner.
func secretFormCanaries() []string {
	return []string{plantedURLDSNPassword, plantedRootPwd, plantedRepoURLPassword, plantedRegistryAuthPass, plantedRegistryAuth}
}

const urlDSN = "kingbase://system:" + plantedURLDSNPassword + "@kingbase.kb-system.svc:54321/skoala?sslmode=disable"

func TestSecretFormsNeverShow(t *testing.T) {
	ns := Namespace(t, "redact")
	dir := t.TempDir()
	values := fmt.Sprintf(`hive:
  configMap:
    database:
    - driver: kingbase
      dsn: %q
mysql:
  rootPwd: %q
global:
  registryAuth:
    auths:
      registry.example:5000:
        username: robot
        password: %q
        auth: %q
`, urlDSN, plantedRootPwd, plantedRegistryAuthPass, plantedRegistryAuth)
	valuesFile := writeFile(t, dir, "values.yaml", values, 0o600)
	InstallChart(t, "global", ns, "skoala", "skoala", "0.28.1", "-f", valuesFile)

	// The repository, added by the real helm with credentials in its URL (the fleet's repository ignores
	// them), and a registry config with the same credential.
	repoURL := strings.Replace(fleet.RepoURL, "http://", "http://robot:"+plantedRepoURLPassword+"@", 1)
	repos, cache := filepath.Join(dir, "helm", "repositories.yaml"), filepath.Join(dir, "helm", "cache")
	helmEnv := withEnv(fleet.BaseEnv(t), "HELM_REPOSITORY_CONFIG="+repos, "HELM_REPOSITORY_CACHE="+cache)
	if r := Run(t, helmEnv, 2*time.Minute, filepath.Join(fleet.BinDir, "helm3"), "repo", "add", "skoala-release", repoURL); r.Code != 0 {
		t.Fatalf("helm repo add with credentials in the URL:\n%s", r)
	}
	registry := writeFile(t, dir, "registry/config.json", `{"auths":{"registry.example:5000":{"auth":"`+plantedRegistryAuth+`"}}}`, 0o600)
	// A repository whose URL has credentials and does not answer: the error line quotes the URL.
	deadRepos := writeFile(t, dir, "dead/repositories.yaml", fmt.Sprintf("apiVersion: \"\"\nrepositories:\n- name: skoala-release\n  url: http://robot:%s@%s/charts\n", plantedRepoURLPassword, closedPort(t)), 0o600)
	env := withEnv(helmEnv, "HELM_REGISTRY_CONFIG="+registry)
	deadEnv := withEnv(env, "HELM_REPOSITORY_CONFIG="+deadRepos)

	backups := writtenDir(t, "backups")
	runs := []struct {
		name string
		env  []string
		args []string
	}{
		{"status", env, []string{"status", "-n", ns}},
		{"status -o json", env, []string{"status", "-n", ns, "-o", "json"}},
		{"versions", env, []string{"versions", "-n", ns}},
		{"versions -o yaml", env, []string{"versions", "-n", ns, "-o", "yaml"}},
		{"doctor", env, []string{"doctor", "-n", ns}},
		{"doctor -o json", env, []string{"doctor", "-n", ns, "-o", "json"}},
		{"upgrade --dry-run", env, []string{"upgrade", "-n", ns, "--version", "0.33.2", "--dry-run", "--set-string", "mysql.rootPwd=" + plantedRootPwd + "-2", "--color", "never", "--backup-dir", backups}},
		{"upgrade --dry-run -o json", env, []string{"upgrade", "-n", ns, "--version", "0.33.2", "--dry-run", "-o", "json", "--backup-dir", backups}},
		{"backup-values --redact", env, []string{"backup-values", "-n", ns, "--all", "--redact", "--dir", backups}},
		{"versions --refresh, repository down", deadEnv, []string{"versions", "--refresh"}},
		{"status --refresh, repository down", deadEnv, []string{"status", "-n", ns, "--refresh"}},
	}
	canaries := append(secretFormCanaries(), plantedRootPwd+"-2")
	for _, c := range runs {
		t.Run(c.name, func(t *testing.T) {
			r := Run(t, c.env, 3*time.Minute, fleet.Skoala, c.args...)
			if r.Code != 0 && r.Code != 1 && r.Code != 3 {
				t.Fatalf("exit %d:\n%s", r.Code, r)
			}
			for _, s := range canaries {
				if strings.Contains(r.Stdout+r.Stderr, s) {
					t.Errorf("the output shows the canary %s:\n%s", mask(s), r)
				}
			}
		})
	}
	t.Run("the redacted copies hold no canary, the backups do", func(t *testing.T) {
		files, _ := filepath.Glob(filepath.Join(backups, "*", "*.yaml"))
		more, _ := filepath.Glob(filepath.Join(backups, "*.yaml"))
		files = append(files, more...)
		redacted, plain := 0, 0
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(f, ".redacted.") {
				if strings.Contains(string(b), "rootPwd") {
					plain++
				}
				continue
			}
			redacted++
			for _, s := range canaries {
				if strings.Contains(string(b), s) {
					t.Errorf("%s holds the canary %s", f, mask(s))
				}
			}
		}
		if redacted == 0 || plain == 0 {
			t.Fatalf("want backups and redacted copies in %s, found %d redacted of %v", backups, redacted, files)
		}
	})
}
