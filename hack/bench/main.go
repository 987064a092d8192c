// Command bench measures kubectl-skoala against the kubectl and helm commands it replaces, on the local fleet
// (hack/fleet.sh) with and without remote-cluster latency (hack/latency.sh: toxiproxy on loopback), prints a
// table and writes it as JSON (.cache/bench/results.json). Run it with `make bench`.
//
// Every figure is the median of -runs runs (after one warm-up run); every comparison is a ratio of two
// figures measured in the same run, their runs interleaved (A B, B A, ...), so that the load of a shared
// machine falls on both. It checks the targets of issue #6 and the API request budgets below; it exits 1
// when a request budget is exceeded (a regression), 2 on a usage error, and 0 otherwise, even when a
// latency target is missed (the table says by how much), unless -strict is given.
//
// What it sets up, and takes down again unless -keep: the fleet when it is not up (CLUSTERS=4), the latency
// proxies (hack/latency.sh: global-lat and ws-lat-1..20), and the fixtures in namespaces bench-main,
// bench-hist (200 revisions), bench-mysql, bench-insight and bench-waves (section waves) of every cluster.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Request budgets: the most API requests a healthy run may make on any one cluster of the fixtures. A change
// that makes more fails `make bench` (not the unit tests); so does any discovery or OpenAPI request, and any
// list of Helm's storage (Secrets, ConfigMaps) without the release's label selector.
//
//	status: 1 list of the release's current revision (label selector status!=superseded) + 1 list per
//	        workload kind its manifest names (skoala: deployments; skoala-init: deployments, jobs) + pods = 4
//	doctor: status's reads (the Jobs list shared with the admission-Job check), /version, the namespaces
//	        it checks, insight-agent's release, ServiceMonitors, common-mysql (control plane), one
//	        SelfSubjectRulesReview per namespace its permissions are in and one SelfSubjectAccessReview per
//	        cluster-scoped permission: measured 14 on a workspace (2 rules reviews, 3 access reviews). It
//	        was 31 (20 access reviews, one per permission; two reads of the Jobs and of insight-agent)
//
// 2026-12-06 (issues 23 and 24): status 4 -> 5, the list of kpanda's HelmApps (status says when one also
// manages the release), sent in the same round as the release read; doctor 14 -> 24, its drift check (one
// GET per object of the release's manifest, one list of the owned objects per kind, the HPAs: all in one
// round, so the count grows and the time does not) and the list of HelmApps. Measured 5 and 24 on every
// cluster of the fleet section (hack/bench/results-2026-12-06.md).
var budgets = map[string]float64{
	"status": 5,
	"doctor": 24,
}

// Targets of issue #6 (ratios measured in the same run).
const (
	targetStatusVsManual0  = 0.3
	targetStatusVsManual50 = 0.5
	targetHistory          = 1.3
	targetFleet            = 2.0
	targetHelp             = 0.6
	targetBinaryBytes      = 60_000_000
	// issue 11: images push vs crane push of the same images, and a push with every blob present vs the first
	targetImagesPush    = 1.0
	targetImagesPresent = 0.2
	// issue 26: status, doctor and upgrade --dry-run of the Helm 4 SDK build vs the Helm 3 SDK build (-baseline)
	targetBaseline = 1.1
	// issue 23: verify of one release vs helm get manifest | kubectl diff --server-side; over 20 workspaces vs 1
	targetVerifyVsDiff = 1.0
	targetVerifyFleet  = 1.5
)

type options struct {
	runs       int
	rtt        int
	bandwidth  int
	workspaces []int
	plugin     string
	baseline   string
	out        string
	record     string
	keep       bool
	cleanup    bool
	strict     bool
	only       map[string]bool
	clusters   int
	revisions  int
	timeout    time.Duration
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == launcherArg {
		os.Exit(launch(os.Args[2:]))
	}
	os.Exit(mainErr())
}

