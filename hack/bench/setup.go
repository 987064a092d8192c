package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk/helmtest"
)

// The fixtures live in namespaces of their own, created here and deleted at the end (unless -keep).
const (
	nsMain    = "bench-main"    // skoala (global) and skoala-init (every workspace), 1 revision each
	nsHist    = "bench-hist"    // skoala (global) with 200 revisions
	nsMySQL   = "bench-mysql"   // common-mysql (global), named by skoala's DSN: doctor's database checks
	nsInsight = "bench-insight" // insight-agent (every workspace), installed before skoala-init
	fixtureV  = "0.57.2"
	// upgradeV is the version the baseline section's upgrade --dry-run plans: another version the fleet's
	// chart repository serves (hack/charts.sh), so that the dry run renders and diffs a real change
	upgradeV = "0.58.0-rc.1"
	repoName = "skoala-release"
)

var benchNamespaces = []string{nsMain, nsHist, nsMySQL, nsInsight, nsWaves}

// Env is the machine the benchmark runs on: the fleet, the tools and the environment of every command.
type Env struct {
	Root, Cache, State string
	Plugin, Kubectl    string
	Baseline           string // -baseline: the kubectl-skoala binary the baseline section compares Plugin with
	Helm               string
	FleetEnv           map[string]string
	Clusters           []string // global, workspace-1, ...
	Home               string
	LatencyKubeconfig  string

	startedFleet   bool
	startedLatency bool
	log            func(string, ...any)
}

func (e *Env) workspaces() []string {
	var ws []string
	for _, c := range e.Clusters {
		if strings.HasPrefix(c, "workspace-") {
			ws = append(ws, c)
		}
	}
	return ws
}

// base is the environment of every measured command: the fleet's (KUBECONFIG, HELM_*), a HOME of the
// benchmark's own that persists across runs (kubectl's discovery cache stays warm, as on a user's machine),
// no colour.
func (e *Env) base(kubeconfig string) []string {
	env := []string{
		"HOME=" + e.Home,
		"PATH=" + os.Getenv("PATH"),
		"TERM=dumb",
		"NO_COLOR=1",
		"LANG=C",
	}
	for k, v := range e.FleetEnv {
		if k == "KUBECONFIG" {
			continue
		}
		env = append(env, k+"="+v)
	}
	return append(env, "KUBECONFIG="+kubeconfig)
}

func (e *Env) sh(ctx context.Context, extraEnv []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = e.Root
	cmd.Env = append(os.Environ(), extraEnv...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, tail(out.String(), 1500), tail(errb.String(), 1500))
	}
	return out.String(), nil
}

func (e *Env) kubectl(ctx context.Context, args ...string) (string, error) {
	return e.sh(ctx, e.base(e.FleetEnv["KUBECONFIG"]), e.Kubectl, args...)
}

func (e *Env) helm(ctx context.Context, args ...string) (string, error) {
	return e.sh(ctx, e.base(e.FleetEnv["KUBECONFIG"]), e.Helm, args...)
}

// ensureFleet uses the running fleet, or starts one (CLUSTERS=clusters) that the benchmark stops again. A
// degraded fleet is left alone (others may be using it, and their tests stop and start clusters): the
// benchmark waits for it to be healthy again.
func (e *Env) ensureFleet(ctx context.Context, clusters int) error {
	code, out := e.fleetStatus(ctx)
	switch code {
	case 0:
	case 3:
		e.log("fleet not up: starting CLUSTERS=%d (stopped again at the end)", clusters)
		if _, err := e.sh(ctx, []string{fmt.Sprintf("CLUSTERS=%d", clusters)}, filepath.Join(e.Root, "hack", "fleet.sh"), "up"); err != nil {
			return err
		}
		e.startedFleet = true
	default:
		if err := e.waitHealthy(ctx, 3*time.Minute); err != nil {
			return fmt.Errorf("%w\n%s", err, out)
		}
	}
	return e.loadFleetEnv()
}

func (e *Env) fleetStatus(ctx context.Context) (int, string) {
	out, err := exec.CommandContext(ctx, filepath.Join(e.Root, "hack", "fleet.sh"), "status").CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	default:
		return 1, err.Error()
	}
}

// waitHealthy waits until every cluster of the fleet is ready again.
func (e *Env) waitHealthy(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	said := false
	for {
		code, out := e.fleetStatus(ctx)
		if code == 0 {
			if said {
				e.log("the fleet is healthy again")
			}
			return nil
		}
		if code == 3 {
			return fmt.Errorf("the fleet went down")
		}
		if !said {
			e.log("the fleet is degraded (another test stopping a cluster?): waiting up to %s\n%s", limit, strings.TrimSpace(out))
			said = true
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the fleet is still degraded after %s: not touching it, others may be using it", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(3 * time.Second):
		}
	}
}

