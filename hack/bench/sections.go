package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

type measurer struct {
	e   *Env
	o   options
	res *Results
}

func (m *measurer) fleetKC() string { return m.e.FleetEnv["KUBECONFIG"] }

func (m *measurer) plugin(kc string, args ...string) Cmd {
	return Cmd{Path: m.e.Plugin, Args: args, Env: m.e.base(kc)}
}

func (m *measurer) kubectl(kc string, args ...string) Cmd {
	return Cmd{Path: m.e.Kubectl, Args: args, Env: m.e.base(kc)}
}

func (m *measurer) helm(kc string, args ...string) Cmd {
	return Cmd{Path: m.e.Helm, Args: args, Env: m.e.base(kc)}
}

func item(id, label string, cmds ...Cmd) Item { return Item{ID: id, Label: label, Cmds: cmds} }

func (m *measurer) rounds(ctx context.Context, items []Item) (map[string]Figure, error) {
	return m.roundsN(ctx, items, m.o.runs)
}

func (m *measurer) roundsN(ctx context.Context, items []Item, runs int) (map[string]Figure, error) {
	figs, err := Rounds(ctx, items, runs, m.o.timeout, func(s string) { logf("%s", s) },
		func() error { return m.e.waitHealthy(ctx, 3*time.Minute) })
	if err != nil {
		return nil, err
	}
	out := map[string]Figure{}
	for _, f := range figs {
		m.res.Figures = append(m.res.Figures, f)
		out[f.ID] = f
		logf("  %-22s median %8.1f ms  (min %.1f, max %.1f, cpu %.1f ms, rss %d KiB)", f.ID, f.MedianMS, f.MinMS, f.MaxMS, f.CPUMS, f.MaxRSSKiB)
	}
	return out, nil
}