func mainErr() int {
	var o options
	var ws, only, render string
	flag.IntVar(&o.runs, "runs", 9, "runs per figure (the median is reported), after one warm-up run")
	flag.IntVar(&o.rtt, "rtt", 50, "round-trip time of the latency proxies, in milliseconds")
	flag.IntVar(&o.bandwidth, "bandwidth", 12500, "bandwidth limit of each proxy and direction, in KB/s (0: none)")
	flag.StringVar(&ws, "workspaces", "1,5,10,20", "workspace counts of the fleet-scale measurement")
	flag.StringVar(&o.plugin, "plugin", "bin/kubectl-skoala", "the kubectl-skoala binary to measure (as `make build` makes it: stripped)")
	flag.StringVar(&o.baseline, "baseline", "", "a second kubectl-skoala binary (the Helm 3 SDK build) to compare status, doctor and upgrade --dry-run with: section baseline")
	flag.StringVar(&o.out, "out", ".cache/bench/results.json", "where to write the results as JSON (a .md table is written beside it)")
	flag.StringVar(&o.record, "record", "", "also write the JSON and the table here (the copy the README cites, e.g. hack/bench/results.json)")
	flag.BoolVar(&o.keep, "keep", false, "keep the fixtures, the latency proxies and a fleet this run started")
	flag.BoolVar(&o.cleanup, "cleanup", false, "only remove what -keep left: the fixtures' namespaces and the latency proxies (the fleet stays)")
	flag.BoolVar(&o.strict, "strict", false, "exit 1 when any target is missed, not only a request budget")
	flag.StringVar(&only, "only", "", "run only these sections (comma list of startup,single,history,fleet,kpanda,requests,images,baseline,verify,waves; baseline only with -baseline)")
	flag.IntVar(&o.clusters, "clusters", 4, "CLUSTERS for hack/fleet.sh up when the fleet is not up (the waves section needs 4: global and three workspaces)")
	flag.IntVar(&o.revisions, "revisions", 200, "revisions of the long-history release")
	flag.DurationVar(&o.timeout, "timeout", 2*time.Minute, "time allowed for one command")
	flag.StringVar(&render, "render", "", "only write the .md table of a recorded results JSON again (after a change of the table's format)")
	flag.Parse()
	if render != "" {
		if err := rerender(render); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			return 1
		}
		return 0
	}
	if flag.NArg() > 0 || o.runs < 1 || o.rtt < 0 || o.bandwidth < 0 || o.revisions < 2 {
		fmt.Fprintln(os.Stderr, "usage: bench [flags] (see -h)")
		return 2
	}
	for _, s := range strings.Split(ws, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "bench: bad -workspaces %q\n", ws)
			return 2
		}
		o.workspaces = append(o.workspaces, n)
	}
	o.only = map[string]bool{}
	for _, s := range strings.Split(only, ",") {
		if s = strings.TrimSpace(s); s != "" {
			if !knownSection(s) {
				fmt.Fprintf(os.Stderr, "bench: unknown section %q in -only (%s)\n", s, strings.Join(sectionNames, ","))
				return 2
			}
			o.only[s] = true
		}
	}
	if o.only["baseline"] && o.baseline == "" {
		fmt.Fprintln(os.Stderr, "bench: section baseline needs -baseline BIN (the Helm 3 SDK build of kubectl-skoala)")
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.cleanup {
		if err := cleanupOnly(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			return 1
		}
		return 0
	}
	res, err := benchmark(ctx, o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		return 1
	}
	if !res.BudgetsOK {
		fmt.Fprintln(os.Stderr, "bench: FAILED: an API request budget is exceeded (see the requests table)")
		return 1
	}
	if o.strict && !res.TargetsOK {
		fmt.Fprintln(os.Stderr, "bench: FAILED (-strict): a target is missed")
		return 1
	}
	return 0
}

// sectionNames are the sections in the order they run.
var sectionNames = []string{"startup", "single", "history", "fleet", "kpanda", "requests", "images", "baseline", "verify", "waves"}

func knownSection(s string) bool {
	for _, n := range sectionNames {
		if n == s {
			return true
		}
	}
	return false
}

// want says whether a section runs: every section when -only is not given (baseline only with -baseline).
func (o options) want(section string) bool {
	if section == "baseline" && o.baseline == "" {
		return false
	}
	return len(o.only) == 0 || o.only[section]
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "[bench %s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
}

