package e2e

// The packaging half of issue #2: kubectl-skoala as found and run by the real clients, each in a sandbox:
// kubectl's plugin mechanism and completion, helm v3 and v4 installing the repository as a plugin (and
// passing their flags), and krew installing a `make dist` archive offline.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/krewmanifest"
)

// kubectlEnv is the fleet's environment with PATH = the plugin folder first, then the system's tools only.
func kubectlEnv(t *testing.T, first ...string) []string {
	return withPath(fleet.BaseEnv(t), append(first, systemPath(t)...)...)
}

func TestKubectlPlugin(t *testing.T) {
	dir := pluginDir(t)
	env := kubectlEnv(t, dir)

	t.Run("kubectl plugin list finds kubectl-skoala on PATH", func(t *testing.T) {
		r := Run(t, env, time.Minute, "kubectl", "plugin", "list")
		if r.Code != 0 {
			t.Fatalf("kubectl plugin list failed (a warning about the plugin makes it fail too):\n%s", r)
		}
		if !strings.Contains(r.Stdout, filepath.Join(dir, "kubectl-skoala")+"\n") {
			t.Fatalf("kubectl plugin list does not list %s:\n%s", filepath.Join(dir, "kubectl-skoala"), r)
		}
		if strings.Contains(r.Stdout, "kubectl_complete-skoala") {
			t.Fatalf("the completion shim is listed as a plugin:\n%s", r)
		}
	})

	t.Run("kubectl skoala version prints the client version and the server version of the current context", func(t *testing.T) {
		r := Run(t, env, time.Minute, "kubectl", "skoala", "version")
		if r.Code != 0 {
			t.Fatalf("kubectl skoala version failed:\n%s", r)
		}
		want := []string{
			"Client Version: " + wantClientVersion(t) + "\n",
			"Server Version: " + kubectlServerVersion(t, "global") + " (context global)\n",
		}
		for _, w := range want {
			if !strings.Contains(r.Stdout, w) {
				t.Errorf("stdout lacks %q:\n%s", w, r)
			}
		}
		if !strings.HasPrefix(kubectlServerVersion(t, "global"), "v1.37.") {
			t.Errorf("the fleet runs %s, want v1.37.x (hack/tools.sh K8S_VERSION)", kubectlServerVersion(t, "global"))
		}
		if strings.Contains(r.Stderr, "Warning") {
			t.Errorf("warnings on stderr:\n%s", r)
		}
	})

	t.Run("kubectl passes --context to the plugin", func(t *testing.T) {
		v := parseVersion(t, Run(t, env, time.Minute, "kubectl", "skoala", "version", "--context", "workspace-1", "-o", "json"))
		if v.Context != "workspace-1" || v.ServerVersion == nil || v.ServerVersion.GitVersion != kubectlServerVersion(t, "workspace-1") {
			t.Fatalf("want context workspace-1 and its server version %s, got %+v", kubectlServerVersion(t, "workspace-1"), v)
		}
	})

	t.Run("kubectl skoala version --client -o json is JSON without a server part", func(t *testing.T) {
		v := parseVersion(t, Run(t, env, time.Minute, "kubectl", "skoala", "version", "--client", "-o", "json"))
		if v.ClientVersion.Version != wantClientVersion(t) {
			t.Errorf("version %q, want %q", v.ClientVersion.Version, wantClientVersion(t))
		}
		if v.ClientVersion.Platform != runtime.GOOS+"/"+runtime.GOARCH || !strings.HasPrefix(v.ClientVersion.GoVersion, "go") {
			t.Errorf("platform %q goVersion %q", v.ClientVersion.Platform, v.ClientVersion.GoVersion)
		}
		if v.ServerVersion != nil || v.Context != "" || v.ServerError != "" {
			t.Errorf("--client reported server details: %+v", v)
		}
	})
}

