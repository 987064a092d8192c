// Package e2e runs the built kubectl-skoala binary against the real local fleet (hack/fleet.sh: real
// kube-apiservers, etcd, controller-managers, schedulers and kwok nodes), the real helm CLIs and a chart
// repository over HTTP on loopback. It never skips: without the fleet it fails and says how to start it.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Fleet is the running local fleet, read from .cache/cluster/env.
type Fleet struct {
	Root               string // the repository
	Dir                string // .cache/cluster
	BinDir             string // .cache/bin (helm3, helm4, kubectl-krew, ...)
	Env                map[string]string
	Kubeconfig         string
	ReadOnlyKubeconfig string
	RepoURL            string
	Clusters           []string
	Skoala             string // the kubectl-skoala binary under test
}

var fleet *Fleet

func TestMain(m *testing.M) {
	f, err := loadFleet()
	if err != nil {
		fmt.Fprintf(os.Stderr, "\nE2E: the local fleet is not usable: %v\n"+
			"E2E: start it with 'make cluster-up CLUSTERS=4' (or run everything with 'make test'), then run 'make test-e2e'.\n\n", err)
		os.Exit(1)
	}
	fleet = f
	os.Exit(m.Run())
}

// inParallel runs fns at once and waits for them (at most timeout, when it is not 0). A function that
// fails the test (t.Fatal ends only its goroutine) fails it here too, after the others have ended.
func inParallel(t *testing.T, timeout time.Duration, fns ...func()) {
	t.Helper()
	var wg sync.WaitGroup
	for _, f := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f()
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var expired <-chan time.Time
	if timeout > 0 {
		expired = time.After(timeout)
	}
	select {
	case <-done:
	case <-expired:
		t.Fatalf("installing the fixtures took more than %s", timeout)
	}
	if t.Failed() {
		t.FailNow()
	}
}

func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; d != "/"; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("go.mod not found above " + wd)
}

func loadFleet() (*Fleet, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	cache := os.Getenv("SKOALA_CACHE")
	if cache == "" {
		cache = filepath.Join(root, ".cache")
	}
	envFile := filepath.Join(cache, "cluster", "env")
	b, err := os.ReadFile(envFile)
	if err != nil {
		return nil, fmt.Errorf("%s is missing (the fleet was never started, or was stopped)", envFile)
	}
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		line = strings.TrimPrefix(line, "export ")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		env[k] = strings.Trim(v, `"'`)
	}
	f := &Fleet{
		Root: root, Dir: filepath.Join(cache, "cluster"), BinDir: filepath.Join(cache, "bin"), Env: env,
		Kubeconfig: env["KUBECONFIG"], ReadOnlyKubeconfig: env["SKOALA_KUBECONFIG_READONLY"],
		RepoURL: env["SKOALA_CHARTREPO_URL"], Clusters: strings.Fields(env["SKOALA_CLUSTERS"]),
	}
	if len(f.Clusters) == 0 {
		return nil, fmt.Errorf("%s names no clusters", envFile)
	}
	// Every cluster must answer /readyz: a fleet that is half up fails here, not in the middle of a test.
	out, err := exec.Command(filepath.Join(root, "hack", "fleet.sh"), "status").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("hack/fleet.sh status: %s", strings.TrimSpace(string(out)))
	}
	if _, err := http.Get(f.RepoURL + "/index.yaml"); err != nil {
		return nil, fmt.Errorf("the chart repository %s does not answer: %v", f.RepoURL, err)
	}
	f.Skoala = os.Getenv("SKOALA_PLUGIN")
	if f.Skoala == "" {
		f.Skoala = filepath.Join(cache, "e2e", "kubectl-skoala")
		cmd := exec.Command("go", "build", "-o", f.Skoala, "./cmd/kubectl-skoala")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("building kubectl-skoala: %v\n%s", err, out)
		}
	}
	return f, nil
}

// Result is what a command printed and how it exited.
type Result struct {
	Args   []string
	Stdout string
	Stderr string
	Code   int
}

func (r Result) String() string {
	return fmt.Sprintf("args: %q\nexit: %d\nstdout:\n%s\nstderr:\n%s", r.Args, r.Code, r.Stdout, r.Stderr)
}

// captureSeq numbers the captured outputs.
var captureSeq atomic.Int64