func (m *measurer) compare(id, label string, a, b Figure, target float64) {
	c := Comparison{ID: id, Label: label, A: a.ID, B: b.ID, AMS: a.MedianMS, BMS: b.MedianMS, Target: target}
	if b.MedianMS > 0 {
		c.Ratio = round3(a.MedianMS / b.MedianMS)
	}
	if b.CPUMS > 0 {
		c.CPURatio = round3(a.CPUMS / b.CPUMS)
	}
	m.res.Comparisons = append(m.res.Comparisons, c)
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

// 5. start-up: no cluster is touched.
func (m *measurer) startup(ctx context.Context) error {
	kc := m.fleetKC()
	// Start-up runs are short and the most sensitive to the scheduler of a loaded machine: three times the runs.
	floor, err := m.e.buildFloor(ctx)
	if err != nil {
		return err
	}
	figs, err := m.roundsN(ctx, []Item{
		item("skoala-help", "kubectl skoala --help", m.plugin(kc, "--help")),
		item("helm-help", "helm --help", m.helm(kc, "--help")),
		item("floor-help", "floor --help", Cmd{Path: floor, Args: []string{"--help"}, Env: m.e.base(kc)}),
		item("skoala-version", "kubectl skoala version --client", m.plugin(kc, "version", "--client")),
		item("helm-version", "helm version", m.helm(kc, "version")),
	}, 3*m.o.runs)
	if err != nil {
		return err
	}
	m.compare("startup-help", "`kubectl skoala --help` vs `helm --help`", figs["skoala-help"], figs["helm-help"], targetHelp)
	m.compare("startup-floor", "floor `--help` vs `helm --help` (the libraries alone: what no plugin built on them can beat)", figs["floor-help"], figs["helm-help"], 0)
	m.compare("startup-version", "`kubectl skoala version --client` vs `helm version`", figs["skoala-version"], figs["helm-version"], 0)
	for _, b := range []struct{ name, path string }{{"kubectl-skoala", m.e.Plugin}, {"helm (v3, harness)", m.e.Helm}, {"floor (the libraries alone)", floor}} {
		st, err := os.Stat(b.path)
		if err != nil {
			return err
		}
		bin := Binary{Name: b.name, Path: b.path, Bytes: st.Size()}
		if b.name == "kubectl-skoala" {
			bin.Target = targetBinaryBytes
		}
		m.res.Binaries = append(m.res.Binaries, bin)
	}
	return nil
}

// manual are the three commands status replaces, run back to back.
func (m *measurer) manual(kc, kctx string) []Cmd {
	return []Cmd{
		m.kubectl(kc, "--context", kctx, "-n", nsMain, "get", "pods"),
		m.helm(kc, "--kube-context", kctx, "-n", nsMain, "list"),
		m.helm(kc, "search", "repo", repoName+"/skoala", "--versions"),
	}
}

// 1. status on one cluster vs the three manual commands, at RTT 0 (the fleet's kubeconfig) and through the
// latency proxy.
func (m *measurer) single(ctx context.Context) error {
	kc0, kcL := m.fleetKC(), m.e.LatencyKubeconfig
	figs, err := m.rounds(ctx, []Item{
		item("status-rtt0", "status, one cluster, RTT 0", m.plugin(kc0, "status", "--context", "global", "-n", nsMain)),
		item("manual-rtt0", "kubectl get pods + helm list + helm search repo, RTT 0", m.manual(kc0, "global")...),
		item("status-rtt"+m.rttS(), "status, one cluster, RTT "+m.rttS()+" ms", m.plugin(kcL, "status", "--context", "global-lat", "-n", nsMain)),
		item("manual-rtt"+m.rttS(), "kubectl get pods + helm list + helm search repo, RTT "+m.rttS()+" ms", m.manual(kcL, "global-lat")...),
	})
	if err != nil {
		return err
	}
	m.compare("single-rtt0", "`status` (one cluster) vs the 3 manual commands, RTT 0", figs["status-rtt0"], figs["manual-rtt0"], targetStatusVsManual0)
	m.compare("single-rtt"+m.rttS(), "`status` (one cluster) vs the 3 manual commands, RTT "+m.rttS()+" ms", figs["status-rtt"+m.rttS()], figs["manual-rtt"+m.rttS()], targetStatusVsManual50)

	// The fixture repository's index is small; a real site's is megabytes, and status and helm search both
	// read it on every call: the same comparison with an index of that size (reference).
	cache := filepath.Join(m.e.Cache, "bench", "big-index")
	size, err := bigIndex(filepath.Join(m.e.FleetEnv["HELM_REPOSITORY_CACHE"], repoName+"-index.yaml"), cache)
	if err != nil {
		return err
	}
	withIndex := func(cmds ...Cmd) []Cmd {
		for i := range cmds {
			cmds[i].Env = append(append([]string(nil), cmds[i].Env...), "HELM_REPOSITORY_CACHE="+cache)
		}
		return cmds
	}
	mb := fmt.Sprintf("%.1f MB", float64(size)/1e6)
	figs, err = m.rounds(ctx, []Item{
		item("status-rtt0-bigindex", "status, one cluster, RTT 0, index of "+mb, withIndex(m.plugin(kc0, "status", "--context", "global", "-n", nsMain))...),
		item("manual-rtt0-bigindex", "the 3 manual commands, RTT 0, index of "+mb, withIndex(m.manual(kc0, "global")...)...),
	})
	if err != nil {
		return err
	}
	m.compare("single-rtt0-bigindex", "`status` (one cluster) vs the 3 manual commands, RTT 0, a "+mb+" repository index (reference)",
		figs["status-rtt0-bigindex"], figs["manual-rtt0-bigindex"], 0)
	return nil
}

func (m *measurer) rttS() string { return strconv.Itoa(m.o.rtt) }

// 2. status on a release with many revisions vs one with 1; helm history and helm list for reference.
func (m *measurer) history(ctx context.Context) error {
	n := strconv.Itoa(m.o.revisions)
	for _, v := range []struct{ kc, kctx, rtt string }{{m.fleetKC(), "global", "0"}, {m.e.LatencyKubeconfig, "global-lat", m.rttS()}} {
		sfx := "-rtt" + v.rtt
		figs, err := m.rounds(ctx, []Item{
			item("status-rev1"+sfx, "status, 1 revision, RTT "+v.rtt, m.plugin(v.kc, "status", "--context", v.kctx, "-n", nsMain)),
			item("status-rev"+n+sfx, "status, "+n+" revisions, RTT "+v.rtt, m.plugin(v.kc, "status", "--context", v.kctx, "-n", nsHist)),
			item("helm-history-rev1"+sfx, "helm history, 1 revision, RTT "+v.rtt, m.helm(v.kc, "--kube-context", v.kctx, "-n", nsMain, "history", "skoala")),
			item("helm-history-rev"+n+sfx, "helm history, "+n+" revisions, RTT "+v.rtt, m.helm(v.kc, "--kube-context", v.kctx, "-n", nsHist, "history", "skoala")),
			item("helm-list-rev1"+sfx, "helm list, 1 revision, RTT "+v.rtt, m.helm(v.kc, "--kube-context", v.kctx, "-n", nsMain, "list")),
			item("helm-list-rev"+n+sfx, "helm list, "+n+" revisions, RTT "+v.rtt, m.helm(v.kc, "--kube-context", v.kctx, "-n", nsHist, "list")),
		})
		if err != nil {
			return err
		}
		rtt := "RTT " + v.rtt
		if v.rtt != "0" {
			rtt += " ms"
		}
		m.compare("history"+sfx, "`status` on "+n+" revisions vs 1 revision, "+rtt, figs["status-rev"+n+sfx], figs["status-rev1"+sfx], targetHistory)
		m.compare("helm-history"+sfx, "`helm history` on "+n+" revisions vs 1 (reference), "+rtt, figs["helm-history-rev"+n+sfx], figs["helm-history-rev1"+sfx], 0)
		m.compare("helm-list"+sfx, "`helm list` on "+n+" revisions vs 1 (reference), "+rtt, figs["helm-list-rev"+n+sfx], figs["helm-list-rev1"+sfx], 0)
	}
	return nil
}

func wsList(n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("ws-lat-%d", i+1)
	}
	return strings.Join(s, ",")
}

