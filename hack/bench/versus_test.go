package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func testMeasurer(t *testing.T) *measurer {
	dir := t.TempDir()
	e := &Env{Plugin: "/bin/plugin-v4", Baseline: "/bin/plugin-v3", Kubectl: filepath.Join(dir, "kubectl"), Helm: filepath.Join(dir, "helm3"),
		Home: dir, FleetEnv: map[string]string{"KUBECONFIG": "/kc"}, LatencyKubeconfig: "/kc-lat"}
	return &measurer{e: e, o: options{rtt: 50, workspaces: []int{1, 20}, timeout: 10 * time.Second, baseline: e.Baseline}, res: &Results{}}
}

// TestManualDiffAcceptsADiff: the manual command is one shell pipeline whose exit code is kubectl diff's: 1
// (a difference) is a good run, 2 (an error) is not.
func TestManualDiffAcceptsADiff(t *testing.T) {
	m := testMeasurer(t)
	write := func(path, body string) {
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(m.e.Helm, `echo "kind: ConfigMap"`)
	c := m.manualDiff("/kc", "global")
	if c.Path != "/bin/sh" || len(c.Args) != 2 || !strings.Contains(c.Args[1], "get manifest skoala | ") || !strings.Contains(c.Args[1], "diff --server-side -f -") {
		t.Fatalf("manual diff: %s", c)
	}
	for code, good := range map[string]bool{"0": true, "1": true, "2": false} {
		// the fake kubectl reads the manifest from the pipe, as kubectl diff -f - does
		write(m.e.Kubectl, `grep -q ConfigMap || exit 9; exit `+code)
		s, _, err := run(context.Background(), c, 10*time.Second)
		if (err == nil) != good || s.Code != int(code[0]-'0') {
			t.Errorf("kubectl exits %s: code %d, err %v", code, s.Code, err)
		}
	}
}

func TestVerifyCmd(t *testing.T) {
	m := testMeasurer(t)
	one := m.verifyCmd("/kc", "global", 0)
	if slices.Contains(one.Args, "-w") || !slices.Contains(one.Args, "--no-images") || !slices.Equal(one.OK, []int{0, 3}) {
		t.Errorf("verify of one release: %s (ok %v)", one, one.OK)
	}
	if fleet := m.verifyCmd("/kc-lat", "global-lat", 20); !strings.Contains(fleet.String(), "-w ws-lat-1,ws-lat-2,") || !strings.HasSuffix(fleet.String(), "ws-lat-20") {
		t.Errorf("verify over 20: %s", fleet)
	}
}

// TestBaselineCases: the upgrade is a dry run to a version other than the fixture's; the section needs -baseline.
func TestBaselineCases(t *testing.T) {
	m := testMeasurer(t)
	var ids []string
	for _, c := range m.baselineCases() {
		ids = append(ids, c.id)
		if c.id == "upgrade-dry-run" && (!slices.Contains(c.args, "--dry-run") || !slices.Contains(c.args, upgradeV)) {
			t.Errorf("upgrade: %v", c.args)
		}
	}
	if strings.Join(ids, ",") != "status-rtt0,status-rtt50,doctor-ws1,upgrade-dry-run" || upgradeV == fixtureV {
		t.Errorf("cases %v", ids)
	}
	if (options{}).want("baseline") || !(options{baseline: "x"}).want("baseline") || (options{baseline: "x", only: map[string]bool{"verify": true}}).want("baseline") {
		t.Error("baseline runs when -baseline is given and -only does not leave it out")
	}
}
