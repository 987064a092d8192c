package e2e

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// withEnv returns env with kv ("KEY=value") added; os/exec keeps the last value of a repeated key.
func withEnv(env []string, kv ...string) []string {
	out := append([]string(nil), env...)
	return append(out, kv...)
}

// withPath returns env whose PATH is dirs, in that order.
func withPath(env []string, dirs ...string) []string {
	return withEnv(env, "PATH="+strings.Join(dirs, string(os.PathListSeparator)))
}

var (
	goEnvOnce sync.Once
	goEnvVars []string
	goEnvErr  error
)

// goEnv is the Go toolchain's settings of the test process (caches, proxy, flags), for builds started by a
// test under BaseEnv's temporary HOME: without them such a build would start from empty caches.
func goEnv(t testing.TB) []string {
	t.Helper()
	goEnvOnce.Do(func() {
		keys := []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOFLAGS", "GOPROXY", "GOSUMDB", "GONOSUMDB", "GOPRIVATE", "GOTOOLCHAIN"}
		out, err := exec.Command("go", append([]string{"env", "-json"}, keys...)...).Output()
		if err != nil {
			goEnvErr = err
			return
		}
		var m map[string]string
		if goEnvErr = json.Unmarshal(out, &m); goEnvErr != nil {
			return
		}
		for _, k := range keys {
			if m[k] != "" {
				goEnvVars = append(goEnvVars, k+"="+m[k])
			}
		}
		if goroot, err := exec.Command("go", "env", "GOROOT").Output(); err == nil {
			goEnvVars = append(goEnvVars, "SKOALA_E2E_GOBIN="+filepath.Join(strings.TrimSpace(string(goroot)), "bin"))
		}
	})
	if goEnvErr != nil {
		t.Fatalf("go env: %v", goEnvErr)
	}
	return goEnvVars
}

// goBinDir is the folder of the go command (for a PATH that must build with make).
func goBinDir(t testing.TB) string {
	t.Helper()
	for _, kv := range goEnv(t) {
		if v, ok := strings.CutPrefix(kv, "SKOALA_E2E_GOBIN="); ok {
			return v
		}
	}
	t.Fatal("the go command's folder is unknown")
	return ""
}