func (m *measurer) statusN(n int) Cmd {
	return m.plugin(m.e.LatencyKubeconfig, "status", "--context", "global-lat", "-n", nsMain, "-w", wsList(n))
}

func (m *measurer) doctorN(n int, extra ...string) Cmd {
	return m.plugin(m.e.LatencyKubeconfig, append([]string{"doctor", "--context", "global-lat", "-n", nsMain, "-w", wsList(n),
		"--insight-namespace", nsInsight}, extra...)...)
}

// 3. status and doctor over 1, 5, 10, 20 workspace clusters (plus the control plane), all through the
// latency proxies.
func (m *measurer) fleet(ctx context.Context) error {
	var items []Item
	for _, n := range m.o.workspaces {
		items = append(items,
			item(fmt.Sprintf("status-ws%d", n), fmt.Sprintf("status, control plane + %d workspaces, RTT %d ms", n, m.o.rtt), m.statusN(n)),
			item(fmt.Sprintf("doctor-ws%d", n), fmt.Sprintf("doctor, control plane + %d workspaces, RTT %d ms", n, m.o.rtt), m.doctorN(n)))
	}
	figs, err := m.rounds(ctx, items)
	if err != nil {
		return err
	}
	lo, hi := m.o.workspaces[0], m.o.workspaces[len(m.o.workspaces)-1]
	for _, verb := range []string{"status", "doctor"} {
		for _, n := range m.o.workspaces[1:] {
			target := 0.0
			if n == hi {
				target = targetFleet
			}
			m.compare(fmt.Sprintf("fleet-%s-%d", verb, n), fmt.Sprintf("`%s` over %d vs %d workspace clusters, RTT %d ms", verb, n, lo, m.o.rtt),
				figs[fmt.Sprintf("%s-ws%d", verb, n)], figs[fmt.Sprintf("%s-ws%d", verb, lo)], target)
		}
	}
	return nil
}

// 4. API requests per cluster, counted by the plugin itself (SKOALA_REQUEST_LOG, pkg/kube/metrics.go), and
// whether doctor found the fleet healthy.
func (m *measurer) requests(ctx context.Context) error {
	hi := m.o.workspaces[len(m.o.workspaces)-1]
	cases := []struct {
		id, label, verb string
		clusters        int
		cmd             Cmd
	}{
		{"status-1", "status, one cluster (global)", "status", 1, m.plugin(m.fleetKC(), "status", "--context", "global", "-n", nsMain)},
		{"status-ws1", "status, global + 1 workspace", "status", 2, m.statusN(1)},
		{fmt.Sprintf("status-ws%d", hi), fmt.Sprintf("status, global + %d workspaces", hi), "status", hi + 1, m.statusN(hi)},
		{"doctor-ws1", "doctor (healthy), global + 1 workspace", "doctor", 2, m.doctorN(1, "-o", "json")},
		{fmt.Sprintf("doctor-ws%d", hi), fmt.Sprintf("doctor (healthy), global + %d workspaces", hi), "doctor", hi + 1, m.doctorN(hi, "-o", "json")},
	}
	dir := filepath.Join(m.e.Cache, "bench", "requests")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	const runs = 3
	for _, c := range cases {
		rc := RequestCount{ID: c.id, Label: c.label, Verb: c.verb, Clusters: c.clusters, Runs: runs, Budget: budgets[c.verb], ByRequest: map[string]int{}}
		for r := 0; r < runs; r++ {
			log := filepath.Join(dir, fmt.Sprintf("%s-%d.log", c.id, r))
			_ = os.Remove(log)
			cmd := c.cmd
			cmd.RequestLog = log
			s, out, err := m.runRetry(ctx, cmd)
			if err != nil {
				return err
			}
			if c.verb == "doctor" {
				rc.Healthy = doctorVerdict(out)
			}
			per, byReq, total, errs, err := readRequestLog(log)
			if err != nil {
				return err
			}
			rc.Total = max(rc.Total, total)
			rc.Errors += errs
			for k, n := range byReq {
				if isDiscovery(k) {
					rc.Discovery += n
				}
			}
			rc.UnselectedStorage += unselectedStorageReads(log)
			for _, n := range per {
				rc.PerClusterMax = max(rc.PerClusterMax, n)
			}
			if len(per) != c.clusters {
				return fmt.Errorf("%s: requests seen on %d clusters, want %d", c.id, len(per), c.clusters)
			}
			if r == 0 {
				rc.ByRequest = byReq
			}
			rc.PeakRSSKiB = max(rc.PeakRSSKiB, s.MaxRSS)
		}
		rc.PerClusterAvg = round3(float64(rc.Total) / float64(c.clusters))
		rc.Pass = float64(rc.PerClusterMax) <= rc.Budget && rc.Discovery == 0 && rc.UnselectedStorage == 0
		m.res.Requests = append(m.res.Requests, rc)
		logf("  %-12s %3d requests on %2d clusters: %.1f per cluster, at most %d (budget %.0f) %s", c.id, rc.Total, c.clusters, rc.PerClusterAvg, rc.PerClusterMax, rc.Budget, rc.Healthy)
	}
	return nil
}