func TestCompletion(t *testing.T) {
	dir := pluginDir(t)
	env := kubectlEnv(t, dir)
	// The verbs as the binary itself completes them: kubectl must hand back exactly these.
	own, _ := completions(t, Skoala(t, "__complete", ""))
	for _, verb := range []string{"version", "completion", "help"} {
		if !contains(own, verb) {
			t.Fatalf("kubectl-skoala __complete \"\" lacks %q: %v", verb, own)
		}
	}

	t.Run("kubectl __complete skoala lists the verbs through the shim", func(t *testing.T) {
		got, directive := completions(t, Run(t, env, time.Minute, "kubectl", "__complete", "skoala", ""))
		if strings.Join(got, " ") != strings.Join(own, " ") {
			t.Fatalf("kubectl completes %v, the binary %v", got, own)
		}
		if directive != ":4" {
			t.Errorf("directive %s, want :4 (no file completion)", directive)
		}
	})

	t.Run("kubectl completes a flag value of a verb", func(t *testing.T) {
		got, _ := completions(t, Run(t, env, time.Minute, "kubectl", "__complete", "skoala", "version", "-o", ""))
		if strings.Join(got, " ") != "table json yaml" {
			t.Fatalf("-o completes %v, want table json yaml", got)
		}
	})

	t.Run("kubectl completes --context with the kubeconfig's contexts", func(t *testing.T) {
		got, _ := completions(t, Run(t, env, time.Minute, "kubectl", "__complete", "skoala", "version", "--context", ""))
		for _, c := range fleet.Clusters {
			if !contains(got, c) {
				t.Fatalf("--context completes %v, lacks %q", got, c)
			}
		}
	})

	t.Run("the shim alone answers like the binary", func(t *testing.T) {
		// Only /usr/bin and /bin on PATH: the shim must find kubectl-skoala next to itself.
		got, _ := completions(t, Run(t, withPath(fleet.BaseEnv(t), "/usr/bin", "/bin"), time.Minute, filepath.Join(dir, "kubectl_complete-skoala"), ""))
		if strings.Join(got, " ") != strings.Join(own, " ") {
			t.Fatalf("the shim completes %v, the binary %v", got, own)
		}
	})
}

var pluginVersionRe = regexp.MustCompile(`(?m)^version:\s*"?([^"\s]+)"?\s*$`)

// repoPluginVersion is plugin.yaml's version.
func repoPluginVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fleet.Root, "plugin.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m := pluginVersionRe.FindSubmatch(b)
	if m == nil {
		t.Fatal("plugin.yaml has no version")
	}
	return string(m[1])
}

// pluginListed says whether `helm plugin list` shows skoala with version.
func pluginListed(r Result, version string) bool {
	for _, l := range strings.Split(r.Stdout, "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == "skoala" && f[1] == version {
			return true
		}
	}
	return false
}

