package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Sections of issue 26 (baseline: the Helm 4 SDK build against the Helm 3 SDK build) and issue 23 (verify
// against the manual helm get manifest | kubectl diff, and over many workspaces against one).

// versionCase is one command line of the baseline section, run with both binaries.
type versionCase struct {
	id, label string
	kc        string
	args      []string
}

func (m *measurer) baselineCases() []versionCase {
	kc0, kcL, rtt := m.fleetKC(), m.e.LatencyKubeconfig, m.rttS()
	return []versionCase{
		{"status-rtt0", "`status` (one cluster), RTT 0", kc0, []string{"status", "--context", "global", "-n", nsMain}},
		{"status-rtt" + rtt, "`status` (one cluster), RTT " + rtt + " ms", kcL, []string{"status", "--context", "global-lat", "-n", nsMain}},
		{"doctor-ws1", "`doctor` (control plane + 1 workspace), RTT " + rtt + " ms", kcL, m.doctorN(1).Args},
		// The dry run: a real upgrade would change the fixture from one run to the next.
		{"upgrade-dry-run", "`upgrade --dry-run` of the control plane's release " + fixtureV + " -> " + upgradeV + ", RTT " + rtt + " ms", kcL,
			[]string{"upgrade", "--context", "global-lat", "-n", nsMain, "--version", upgradeV, "--dry-run"}},
	}
}

// baseline (issue 26): status, doctor and upgrade --dry-run with bin/kubectl-skoala (the Helm 4 SDK) and with
// -baseline (the Helm 3 SDK build of the parent commit), every command of both in one set of interleaved
// rounds.
func (m *measurer) baseline(ctx context.Context) error {
	cases := m.baselineCases()
	var items []Item
	for _, c := range cases {
		items = append(items,
			item("v4-"+c.id, c.label+", Helm 4 SDK build", Cmd{Path: m.e.Plugin, Args: c.args, Env: m.e.base(c.kc)}),
			item("v3-"+c.id, c.label+", Helm 3 SDK build (-baseline)", Cmd{Path: m.e.Baseline, Args: c.args, Env: m.e.base(c.kc)}))
	}
	// The requests each build makes (one run each, counted by the plugin): the baseline is the parent commit,
	// so a difference here is a change of the round other than the SDK (a new doctor check), not the SDK.
	dir := filepath.Join(m.e.Cache, "bench", "requests")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var counts []string
	for _, it := range items {
		c := it.Cmds[0]
		c.RequestLog = filepath.Join(dir, it.ID+".log")
		_ = os.Remove(c.RequestLog)
		if _, _, err := m.runRetry(ctx, c); err != nil {
			return err
		}
		_, _, total, _, err := readRequestLog(c.RequestLog)
		if err != nil {
			return fmt.Errorf("%s: %w", it.ID, err)
		}
		counts = append(counts, fmt.Sprintf("%s %d", it.ID, total))
	}
	m.res.Notes = append(m.res.Notes, "API requests of one run (baseline section): "+strings.Join(counts, ", "))
	figs, err := m.rounds(ctx, items)
	if err != nil {
		return err
	}
	for _, c := range cases {
		m.compare("baseline-"+c.id, c.label+": Helm 4 SDK build vs the Helm 3 SDK build (-baseline)", figs["v4-"+c.id], figs["v3-"+c.id], targetBaseline)
	}
	return nil
}

func (m *measurer) verifyCmd(kc, kctx string, workspaces int) Cmd {
	args := []string{"verify", "--context", kctx, "-n", nsMain, "--no-images"}
	if workspaces > 0 {
		args = append(args, "-w", wsList(workspaces))
	}
	c := m.plugin(kc, args...)
	c.OK = []int{0, 3} // 3: verify ran and found drift
	return c
}

// manualDiff is what verify of one release replaces: the release's manifest, compared server-side with what
// runs. One shell pipeline, as the manual commands are timed; kubectl diff exits 1 when there is a diff.
func (m *measurer) manualDiff(kc, kctx string) Cmd {
	script := fmt.Sprintf("%s --kube-context %s -n %s get manifest skoala | %s --context %s -n %s diff --server-side -f -",
		shQuote(m.e.Helm), kctx, nsMain, shQuote(m.e.Kubectl), kctx, nsMain)
	return Cmd{Path: "/bin/sh", Args: []string{"-c", script}, Env: m.e.base(kc), OK: []int{0, 1}}
}

func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// verify (issue 23): verify of the control plane's release against helm get manifest | kubectl diff
// --server-side, at RTT 0 and through the latency proxy; verify over the most workspaces against the fewest.
func (m *measurer) verify(ctx context.Context) error {
	kc0, kcL, rtt := m.fleetKC(), m.e.LatencyKubeconfig, m.rttS()
	lo, hi := m.o.workspaces[0], m.o.workspaces[len(m.o.workspaces)-1]
	items := []Item{
		item("verify-rtt0", "verify, control plane's release, RTT 0", m.verifyCmd(kc0, "global", 0)),
		item("manual-diff-rtt0", "helm get manifest | kubectl diff --server-side, RTT 0", m.manualDiff(kc0, "global")),
		item("verify-rtt"+rtt, "verify, control plane's release, RTT "+rtt+" ms", m.verifyCmd(kcL, "global-lat", 0)),
		item("manual-diff-rtt"+rtt, "helm get manifest | kubectl diff --server-side, RTT "+rtt+" ms", m.manualDiff(kcL, "global-lat")),
		item(fmt.Sprintf("verify-ws%d", lo), fmt.Sprintf("verify, control plane + %d workspaces, RTT %s ms", lo, rtt), m.verifyCmd(kcL, "global-lat", lo)),
		item(fmt.Sprintf("verify-ws%d", hi), fmt.Sprintf("verify, control plane + %d workspaces, RTT %s ms", hi, rtt), m.verifyCmd(kcL, "global-lat", hi)),
	}
	// What each command found on the fixtures (the exit codes of one run): a measured run that found drift
	// does more work (the diff), so the table says so.
	for _, it := range items {
		s, _, err := run(ctx, it.Cmds[0], m.o.timeout)
		if err != nil {
			return fmt.Errorf("%s: %w", it.ID, err)
		}
		m.res.Notes = append(m.res.Notes, fmt.Sprintf("`%s` exits %d on the fixtures (%s)", it.ID, s.Code, exitMeaning(it.Cmds[0], s.Code)))
	}
	figs, err := m.rounds(ctx, items)
	if err != nil {
		return err
	}
	m.compare("verify-rtt0", "`verify` of one release vs `helm get manifest | kubectl diff --server-side -f -`, RTT 0", figs["verify-rtt0"], figs["manual-diff-rtt0"], targetVerifyVsDiff)
	m.compare("verify-rtt"+rtt, "`verify` of one release vs `helm get manifest | kubectl diff --server-side -f -`, RTT "+rtt+" ms",
		figs["verify-rtt"+rtt], figs["manual-diff-rtt"+rtt], targetVerifyVsDiff)
	m.compare(fmt.Sprintf("verify-fleet-%d", hi), fmt.Sprintf("`verify` over %d vs %d workspace clusters, RTT %s ms", hi, lo, rtt),
		figs[fmt.Sprintf("verify-ws%d", hi)], figs[fmt.Sprintf("verify-ws%d", lo)], targetVerifyFleet)
	return nil
}

func exitMeaning(c Cmd, code int) string {
	switch {
	case code == 0:
		return "no difference"
	case code == 3 && c.Path != "/bin/sh":
		return "verify found drift"
	case code == 1 && c.Path == "/bin/sh":
		return "kubectl diff found a difference"
	default:
		return "?"
	}
}
