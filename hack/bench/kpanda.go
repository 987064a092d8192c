package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// targetKpandaVsContexts is issue 25's: finding the fleet in DCE's registry must not make status slower
// than naming the same contexts (at most 1.2x, same run); targetStatusFloor is the one-cluster status at
// the latency against the connection-plus-one-round floor.
const (
	targetKpandaVsContexts = 1.2
	targetStatusFloor      = 1.2
)

// kpanda (section "kpanda", issue 25): status --fleet kpanda over the latency kubeconfig's workspace
// contexts, registered as Cluster objects of the fixture CRD (test/kpanda) in the global cluster, against
// status -w of the same contexts; and status on one cluster at the latency against its floor.
func (m *measurer) kpanda(ctx context.Context) error {
	n := 0
	for _, w := range m.o.workspaces {
		n = max(n, w)
	}
	undo, err := m.registerClusters(ctx, n)
	defer undo()
	if err != nil {
		return err
	}
	kcL := m.e.LatencyKubeconfig
	figs, err := m.rounds(ctx, []Item{
		item(fmt.Sprintf("status-kpanda-ws%d", n), fmt.Sprintf("status --fleet kpanda, %d registered workspaces, RTT %d ms", n, m.o.rtt),
			m.plugin(kcL, "status", "--context", "global-lat", "-n", nsMain, "--fleet", "kpanda")),
		item(fmt.Sprintf("status-w-ws%d", n), fmt.Sprintf("status -w of the same %d contexts, RTT %d ms", n, m.o.rtt), m.statusN(n)),
		item("floor-status-rtt0", "status, one cluster, RTT 0 (for the floor)", m.plugin(m.fleetKC(), "status", "--context", "global", "-n", nsMain)),
		item("floor-status-rtt"+m.rttS(), "status, one cluster, RTT "+m.rttS()+" ms", m.plugin(kcL, "status", "--context", "global-lat", "-n", nsMain)),
	})
	if err != nil {
		return err
	}
	m.compare(fmt.Sprintf("kpanda-ws%d", n), fmt.Sprintf("`status --fleet kpanda` vs `status -w` of the same %d workspace contexts, RTT %d ms", n, m.o.rtt),
		figs[fmt.Sprintf("status-kpanda-ws%d", n)], figs[fmt.Sprintf("status-w-ws%d", n)], targetKpandaVsContexts)
	floor := statusFloor(figs["floor-status-rtt0"], m.o.rtt)
	m.res.Figures = append(m.res.Figures, floor)
	m.compare("status-floor-rtt"+m.rttS(), fmt.Sprintf("`status` (one cluster), RTT %d ms, vs its floor: the same at RTT 0 + a TCP connect, a TLS handshake and one round (3 RTT)", m.o.rtt),
		figs["floor-status-rtt"+m.rttS()], floor, targetStatusFloor)
	return nil
}

// statusFloor is what one-cluster status cannot beat at rtt ms: its own time at RTT 0 (process, CPU, the
// loopback requests) plus three round trips, the TCP handshake, the TLS 1.3 handshake and one round of its
// requests sent together. A computed figure: its CPU is the RTT 0 run's.
func statusFloor(rtt0 Figure, rtt int) Figure {
	add := float64(3 * rtt)
	f := Figure{ID: "floor-computed-rtt" + fmt.Sprint(rtt), Label: fmt.Sprintf("floor: status at RTT 0 + 3 x %d ms (computed)", rtt),
		Commands: []string{fmt.Sprintf("(computed: median of floor-status-rtt0 + %v ms)", add)}, Runs: rtt0.Runs,
		MedianMS: rtt0.MedianMS + add, MinMS: rtt0.MinMS + add, MaxMS: rtt0.MaxMS + add, CPUMS: rtt0.CPUMS, MaxRSSKiB: rtt0.MaxRSSKiB}
	for _, w := range rtt0.WallMS {
		f.WallMS = append(f.WallMS, w+add)
	}
	return f
}

// registerClusters installs the fixture Cluster CRD in the global cluster and registers the host (global)
// and ws-lat-1..n, each with the kube-system UID its latency context reaches; undo removes them.
func (m *measurer) registerClusters(ctx context.Context, n int) (func(), error) {
	crd := filepath.Join(m.e.Root, "test", "kpanda", "clusters.cluster.kpanda.io.yaml")
	undo := func() {
		if m.o.keep {
			return
		}
		if _, err := m.e.kubectl(context.Background(), "--context", "global", "delete", "-f", crd, "--ignore-not-found", "--wait=false"); err != nil {
			m.e.log("removing the Cluster CRD: %v", err)
		}
	}
	if _, err := m.e.kubectl(ctx, "--context", "global", "apply", "-f", crd); err != nil {
		return undo, err
	}
	if _, err := m.e.kubectl(ctx, "--context", "global", "wait", "--for", "condition=established", "--timeout", "60s", "crd/clusters.cluster.kpanda.io"); err != nil {
		return undo, err
	}
	// The registry holds exactly the section's clusters: any other (a run of the e2e tests) is removed.
	if _, err := m.e.kubectl(ctx, "--context", "global", "delete", "clusters.cluster.kpanda.io", "--all", "--wait=false"); err != nil {
		return undo, err
	}
	uids := map[string]string{}
	for _, c := range m.e.Clusters {
		out, err := m.e.kubectl(ctx, "--context", c, "get", "namespace", "kube-system", "-o", "jsonpath={.metadata.uid}")
		if err != nil {
			return undo, err
		}
		uids[c] = strings.TrimSpace(out)
	}
	ws := m.e.workspaces()
	if len(ws) == 0 {
		return undo, fmt.Errorf("the kpanda section needs a workspace cluster in the fleet")
	}
	var items []any
	items = append(items, clusterObject("bench-global", uids["global"], true))
	for i := 1; i <= n; i++ {
		// hack/latency.sh: ws-lat-I reaches the fleet's workspace clusters in turn.
		items = append(items, clusterObject(fmt.Sprintf("ws-lat-%d", i), uids[ws[(i-1)%len(ws)]], false))
	}
	b, err := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
	if err != nil {
		return undo, err
	}
	f := filepath.Join(m.e.Cache, "bench", "kpanda-clusters.json")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		return undo, err
	}
	_, err = m.e.kubectl(ctx, "--context", "global", "apply", "-f", f)
	return undo, err
}

// clusterObject is a Cluster of the fixture CRD with only its public fields (test/kpanda says where each
// comes from).
func clusterObject(name, uid string, host bool) map[string]any {
	labels := map[string]any{}
	if host {
		labels["cluster-role.kpanda.io/host"] = ""
	}
	return map[string]any{"apiVersion": "cluster.kpanda.io/v1alpha1", "kind": "Cluster",
		"metadata": map[string]any{"name": name, "labels": labels},
		"spec":     map[string]any{"provider": "GENERIC"},
		"status":   map[string]any{"phase": "Running", "kubeSystemID": uid}}
}
