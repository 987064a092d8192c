package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary be the launcher, as the benchmark's binary is (run re-executes itself).
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == launcherArg {
		os.Exit(launch(os.Args[2:]))
	}
	os.Exit(m.Run())
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// TestRoundsInterleaves: every item runs once per round after a warm-up round, the order rotates, and the
// figures come back in the items' order.
func TestRoundsInterleaves(t *testing.T) {
	dir := t.TempDir()
	order := filepath.Join(dir, "order")
	item := func(id string) Item {
		return Item{ID: id, Cmds: []Cmd{{Path: "/bin/sh", Args: []string{"-c", "echo " + id + " >>" + order}}}}
	}
	figs, err := Rounds(context.Background(), []Item{item("a"), item("b"), item("c")}, 3, 10*time.Second, func(string) {}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(figs) != 3 || figs[0].ID != "a" || figs[2].ID != "c" || figs[1].Runs != 3 || figs[1].MaxRSSKiB <= 0 {
		t.Fatalf("figures: %+v", figs)
	}
	// The peak RSS is the command's own (a shell: a few MiB) over a floor: Linux gives the child the
	// launcher's high-water RSS (os/exec forks with CLONE_VM), and the launcher is this binary, whose start-up
	// is ~22 MiB since the images section links go-containerregistry. Not the test binary's working set.
	if figs[0].MaxRSSKiB > 32<<10 {
		t.Errorf("peak RSS of sh: %d KiB", figs[0].MaxRSSKiB)
	}
	b, _ := os.ReadFile(order)
	if got := strings.Join(strings.Fields(string(b)), ""); got != "abc"+"abc"+"bca"+"cab" {
		t.Errorf("run order %q (warm-up abc, then rotating)", got)
	}
}

func TestRunTimesOutAndKillsTheCommand(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "late")
	_, _, err := run(context.Background(), Cmd{Path: "/bin/sh", Args: []string{"-c", "sleep 2; touch " + marker}}, 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "did not finish") {
		t.Fatalf("err %v", err)
	}
	time.Sleep(2500 * time.Millisecond)
	if _, err := os.Stat(marker); err == nil {
		t.Error("the command outlived its timeout")
	}
}

func TestRoundsRetriesThenFails(t *testing.T) {
	healed := 0
	_, err := Rounds(context.Background(), []Item{{ID: "x", Cmds: []Cmd{{Path: "/bin/sh", Args: []string{"-c", "exit 3"}}}}},
		1, 10*time.Second, func(string) {}, func() error { healed++; return nil })
	if err == nil || !strings.Contains(err.Error(), "exit code 3") || healed != 2 {
		t.Errorf("err %v, healed %d times", err, healed)
	}
	// exit code 3 accepted: no error
	if _, err := Rounds(context.Background(), []Item{{ID: "x", Cmds: []Cmd{{Path: "/bin/sh", Args: []string{"-c", "exit 3"}, OK: []int{0, 3}}}}},
		1, 10*time.Second, func(string) {}, nil); err != nil {
		t.Error(err)
	}
}

func TestRequestLogChecks(t *testing.T) {
	log := filepath.Join(t.TempDir(), "req.log")
	lines := []string{
		"global\tGET\t/api/v1/namespaces/ns/secrets?labelSelector=owner%3Dhelm%2Cname%3Dskoala%2Cstatus%21%3Dsuperseded\t200\t1.0\t2.0",
		"global\tGET\t/apis/apps/v1/namespaces/ns/deployments\t200\t1.0\t2.0",
		"ws-1\tGET\t/api/v1/namespaces/ns/pods\t200\t1.0\t2.0",
		"ws-1\tGET\t/api/v1/namespaces/ns/secrets\t200\t1.0\t2.0",
		"ws-1\tGET\t/apis\t200\t1.0\t2.0",
		"ws-1\tPOST\t/apis/authorization.k8s.io/v1/selfsubjectaccessreviews\terror\t1.0\t2.0",
	}
	if err := os.WriteFile(log, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	per, byReq, total, errs, err := readRequestLog(log)
	if err != nil || total != 6 || errs != 1 || per["global"] != 2 || per["ws-1"] != 4 || byReq["GET /api/v1/namespaces/ns/secrets"] != 2 {
		t.Errorf("per %v byReq %v total %d errs %d err %v", per, byReq, total, errs, err)
	}
	if n := unselectedStorageReads(log); n != 1 {
		t.Errorf("unselected storage reads: %d, want 1", n)
	}
	for req, want := range map[string]bool{
		"GET /apis": true, "GET /api": true, "GET /api/v1": true, "GET /apis/apps/v1": true, "GET /openapi/v3": true,
		"GET /openapi/v3/apis/apps/v1": true, "GET /apis/apps/v1/namespaces/ns/deployments": false,
		"GET /api/v1/namespaces/ns/pods": false, "GET /version": false,
	} {
		if isDiscovery(req) != want {
			t.Errorf("isDiscovery(%q) = %v", req, !want)
		}
	}
}

func TestEvaluate(t *testing.T) {
	r := &Results{BudgetsOK: true, TargetsOK: true,
		Comparisons: []Comparison{{ID: "ok", Ratio: 0.2, Target: 0.3}, {ID: "miss", Ratio: 2.5, Target: 2}, {ID: "ref", Ratio: 9}},
		Requests:    []RequestCount{{ID: "s", Pass: true}},
		Binaries:    []Binary{{Name: "b", Bytes: 10, Target: 20}},
	}
	r.evaluate()
	if !*r.Comparisons[0].Pass || *r.Comparisons[1].Pass || r.Comparisons[2].Pass != nil || r.TargetsOK || !r.BudgetsOK {
		t.Errorf("%+v", r)
	}
	if !strings.Contains(r.Comparisons[1].Note, "missed by 0.50x (25.0% over the target)") {
		t.Errorf("note %q", r.Comparisons[1].Note)
	}
	r.Requests = append(r.Requests, RequestCount{ID: "d", Pass: false})
	r.evaluate()
	if r.BudgetsOK {
		t.Error("a request count over budget passed")
	}
	if md := r.Markdown(); !strings.Contains(md, "| comparison |") || !strings.Contains(md, "**missed**") {
		t.Errorf("markdown:\n%s", md)
	}
}