func (e *Env) loadFleetEnv() error {
	b, err := os.ReadFile(filepath.Join(e.State, "env"))
	if err != nil {
		return fmt.Errorf("the fleet's env file: %w", err)
	}
	e.FleetEnv = map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimPrefix(strings.TrimSpace(sc.Text()), "export ")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		// "export A=x B=y" lines (the tokens) hold several assignments
		for _, kv := range strings.Fields(line) {
			if k, v, ok := strings.Cut(kv, "="); ok {
				e.FleetEnv[k] = strings.Trim(v, `"'`)
			}
		}
		if k, v, ok := strings.Cut(line, "="); ok && strings.HasPrefix(v, `"`) {
			e.FleetEnv[k] = strings.Trim(v, `"`)
		}
	}
	e.Clusters = strings.Fields(e.FleetEnv["SKOALA_CLUSTERS"])
	if len(e.Clusters) < 2 {
		return fmt.Errorf("the fleet has %v: the benchmark needs global and at least one workspace (CLUSTERS>=2)", e.Clusters)
	}
	return nil
}

// ensureLatency starts hack/latency.sh with the benchmark's settings, unless it already runs with them.
func (e *Env) ensureLatency(ctx context.Context, rtt, bandwidth, workspaces int) error {
	want := map[string]string{
		"SKOALA_LATENCY_RTT_MS":         strconv.Itoa(rtt),
		"SKOALA_LATENCY_BANDWIDTH_KBPS": strconv.Itoa(bandwidth),
		"SKOALA_LATENCY_WORKSPACES":     strconv.Itoa(workspaces),
	}
	script := filepath.Join(e.Root, "hack", "latency.sh")
	e.LatencyKubeconfig = filepath.Join(e.State, "kubeconfig-latency")
	if _, err := e.sh(ctx, nil, script, "status"); err == nil {
		b, _ := os.ReadFile(filepath.Join(e.State, "latency.env"))
		same := true
		for k, v := range want {
			if !strings.Contains(string(b), "export "+k+"="+v+"\n") {
				same = false
			}
		}
		if same {
			e.log("latency proxies already up with RTT %d ms, %d KB/s, %d workspaces: using them", rtt, bandwidth, workspaces)
			return nil
		}
	}
	e.log("starting the latency proxies (hack/latency.sh up): RTT %d ms, %d KB/s each way, %d workspace contexts", rtt, bandwidth, workspaces)
	_, err := e.sh(ctx, []string{
		"RTT_MS=" + strconv.Itoa(rtt), "BANDWIDTH_KBPS=" + strconv.Itoa(bandwidth), "WORKSPACES=" + strconv.Itoa(workspaces),
	}, script, "up")
	if err == nil {
		e.startedLatency = true
	}
	return err
}

// helmStatus returns the release's status and chart version, or "" when it is not installed.
func (e *Env) helmStatus(ctx context.Context, kctx, ns, rel string) (status string, revisions int) {
	out, err := e.helm(ctx, "--kube-context", kctx, "-n", ns, "history", rel, "--max", "1000", "-o", "json")
	if err != nil {
		return "", 0
	}
	var h []struct {
		Status string `json:"status"`
		Chart  string `json:"chart"`
	}
	if json.Unmarshal([]byte(out), &h) != nil || len(h) == 0 {
		return "", 0
	}
	last := h[len(h)-1]
	if last.Chart != "" && !strings.HasSuffix(last.Chart, "-"+fixtureV) {
		return "other-version", len(h)
	}
	return last.Status, len(h)
}

func (e *Env) install(ctx context.Context, kctx, ns, rel, chart, version string, extra ...string) error {
	if st, _ := e.helmStatus(ctx, kctx, ns, rel); st == "deployed" {
		return nil
	}
	args := append([]string{"upgrade", "--install", rel, repoName + "/" + chart, "--version", version,
		"--kube-context", kctx, "-n", ns, "--create-namespace", "--wait", "--timeout", "3m"}, extra...)
	_, err := e.helm(ctx, args...)
	return err
}

func mysqlDSN() string {
	return "skoala:bench-not-a-real-password@tcp(mcamel-common-mysql-cluster-mysql-master." + nsMySQL +
		".svc.cluster.local:3306)/skoala?charset=utf8&parseTime=true&loc=Local&timeout=10s"
}