func TestHelmPlugin(t *testing.T) {
	ensureRepoBinary(t)
	version := repoPluginVersion(t)
	for _, helm := range []string{"helm3", "helm4"} {
		t.Run(helm, func(t *testing.T) {
			s := newHelmSandbox(t, helm)

			r := s.mustRun(t, "plugin", "install", fleet.Root)
			if !strings.Contains(r.Stdout, "Installed plugin: skoala") {
				t.Fatalf("no 'Installed plugin: skoala':\n%s", r)
			}
			link := filepath.Join(s.plugins, filepath.Base(fleet.Root))
			if target, err := filepath.EvalSymlinks(link); err != nil || target != mustEvalSymlinks(t, fleet.Root) {
				t.Fatalf("the plugin is not a link to the repository under HELM_DATA_HOME/plugins: %s -> %q (%v)", link, target, err)
			}

			t.Run("helm plugin list shows skoala", func(t *testing.T) {
				r := s.mustRun(t, "plugin", "list")
				if !pluginListed(r, version) {
					t.Fatalf("helm plugin list lacks skoala %s:\n%s", version, r)
				}
			})

			t.Run("helm skoala version runs the repository's binary", func(t *testing.T) {
				v := parseVersion(t, s.run(t, nil, "skoala", "version", "--client", "-o", "json"))
				if v.ClientVersion.Version != wantClientVersion(t) {
					t.Fatalf("helm skoala reports %q, the binary under test %q", v.ClientVersion.Version, wantClientVersion(t))
				}
			})

			t.Run("without --kube-context the plugin uses the kubeconfig's current context", func(t *testing.T) {
				v := parseVersion(t, s.run(t, nil, "skoala", "version", "-o", "json"))
				if v.Context != "global" || v.ServerVersion == nil || v.ServerVersion.GitVersion != kubectlServerVersion(t, "global") {
					t.Fatalf("want context global with server %s, got %+v", kubectlServerVersion(t, "global"), v)
				}
			})

			t.Run("helm's --kube-context reaches the plugin, after or before the plugin name", func(t *testing.T) {
				for _, args := range [][]string{
					{"skoala", "version", "--kube-context", "workspace-1", "-o", "json"},
					{"--kube-context=workspace-1", "skoala", "version", "-o", "json"},
				} {
					v := parseVersion(t, s.run(t, nil, args...))
					if v.Context != "workspace-1" || v.ServerVersion == nil || v.ServerVersion.GitVersion != kubectlServerVersion(t, "workspace-1") {
						t.Fatalf("helm %v: want context workspace-1 with server %s, got %+v", args, kubectlServerVersion(t, "workspace-1"), v)
					}
				}
			})

			t.Run("helm's --kubeconfig reaches the plugin", func(t *testing.T) {
				// A kubeconfig of its own whose current context is workspace-1: only --kubeconfig can say so.
				kc := filepath.Join(t.TempDir(), "kubeconfig")
				r := MustKubectl(t, "config", "view", "--raw", "--flatten")
				cfg := regexp.MustCompile(`(?m)^current-context: .*$`).ReplaceAllString(r.Stdout, "current-context: workspace-1")
				if err := os.WriteFile(kc, []byte(cfg), 0o600); err != nil {
					t.Fatal(err)
				}
				v := parseVersion(t, s.run(t, nil, "skoala", "version", "--kubeconfig", kc, "-o", "json"))
				if v.Context != "workspace-1" {
					t.Fatalf("want the context of --kubeconfig (workspace-1), got %+v", v)
				}
			})

			t.Run("the plugin knows it runs as helm skoala", func(t *testing.T) {
				r := s.run(t, nil, "skoala", "--help")
				if r.Code != 0 || !strings.Contains(r.Stdout, "helm skoala ") {
					t.Fatalf("help does not speak of 'helm skoala':\n%s", r)
				}
				r = s.run(t, nil, "skoala", "no-such-verb")
				if r.Code != 2 {
					t.Fatalf("an unknown verb is a usage error (exit 2):\n%s", r)
				}
				if !strings.Contains(r.Stderr, "see 'helm skoala --help' for usage") {
					t.Fatalf("the usage hint does not name 'helm skoala':\n%s", r)
				}
			})

			t.Run("helm's -n reaches the plugin, and helm's implicit default namespace does not", func(t *testing.T) {
				// status reports the namespace it looked in (exit 3 there: no release in other-ns is a finding).
				for _, tc := range []struct {
					args []string
					want string
				}{
					{[]string{"skoala", "status", "-n", "other-ns", "-o", "json"}, "other-ns"},
					{[]string{"--namespace=other-ns", "skoala", "status", "-o", "json"}, "other-ns"},
					{[]string{"skoala", "status", "-o", "json"}, "skoala-system"}, // helm sets HELM_NAMESPACE=default
				} {
					r := s.run(t, nil, tc.args...)
					var st struct {
						Namespace string `json:"namespace"`
					}
					if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil || (r.Code != 0 && r.Code != 3) {
						t.Fatalf("helm %v: want status JSON and exit 0 or 3 (%v):\n%s", tc.args, err, r)
					}
					if st.Namespace != tc.want {
						t.Fatalf("helm %v: namespace %q, want %q\n%s", tc.args, st.Namespace, tc.want, r)
					}
				}
			})

			t.Run("helm plugin uninstall removes the link and leaves the repository alone", func(t *testing.T) {
				s.mustRun(t, "plugin", "uninstall", "skoala")
				if r := s.mustRun(t, "plugin", "list"); pluginListed(r, version) {
					t.Fatalf("skoala still listed after uninstall:\n%s", r)
				}
				if _, err := os.Lstat(link); !os.IsNotExist(err) {
					t.Fatalf("%s still there after uninstall (%v)", link, err)
				}
				for _, f := range []string{"plugin.yaml", "go.mod", filepath.Join("bin", "kubectl-skoala")} {
					if _, err := os.Stat(filepath.Join(fleet.Root, f)); err != nil {
						t.Fatalf("uninstall damaged the repository: %v", err)
					}
				}
			})
		})
	}
}

