package main

// Section waves (issue 22): `upgrade` of three workspaces with --max-parallel 3 against the same upgrade of one
// workspace, and with --max-parallel 1 beside it, through the latency proxies. Every measured run is a real
// upgrade: before each run (not measured) the workspaces it upgrades are put back at wavesFromV with the real
// helm CLI; the control plane stays at fixtureV, so the measured upgrade changes the workspaces only.

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

const (
	nsWaves    = "bench-waves" // skoala (global) at fixtureV, skoala-init (workspace-1..3) at wavesFromV before each run
	wavesFromV = "0.57.0"
	// issue 22: three workspaces with --max-parallel 3 vs one workspace
	targetWaves = 1.5
)

// wavesReset puts skoala-init of the real workspaces behind the given latency contexts back at wavesFromV.
func (m *measurer) wavesReset(real []string) func(context.Context) error {
	return func(ctx context.Context) error {
		var wg sync.WaitGroup
		errs := make([]error, len(real))
		for i, c := range real {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// The chart's admission Jobs have an immutable pod template: deleted first, as upgrade does.
				if _, errs[i] = m.e.kubectl(ctx, "--context", c, "-n", nsWaves, "delete", "job", "gateway-api-admission",
					"gateway-api-admission-patch", "--ignore-not-found", "--wait"); errs[i] != nil {
					return
				}
				_, errs[i] = m.e.helm(ctx, "upgrade", "--install", "skoala-init", repoName+"/skoala-init", "--version", wavesFromV, "--kube-context", c,
					"-n", nsWaves, "--create-namespace", "--reuse-values", "--history-max", "10", "--wait", "--timeout", "3m")
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		return nil
	}
}

// wavesFixtures installs the section's releases: skoala at fixtureV on global, skoala-init at wavesFromV on the
// first three workspaces.
func (m *measurer) wavesFixtures(ctx context.Context, real []string) error {
	if err := m.e.install(ctx, "global", nsWaves, "skoala", "skoala", fixtureV,
		"--set", "hive.configMap.database[0].driver=mysql",
		"--set-string", "hive.configMap.database[0].dsn="+strings.ReplaceAll(mysqlDSN(), ",", `\,`)); err != nil {
		return err
	}
	return m.wavesReset(real)(ctx)
}

func (m *measurer) waves(ctx context.Context) error {
	ws := m.e.workspaces()
	// hack/latency.sh puts ws-lat-I in front of workspace (I-1) mod N + 1: ws-lat-1..3 reach three different
	// clusters only when the fleet has exactly three workspaces.
	if len(ws) != 3 {
		why := fmt.Sprintf("the waves section needs ws-lat-1..3 in front of three different clusters: a fleet of exactly 3 workspaces (CLUSTERS=4), not %d", len(ws))
		if m.o.only["waves"] {
			return fmt.Errorf("%s", why)
		}
		// A whole run on another fleet keeps its other sections, and says in its table why this one is missing.
		m.res.Notes = append(m.res.Notes, "not measured: "+why)
		logf("%s: not measured", why)
		return nil
	}
	real := ws
	t0 := time.Now()
	if err := m.wavesFixtures(ctx, real); err != nil {
		return err
	}
	logf("waves fixtures ready in %.0fs", time.Since(t0).Seconds())
	backups := filepath.Join(m.e.Cache, "bench", "waves-backups")
	up := func(n int, extra ...string) Cmd {
		args := append([]string{"upgrade", "--context", "global-lat", "-n", nsWaves, "-w", wsList(n), "--version", fixtureV,
			"--backup-dir", backups, "--timeout", "2m", "--yes"}, extra...)
		return m.plugin(m.e.LatencyKubeconfig, args...)
	}
	one := item("upgrade-ws1", fmt.Sprintf("upgrade of 1 workspace, RTT %d ms", m.o.rtt), up(1))
	one.Before = m.wavesReset(real[:1])
	par := item("upgrade-ws3-mp3", fmt.Sprintf("upgrade of 3 workspaces, --max-parallel 3, RTT %d ms", m.o.rtt), up(3, "--max-parallel", "3"))
	par.Before = m.wavesReset(real)
	ser := item("upgrade-ws3-mp1", fmt.Sprintf("upgrade of 3 workspaces, --max-parallel 1, RTT %d ms", m.o.rtt), up(3, "--max-parallel", "1"))
	ser.Before = m.wavesReset(real)
	// Each run is a rollout of real Deployments (seconds): at most 5 runs.
	figs, err := m.roundsN(ctx, []Item{one, par, ser}, min(m.o.runs, 5))
	if err != nil {
		return err
	}
	m.compare("waves-mp3", fmt.Sprintf("`upgrade` of 3 workspaces, `--max-parallel 3`, vs 1 workspace, RTT %d ms", m.o.rtt),
		figs["upgrade-ws3-mp3"], figs["upgrade-ws1"], targetWaves)
	m.compare("waves-mp1", fmt.Sprintf("`upgrade` of 3 workspaces, `--max-parallel 1`, vs 1 workspace (reference), RTT %d ms", m.o.rtt),
		figs["upgrade-ws3-mp1"], figs["upgrade-ws1"], 0)
	return nil
}