// fixtures installs what the measurements read, concurrently, as the product guide orders it: common-mysql
// before skoala, insight-agent before skoala-init. Releases already there (a -keep run) are kept.
func (e *Env) fixtures(ctx context.Context, revisions int) error {
	t0 := time.Now()
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	do := func(f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	do(func() error {
		if err := e.install(ctx, "global", nsMySQL, "common-mysql", "common-mysql", "1.0.0"); err != nil {
			return err
		}
		return e.install(ctx, "global", nsMain, "skoala", "skoala", fixtureV,
			"--set", "hive.configMap.database[0].driver=mysql",
			"--set-string", "hive.configMap.database[0].dsn="+strings.ReplaceAll(mysqlDSN(), ",", `\,`))
	})
	do(func() error { return e.history(ctx, "global", nsHist, "skoala", "skoala", fixtureV, revisions) })
	for _, w := range e.workspaces() {
		do(func() error {
			if err := e.install(ctx, w, nsInsight, "insight-agent", "insight-agent", "1.0.0"); err != nil {
				return err
			}
			return e.install(ctx, w, nsMain, "skoala-init", "skoala-init", fixtureV)
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	e.log("fixtures ready in %.0fs: %s/{skoala,skoala-init} (1 revision), %s/skoala (%d revisions), %s, %s",
		time.Since(t0).Seconds(), nsMain, nsHist, revisions, nsMySQL, nsInsight)
	return nil
}

// history gives a release `revisions` revisions in Helm's Secret storage, as test/e2e's MakeHistory does:
// the first and the last are real `helm upgrade --install` runs; the ones between are copies of the first
// revision's record (decoded, renumbered, marked superseded, re-encoded as Helm does), which Helm reads as
// its own (the final real upgrade numbers its revision after them, reading the whole history).
func (e *Env) history(ctx context.Context, kctx, ns, rel, chart, version string, revisions int) error {
	if st, n := e.helmStatus(ctx, kctx, ns, rel); st == "deployed" && n == revisions {
		return nil
	} else if n > 0 {
		// a partial history from an interrupted run: start again
		if _, err := e.helm(ctx, "--kube-context", kctx, "-n", ns, "uninstall", rel, "--wait"); err != nil {
			return err
		}
	}
	if err := e.install(ctx, kctx, ns, rel, chart, version); err != nil {
		return err
	}
	name := fmt.Sprintf("sh.helm.release.v1.%s.v1", rel)
	raw, err := e.kubectl(ctx, "--context", kctx, "-n", ns, "get", "secret", name, "-o", "jsonpath={.data.release}")
	if err != nil {
		return err
	}
	list, err := helmtest.SupersededCopies(raw, ns, rel, revisions)
	if err != nil {
		return err
	}
	f := filepath.Join(e.Cache, "bench", "history.json")
	if err := os.WriteFile(f, list, 0o600); err != nil {
		return err
	}
	defer os.Remove(f)
	if _, err := e.kubectl(ctx, "--context", kctx, "create", "-f", f); err != nil {
		return err
	}
	_, err = e.helm(ctx, "upgrade", rel, repoName+"/"+chart, "--version", version, "--kube-context", kctx, "-n", ns,
		"--history-max", "0", "--reuse-values", "--wait", "--timeout", "3m")
	return err
}

// cleanup deletes the benchmark's namespaces in every cluster and stops what the benchmark started.
func (e *Env) cleanup(ctx context.Context) {
	var wg sync.WaitGroup
	for _, c := range e.Clusters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			args := append([]string{"--context", c, "delete", "namespace", "--wait=false", "--ignore-not-found"}, benchNamespaces...)
			if _, err := e.kubectl(ctx, args...); err != nil {
				e.log("cleanup %s: %v", c, err)
			}
		}()
	}
	wg.Wait()
	e.log("deleted namespaces %s in %s", strings.Join(benchNamespaces, ", "), strings.Join(e.Clusters, ", "))
	if e.startedLatency {
		if _, err := e.sh(ctx, nil, filepath.Join(e.Root, "hack", "latency.sh"), "down"); err != nil {
			e.log("latency.sh down: %v", err)
		}
	}
	if e.startedFleet {
		if _, err := e.sh(ctx, nil, filepath.Join(e.Root, "hack", "fleet.sh"), "down"); err != nil {
			e.log("fleet.sh down: %v", err)
		}
	}
}

// buildFloor builds hack/bench/testdata/floor (the plugin's libraries without the plugin) as `make build`
// builds the plugin (CGO off, -trimpath, stripped: the Makefile's -s -w) and returns its path.
func (e *Env) buildFloor(ctx context.Context) (string, error) {
	out := filepath.Join(e.Cache, "bench", "floor")
	_, err := e.sh(ctx, []string{"CGO_ENABLED=0"}, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, "./hack/bench/testdata/floor")
	return out, err
}