// runRetry runs c, and again (up to 2 more times) after the fleet is healthy when it fails.
func (m *measurer) runRetry(ctx context.Context, c Cmd) (Sample, string, error) {
	var err error
	for try := 0; try < 3; try++ {
		if try > 0 {
			logf("%s failed (retrying): %v", c, firstLines(err.Error(), 6))
			if herr := m.e.waitHealthy(ctx, 3*time.Minute); herr != nil {
				return Sample{}, "", herr
			}
			if c.RequestLog != "" {
				_ = os.Remove(c.RequestLog)
			}
		}
		var s Sample
		var out string
		if s, out, err = run(ctx, c, m.o.timeout); err == nil {
			return s, out, nil
		}
	}
	return Sample{}, "", err
}

// doctorVerdict summarises doctor -o json: "healthy (N ok, W warnings)" or what failed.
func doctorVerdict(out string) string {
	var d struct {
		Success bool `json:"success"`
		Summary struct {
			OK, Warn, Fail, Skip int
		} `json:"summary"`
		Checks []struct {
			ID, Cluster, Status, Message string
		} `json:"checks"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		return "unreadable doctor output: " + err.Error()
	}
	v := fmt.Sprintf("%d ok, %d warn, %d fail, %d skip", d.Summary.OK, d.Summary.Warn, d.Summary.Fail, d.Summary.Skip)
	if d.Summary.Fail > 0 || d.Summary.Warn > 0 {
		var bad []string
		seen := map[string]bool{}
		for _, c := range d.Checks {
			if (c.Status == "warn" || c.Status == "fail") && !seen[c.ID] {
				seen[c.ID] = true
				bad = append(bad, c.ID+" ("+c.Status+")")
			}
		}
		v += ": " + strings.Join(bad, ", ")
	}
	return v
}

var queryRE = regexp.MustCompile(`\?.*$`)

// discoveryRE matches the discovery and OpenAPI documents: the verbs read known resources and need none.
var discoveryRE = regexp.MustCompile(`^GET /(api|apis|apis/[^/]+|apis/[^/]+/[^/]+|api/v1|openapi/.*)$`)

func isDiscovery(req string) bool { return discoveryRE.MatchString(req) }

// unselectedStorageReads counts lists of Secrets or ConfigMaps (Helm's release storage) without a label
// selector naming the release: reading a release's storage must not download every release's history.
func unselectedStorageReads(log string) int {
	b, err := os.ReadFile(log)
	if err != nil {
		return 0
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		fs := strings.Split(line, "\t")
		if len(fs) < 3 || fs[1] != "GET" {
			continue
		}
		path, query, _ := strings.Cut(fs[2], "?")
		if (strings.HasSuffix(path, "/secrets") || strings.HasSuffix(path, "/configmaps")) && !strings.Contains(query, "labelSelector=owner%3Dhelm%2Cname%3D") {
			n++
		}
	}
	return n
}

// readRequestLog counts the lines of a SKOALA_REQUEST_LOG file: per context, per "METHOD path" (namespace
// and query kept apart), the total and the requests that got no response.
func readRequestLog(path string) (per map[string]int, byReq map[string]int, total, errs int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, 0, 0, fmt.Errorf("the request log was not written (is %s wired in this binary?): %w", "SKOALA_REQUEST_LOG", err)
	}
	defer f.Close()
	per, byReq = map[string]int{}, map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Split(sc.Text(), "\t")
		if len(fs) < 4 {
			continue
		}
		total++
		per[fs[0]]++
		byReq[fs[1]+" "+queryRE.ReplaceAllString(fs[2], "")]++
		if fs[3] == "error" {
			errs++
		}
	}
	return per, byReq, total, errs, sc.Err()
}

// sortedKeys returns the keys of m, most frequent first.
func sortedKeys(m map[string]int) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	sort.Slice(k, func(i, j int) bool {
		if m[k[i]] != m[k[j]] {
			return m[k[i]] > m[k[j]]
		}
		return k[i] < k[j]
	})
	return k
}