// systemPath is a PATH with the system's tools (kubectl, make, sh, git, tar) and nothing of the developer's
// own bin folders, where another kubectl-skoala could shadow the one under test.
func systemPath(t testing.TB) []string {
	t.Helper()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatalf("kubectl is not on PATH: %v", err)
	}
	dirs := []string{filepath.Dir(kubectl)}
	for _, d := range []string{"/usr/bin", "/bin"} {
		if d != dirs[0] {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// pluginDir returns a temporary folder holding kubectl-skoala (the binary under test) and the completion
// shim hack/kubectl_complete-skoala, as `make install` lays them out.
func pluginDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Symlink(fleet.Skoala, filepath.Join(dir, "kubectl-skoala")); err != nil {
		t.Fatal(err)
	}
	copyFile(t, filepath.Join(fleet.Root, "hack", "kubectl_complete-skoala"), filepath.Join(dir, "kubectl_complete-skoala"), 0o755)
	return dir
}

func copyFile(t testing.TB, src, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

var repoBinaryOnce sync.Once

// ensureRepoBinary makes <repo>/bin/kubectl-skoala the binary under test, as `make build` would have: a Helm
// plugin installed from the repository runs that file. Under `make test-e2e` it already is; otherwise the
// binary under test is copied there (renamed into place, so a concurrent reader never sees half a file).
func ensureRepoBinary(t testing.TB) string {
	t.Helper()
	dst := filepath.Join(fleet.Root, "bin", "kubectl-skoala")
	var err error
	repoBinaryOnce.Do(func() {
		if a, e1 := os.Stat(fleet.Skoala); e1 == nil {
			if b, e2 := os.Stat(dst); e2 == nil && os.SameFile(a, b) {
				return
			}
		}
		if err = os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return
		}
		tmp := dst + ".e2e-tmp"
		copyFile(t, fleet.Skoala, tmp, 0o755)
		err = os.Rename(tmp, dst)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// VersionReport is the JSON of `kubectl skoala version -o json`.
type VersionReport struct {
	ClientVersion struct {
		Version   string `json:"version"`
		GitCommit string `json:"gitCommit"`
		GoVersion string `json:"goVersion"`
		Platform  string `json:"platform"`
	} `json:"clientVersion"`
	ServerVersion *struct {
		GitVersion string `json:"gitVersion"`
	} `json:"serverVersion"`
	Context     string `json:"context"`
	ServerError string `json:"serverError"`
}

// parseVersion decodes a successful `version -o json` run.
func parseVersion(t testing.TB, r Result) VersionReport {
	t.Helper()
	if r.Code != 0 {
		t.Fatalf("version failed:\n%s", r)
	}
	var v VersionReport
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
		t.Fatalf("version -o json printed no JSON: %v\n%s", err, r)
	}
	if v.ClientVersion.Version == "" {
		t.Fatalf("no clientVersion.version:\n%s", r)
	}
	return v
}

var (
	clientVersionOnce sync.Once
	clientVersion     string
)

// wantClientVersion is what the binary under test reports as its version, run directly.
func wantClientVersion(t testing.TB) string {
	t.Helper()
	clientVersionOnce.Do(func() {
		clientVersion = parseVersion(t, Skoala(t, "version", "--client", "-o", "json")).ClientVersion.Version
	})
	if clientVersion == "" {
		t.Fatal("the binary under test reported no version")
	}
	return clientVersion
}

var (
	serverVersionsMu sync.Mutex
	serverVersions   = map[string]string{}
)

// kubectlServerVersion is the API server version of a fleet context as the real kubectl reports it.
func kubectlServerVersion(t testing.TB, context string) string {
	t.Helper()
	serverVersionsMu.Lock()
	defer serverVersionsMu.Unlock()
	if v, ok := serverVersions[context]; ok {
		return v
	}
	r := MustKubectl(t, "version", "--context", context, "-o", "json")
	var v struct {
		ServerVersion struct {
			GitVersion string `json:"gitVersion"`
		} `json:"serverVersion"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil || v.ServerVersion.GitVersion == "" {
		t.Fatalf("kubectl version -o json: no serverVersion.gitVersion (%v)\n%s", err, r)
	}
	serverVersions[context] = v.ServerVersion.GitVersion
	return v.ServerVersion.GitVersion
}

// completions returns the candidates of a cobra __complete answer (without descriptions) and its
// directive line.
func completions(t testing.TB, r Result) ([]string, string) {
	t.Helper()
	if r.Code != 0 {
		t.Fatalf("completion failed:\n%s", r)
	}
	lines := strings.Split(strings.TrimRight(r.Stdout, "\n"), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], ":") {
		t.Fatalf("no cobra directive line (:N) at the end:\n%s", r)
	}
	var out []string
	for _, l := range lines[:len(lines)-1] {
		name, _, _ := strings.Cut(l, "\t")
		out = append(out, name)
	}
	return out, lines[len(lines)-1]
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// helmSandbox is an environment in which a helm CLI sees only temporary folders: plugins, config, cache,
// data. HELM_PLUGINS is set to HELM_DATA_HOME/plugins because helm 4.3's `plugin install` ignores
// HELM_PLUGINS and installs under HELM_DATA_HOME/plugins while `plugin list` reads HELM_PLUGINS.
type helmSandbox struct {
	helm    string // the helm binary
	env     []string
	plugins string // HELM_DATA_HOME/plugins
}

func newHelmSandbox(t testing.TB, helmBinary string) *helmSandbox {
	t.Helper()
	root := t.TempDir()
	s := &helmSandbox{helm: filepath.Join(fleet.BinDir, helmBinary), plugins: filepath.Join(root, "data", "plugins")}
	if _, err := os.Stat(s.helm); err != nil {
		t.Fatalf("%s is missing: build it with 'make tools' (hack/tools.sh %s): %v", s.helm, helmBinary, err)
	}
	s.env = withEnv(fleet.BaseEnv(t),
		"HELM_DATA_HOME="+filepath.Join(root, "data"),
		"HELM_CONFIG_HOME="+filepath.Join(root, "config"),
		"HELM_CACHE_HOME="+filepath.Join(root, "cache"),
		"HELM_PLUGINS="+s.plugins,
	)
	s.env = withEnv(s.env, goEnv(t)...)
	return s
}

// run runs helm in the sandbox; extraEnv is added to the sandbox's environment.
func (s *helmSandbox) run(t testing.TB, extraEnv []string, args ...string) Result {
	t.Helper()
	return Run(t, withEnv(s.env, extraEnv...), 5*time.Minute, s.helm, args...)
}

func (s *helmSandbox) mustRun(t testing.TB, args ...string) Result {
	t.Helper()
	r := s.run(t, nil, args...)
	if r.Code != 0 {
		t.Fatalf("%s failed:\n%s", filepath.Base(s.helm), r)
	}
	return r
}

// background is a run of the plugin started with startSkoala and not waited for yet.
type background struct {
	cmd            *exec.Cmd
	stdout, stderr lockedBuffer
	exited         chan struct{}
	err            error
}

// startSkoala starts the plugin under test with the fleet's environment and returns at once; wait ends it.
func startSkoala(t testing.TB, args ...string) *background {
	t.Helper()
	b := &background{cmd: exec.Command(fleet.Skoala, args...), exited: make(chan struct{})}
	b.cmd.Env = fleet.BaseEnv(t)
	b.cmd.Stdout, b.cmd.Stderr = &b.stdout, &b.stderr
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.signal(os.Kill) })
	go func() { b.err = b.cmd.Wait(); close(b.exited) }()
	return b
}

// ended reports whether the process has exited.
func (b *background) ended() bool {
	select {
	case <-b.exited:
		return true
	default:
		return false
	}
}

// signal sends sig to the process unless it has exited.
func (b *background) signal(sig os.Signal) {
	if !b.ended() {
		_ = b.cmd.Process.Signal(sig)
	}
}

// wait waits for the process (at most 2 minutes) and captures its output as Run does; Code is -1 when a
// signal ended it.
func (b *background) wait(t testing.TB) Result {
	t.Helper()
	select {
	case <-b.exited:
	case <-time.After(2 * time.Minute):
		b.signal(os.Kill)
		<-b.exited
		t.Errorf("%v did not end within 2m", b.cmd.Args)
	}
	r := Result{Args: append([]string{filepath.Base(b.cmd.Path)}, b.cmd.Args[1:]...), Stdout: b.stdout.String(), Stderr: b.stderr.String()}
	var ee *exec.ExitError
	if errors.As(b.err, &ee) {
		r.Code = ee.ExitCode()
	}
	capture(t, r)
	return r
}