// capture keeps every byte a command printed under $SKOALA_CAPTURE_DIR (the secret scanner reads them).
func capture(t testing.TB, r Result) {
	dir := os.Getenv("SKOALA_CAPTURE_DIR")
	if dir == "" {
		dir = filepath.Join(fleet.Root, ".cache", "e2e", "captures")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	name := fmt.Sprintf("%05d-%s", captureSeq.Add(1), sanitize(t.Name()))
	_ = os.WriteFile(filepath.Join(dir, name+".txt"), []byte(r.String()), 0o644)
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func sanitize(s string) string { return unsafeChars.ReplaceAllString(s, "_") }

// BaseEnv is the environment every command of a test gets: the fleet's (KUBECONFIG, HELM_*), a HOME of its
// own, no colour, and nothing of the developer's own kubeconfig or helm settings.
func (f *Fleet) BaseEnv(t testing.TB) []string {
	home := t.TempDir()
	env := []string{
		"HOME=" + home,
		"PATH=" + f.BinDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"TERM=dumb",
	}
	for k, v := range f.Env {
		env = append(env, k+"="+v)
	}
	if gc := os.Getenv("GOCACHE"); gc != "" {
		env = append(env, "GOCACHE="+gc)
	}
	return env
}

// Run runs a command with env (nil = BaseEnv) and a timeout, and captures its output.
func Run(t testing.TB, env []string, timeout time.Duration, name string, args ...string) Result {
	t.Helper()
	if env == nil {
		env = fleet.BaseEnv(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	r := Result{Args: append([]string{filepath.Base(name)}, args...), Stdout: so.String(), Stderr: se.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	default:
		t.Fatalf("running %s %v: %v", name, args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("%s %v did not finish within %s\n%s", name, args, timeout, r)
	}
	capture(t, r)
	return r
}

// Skoala runs the plugin binary under test with the fleet's environment.
func Skoala(t testing.TB, args ...string) Result {
	t.Helper()
	return Run(t, nil, 2*time.Minute, fleet.Skoala, args...)
}

// SkoalaEnv runs the plugin with extra environment variables.
func SkoalaEnv(t testing.TB, extra []string, args ...string) Result {
	t.Helper()
	return Run(t, append(fleet.BaseEnv(t), extra...), 2*time.Minute, fleet.Skoala, args...)
}

// Helm runs the real helm v3 CLI built by the harness, for setting up fixtures.
func Helm(t testing.TB, args ...string) Result {
	t.Helper()
	return Run(t, nil, 5*time.Minute, filepath.Join(fleet.BinDir, "helm3"), args...)
}

// MustHelm runs helm and fails the test when it fails.
func MustHelm(t testing.TB, args ...string) Result {
	t.Helper()
	r := Helm(t, args...)
	if r.Code != 0 {
		t.Fatalf("helm failed:\n%s", r)
	}
	return r
}

// Kubectl runs kubectl against the fleet.
func Kubectl(t testing.TB, args ...string) Result {
	t.Helper()
	return Run(t, nil, 2*time.Minute, "kubectl", args...)
}

// MustKubectl runs kubectl and fails the test when it fails.
func MustKubectl(t testing.TB, args ...string) Result {
	t.Helper()
	r := Kubectl(t, args...)
	if r.Code != 0 {
		t.Fatalf("kubectl failed:\n%s", r)
	}
	return r
}

// Namespace returns a namespace name of the test's own (created by helm --create-namespace), and deletes it
// in every fleet cluster at the end of the test.
func Namespace(t *testing.T, prefix string) string {
	t.Helper()
	h := sha256.Sum256([]byte(t.Name()))
	ns := fmt.Sprintf("%s-%s", prefix, hex.EncodeToString(h[:])[:8])
	t.Cleanup(func() {
		if os.Getenv("SKOALA_E2E_KEEP") != "" {
			return
		}
		for _, c := range fleet.Clusters {
			_ = exec.Command("kubectl", "--kubeconfig", fleet.Kubeconfig, "--context", c, "delete", "namespace", ns, "--wait=false", "--ignore-not-found").Run()
		}
	})
	return ns
}

// InstallChart installs (or upgrades to) a fixture chart version from the fleet's repository with helm.
func InstallChart(t testing.TB, kubeContext, namespace, release, chart, version string, extra ...string) {
	t.Helper()
	args := []string{"upgrade", "--install", release, "skoala-release/" + chart, "--version", version,
		"--kube-context", kubeContext, "-n", namespace, "--create-namespace", "--wait", "--timeout", "3m"}
	MustHelm(t, append(args, extra...)...)
}