func benchmark(ctx context.Context, o options) (*Results, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	cache := os.Getenv("SKOALA_CACHE")
	if cache == "" {
		cache = filepath.Join(root, ".cache")
	}
	e := &Env{Root: root, Cache: cache, State: filepath.Join(cache, "cluster"), log: logf}
	e.Plugin = abs(root, o.plugin)
	e.Helm = filepath.Join(cache, "bin", "helm3")
	if e.Kubectl, err = exec.LookPath("kubectl"); err != nil {
		return nil, fmt.Errorf("kubectl is not on PATH")
	}
	for _, f := range []string{e.Plugin, e.Helm} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("%s is missing (make build; hack/tools.sh helm3)", f)
		}
	}
	if o.baseline != "" {
		e.Baseline = abs(root, o.baseline)
		if _, err := os.Stat(e.Baseline); err != nil {
			return nil, fmt.Errorf("-baseline: %w", err)
		}
	}
	e.Home = filepath.Join(cache, "bench", "home")
	if err := os.MkdirAll(e.Home, 0o755); err != nil {
		return nil, err
	}

	res := &Results{Schema: "skoala.bench/v1", Started: time.Now().UTC(), BudgetsOK: true, TargetsOK: true}
	res.Machine = machine(ctx, e)
	res.Config = Config{Runs: o.runs, RTTms: o.rtt, BandwidthKBps: o.bandwidth, Workspaces: o.workspaces, Revisions: o.revisions,
		Plugin: o.plugin, Baseline: o.baseline, Helm: e.Helm, Kubectl: e.Kubectl}
	logf("machine: %d cores, load %s", runtime.NumCPU(), res.Machine.LoadStart)

	needCluster := o.want("single") || o.want("history") || o.want("fleet") || o.want("kpanda") || o.want("requests") || o.want("baseline") || o.want("verify") || o.want("waves")
	if !needCluster && o.want("images") { // the fleet's registry only: no latency proxies, no fixtures
		if err := e.ensureFleet(ctx, o.clusters); err != nil {
			return nil, err
		}
		if e.startedFleet && !o.keep {
			defer e.cleanup(context.Background())
		}
	}
	maxWS := 0
	for _, n := range o.workspaces {
		maxWS = max(maxWS, n)
	}
	if needCluster {
		if err := e.ensureFleet(ctx, o.clusters); err != nil {
			return nil, err
		}
		defer func() {
			if o.keep {
				logf("-keep: leaving the fixtures (%s) and the latency proxies up", strings.Join(benchNamespaces, ", "))
				return
			}
			e.cleanup(context.Background())
		}()
		if err := e.ensureLatency(ctx, o.rtt, o.bandwidth, max(maxWS, 1)); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Join(cache, "bench"), 0o755); err != nil {
			return nil, err
		}
		if err := e.fixtures(ctx, o.revisions); err != nil {
			return nil, err
		}
	}

	m := &measurer{e: e, o: o, res: res}
	sections := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"startup", m.startup},
		{"single", m.single},
		{"history", m.history},
		{"fleet", m.fleet},
		{"kpanda", m.kpanda},
		{"requests", m.requests},
		{"images", m.images},
		{"baseline", m.baseline},
		{"verify", m.verify},
		{"waves", m.waves},
	}
	for _, s := range sections {
		if !o.want(s.name) {
			continue
		}
		t0 := time.Now()
		logf("section %s", s.name)
		if err := s.fn(ctx); err != nil {
			return nil, fmt.Errorf("section %s: %w", s.name, err)
		}
		res.Sections = append(res.Sections, Section{Name: s.name, Seconds: math.Round(time.Since(t0).Seconds()), LoadAfter: loadavg()})
		logf("section %s done in %.0fs (load %s)", s.name, time.Since(t0).Seconds(), loadavg())
	}
	res.Machine.LoadEnd = loadavg()
	res.Finished = time.Now().UTC()
	res.evaluate()

	table := res.Markdown()
	fmt.Print(table)
	for _, dst := range []string{abs(root, o.out), abs(root, o.record)} {
		if dst == "" || dst == root {
			continue
		}
		if err := writeResults(dst, res, table); err != nil {
			return nil, err
		}
		logf("wrote %s and %s", dst, mdPath(dst))
	}
	return res, nil
}

// cleanupOnly removes what a -keep run left behind.
func cleanupOnly(ctx context.Context) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	cache := os.Getenv("SKOALA_CACHE")
	if cache == "" {
		cache = filepath.Join(root, ".cache")
	}
	e := &Env{Root: root, Cache: cache, State: filepath.Join(cache, "cluster"), log: logf, startedLatency: true}
	if e.Kubectl, err = exec.LookPath("kubectl"); err != nil {
		return fmt.Errorf("kubectl is not on PATH")
	}
	e.Home = filepath.Join(cache, "bench", "home")
	if err := e.loadFleetEnv(); err != nil {
		return err
	}
	e.cleanup(ctx)
	return nil
}

func writeResults(path string, res *Results, table string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(mdPath(path), []byte(table), 0o644)
}

// rerender writes the .md table of a results JSON from the JSON.
func rerender(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var res Results
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(mdPath(path), []byte(res.Markdown()), 0o644)
}

func mdPath(p string) string { return strings.TrimSuffix(p, filepath.Ext(p)) + ".md" }

func abs(root, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(root, p)
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
	return "", fmt.Errorf("go.mod not found above %s", wd)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func machine(ctx context.Context, e *Env) Machine {
	m := Machine{Cores: runtime.NumCPU(), GoVersion: runtime.Version(), LoadStart: loadavg()}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "MemTotal:") {
				if f := strings.Fields(l); len(f) >= 2 {
					kb, _ := strconv.ParseInt(f[1], 10, 64)
					m.MemGiB = float64(kb) / (1 << 20)
				}
			}
		}
	}
	if out, err := exec.CommandContext(ctx, e.Kubectl, "version", "--client").Output(); err == nil {
		m.Kubectl = strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	}
	if out, err := exec.CommandContext(ctx, e.Helm, "version", "--short").Output(); err == nil {
		m.Helm = strings.TrimSpace(string(out))
	}
	m.Plugin = pluginVersion(ctx, e.Plugin)
	if e.Baseline != "" {
		m.Baseline = pluginVersion(ctx, e.Baseline)
	}
	return m
}

// pluginVersion is a kubectl-skoala binary's version and commit.
func pluginVersion(ctx context.Context, bin string) string {
	out, err := exec.CommandContext(ctx, bin, "version", "--client", "-o", "json").Output()
	if err != nil {
		return ""
	}
	var v struct {
		Client struct {
			Version   string `json:"version"`
			GitCommit string `json:"gitCommit"`
		} `json:"clientVersion"`
	}
	if json.Unmarshal(out, &v) != nil {
		return ""
	}
	return strings.TrimSpace(v.Client.Version + " " + v.Client.GitCommit)
}