func mustEvalSymlinks(t *testing.T, p string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// sourceCopy copies the repository's files (tracked and untracked, less the git-ignored ones such as bin/
// and .cache/) from the work tree to a temporary folder: a fresh checkout without .git and without bin/, of
// the same code the e2e binary was built from.
func sourceCopy(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "kubectl-skoala")
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = fleet.Root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(fleet.Root, f)
		fi, err := os.Lstat(src)
		if err != nil || !fi.Mode().IsRegular() {
			continue // deleted in the work tree, or not a regular file
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		copyFile(t, src, filepath.Join(dir, f), fi.Mode().Perm())
	}
	for _, f := range []string{"plugin.yaml", "Makefile", "go.mod", "cmd/kubectl-skoala/main.go"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("the copy lacks %s: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "bin", "kubectl-skoala")); !os.IsNotExist(err) {
		t.Fatalf("the copy already has bin/kubectl-skoala (%v)", err)
	}
	return dir
}

// The install hook of plugin.yaml builds bin/kubectl-skoala when it is missing (a fresh checkout), and says
// what to do when it cannot.
func TestHelmPluginInstallHook(t *testing.T) {
	for _, helm := range []string{"helm3", "helm4"} {
		t.Run(helm, func(t *testing.T) {
			t.Run("builds the missing binary with make build", func(t *testing.T) {
				src := sourceCopy(t)
				s := newHelmSandbox(t, helm)
				r := s.run(t, []string{"PATH=" + strings.Join(append([]string{goBinDir(t)}, systemPath(t)...), ":")},
					"plugin", "install", src)
				if r.Code != 0 || !strings.Contains(r.Stdout+r.Stderr, "Installed plugin: skoala") {
					t.Fatalf("install with the build hook failed:\n%s", r)
				}
				if fi, err := os.Stat(filepath.Join(src, "bin", "kubectl-skoala")); err != nil || fi.Mode()&0o111 == 0 {
					t.Fatalf("the hook did not build bin/kubectl-skoala: %v", err)
				}
				v := parseVersion(t, s.run(t, nil, "skoala", "version", "--client", "-o", "json"))
				// No .git in the copy: the Makefile's fallback version.
				if v.ClientVersion.Version != "dev" {
					t.Fatalf("version %q, want dev (built outside git)", v.ClientVersion.Version)
				}
			})

			t.Run("fails with advice when it cannot build", func(t *testing.T) {
				src := sourceCopy(t)
				s := newHelmSandbox(t, helm)
				// No go on PATH.
				r := s.run(t, []string{"PATH=" + strings.Join(systemPath(t), ":")}, "plugin", "install", src)
				if r.Code == 0 {
					t.Fatalf("install succeeded without a binary and without go:\n%s", r)
				}
				if !strings.Contains(r.Stderr, "bin/kubectl-skoala is missing and could not be built; run make build in") {
					t.Fatalf("no advice on stderr:\n%s", r)
				}
			})
		})
	}
}

func TestKrewInstall(t *testing.T) {
	dist := t.TempDir()
	platform := runtime.GOOS + "/" + runtime.GOARCH
	env := withEnv(fleet.BaseEnv(t), goEnv(t)...)
	r := Run(t, env, 15*time.Minute, "make", "-C", fleet.Root, "dist", "PLATFORMS="+platform, "DIST="+dist)
	if r.Code != 0 {
		t.Fatalf("make dist failed:\n%s", r)
	}
	manifest := filepath.Join(dist, "skoala.yaml")
	p, err := krewmanifest.ValidateFile(manifest)
	if err != nil {
		t.Fatalf("make dist wrote an invalid manifest: %v", err)
	}
	if err := krewmanifest.VerifyArchives(p, dist); err != nil {
		t.Fatal(err)
	}
	if len(p.Spec.Platforms) != 1 || len(p.Platforms()) != 1 || p.Platforms()[0].String() != platform {
		t.Fatalf("the manifest of a %s-only dist has platforms %v", platform, p.Platforms())
	}
	archive := filepath.Join(dist, p.Spec.Platforms[0].ArchiveName())
	version := p.Spec.Version

	krewRoot := t.TempDir()
	// kubectl-krew is in the fleet's bin folder (hack/tools.sh krew); no other kubectl-skoala on PATH.
	krewEnv := withEnv(withPath(fleet.BaseEnv(t), append([]string{fleet.BinDir}, systemPath(t)...)...),
		"KREW_ROOT="+krewRoot, "KREW_NO_UPGRADE_CHECK=1")
	if _, err := os.Stat(filepath.Join(fleet.BinDir, "kubectl-krew")); err != nil {
		t.Fatalf("kubectl-krew is missing: build it with 'make tools' (hack/tools.sh krew): %v", err)
	}

	// `krew install --manifest --archive` needs no index, but `krew list` and `uninstall` want one: an empty
	// local git repository stands in for the default index (its remote is never fetched here).
	index := filepath.Join(krewRoot, "index", "default")
	if err := os.MkdirAll(filepath.Join(index, "plugins"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"init", "-q"}, {"remote", "add", "origin", index}} {
		if r := Run(t, krewEnv, time.Minute, "git", append([]string{"-C", index}, args...)...); r.Code != 0 {
			t.Fatalf("local krew index:\n%s", r)
		}
	}

	r = Run(t, krewEnv, 2*time.Minute, "kubectl", "krew", "install", "--manifest="+manifest, "--archive="+archive)
	if r.Code != 0 || !strings.Contains(r.Stdout+r.Stderr, `Installed plugin: skoala`) {
		t.Fatalf("kubectl krew install failed:\n%s", r)
	}

	t.Run("the installed binary is the dist version", func(t *testing.T) {
		v := parseVersion(t, Run(t, krewEnv, time.Minute, filepath.Join(krewRoot, "bin", "kubectl-skoala"), "version", "--client", "-o", "json"))
		if v.ClientVersion.Version != version {
			t.Fatalf("installed binary reports %q, the manifest says %q", v.ClientVersion.Version, version)
		}
	})

	t.Run("kubectl skoala runs it with KREW_ROOT/bin on PATH", func(t *testing.T) {
		env := withPath(krewEnv, append([]string{filepath.Join(krewRoot, "bin"), fleet.BinDir}, systemPath(t)...)...)
		r := Run(t, env, time.Minute, "kubectl", "skoala", "version", "--client")
		if r.Code != 0 || !strings.Contains(r.Stdout, "Client Version: "+version+"\n") {
			t.Fatalf("want Client Version: %s\n%s", version, r)
		}
	})

	t.Run("kubectl krew list shows it, with the manifest's version in its receipt", func(t *testing.T) {
		r := Run(t, krewEnv, time.Minute, "kubectl", "krew", "list")
		// Not on a terminal, krew prints bare names; a plugin installed from a manifest file has no index.
		if r.Code != 0 || !regexp.MustCompile(`(?m)^detached/skoala$`).MatchString(r.Stdout) {
			t.Fatalf("kubectl krew list lacks detached/skoala:\n%s", r)
		}
		receipt, err := os.ReadFile(filepath.Join(krewRoot, "receipts", "skoala.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`(?m)^  version: ` + regexp.QuoteMeta(version) + `$`).Match(receipt) {
			t.Fatalf("the receipt does not record version %s:\n%s", version, receipt)
		}
	})

	t.Run("the completion shim the caveats point to is installed and works", func(t *testing.T) {
		shim := filepath.Join(krewRoot, "store", "skoala", version, "kubectl_complete-skoala")
		got, _ := completions(t, Run(t, krewEnv, time.Minute, shim, ""))
		if !contains(got, "version") {
			t.Fatalf("the shim in the krew store completes %v", got)
		}
		if !strings.Contains(p.Spec.Caveats, "store/skoala/*/kubectl_complete-skoala") {
			t.Fatalf("the caveats do not point to the shim: %q", p.Spec.Caveats)
		}
	})

	t.Run("kubectl krew uninstall removes it", func(t *testing.T) {
		r := Run(t, krewEnv, time.Minute, "kubectl", "krew", "uninstall", "skoala")
		if r.Code != 0 {
			t.Fatalf("uninstall failed:\n%s", r)
		}
		if _, err := os.Lstat(filepath.Join(krewRoot, "bin", "kubectl-skoala")); !os.IsNotExist(err) {
			t.Fatalf("kubectl-skoala still in KREW_ROOT/bin (%v)", err)
		}
	})
}
