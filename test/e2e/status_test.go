package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// statusJSON is the part of the status schema the tests read.
type statusJSON struct {
	Schema    string `json:"schema"`
	Namespace string `json:"namespace"`
	Problems  int    `json:"problems"`
	Clusters  []struct {
		Context    string `json:"context"`
		Role       string `json:"role"`
		Registered string `json:"registered"` // --fleet kpanda
		Reachable  bool   `json:"reachable"`
		Error      string `json:"error"`
		Hint       string `json:"hint"`
		Releases   []struct {
			Name             string `json:"name"`
			Namespace        string `json:"namespace"`
			Installed        bool   `json:"installed"`
			Version          string `json:"version"`
			AppVersion       string `json:"appVersion"`
			Revision         int    `json:"revision"`
			Status           string `json:"status"`
			Latest           string `json:"latest"`
			LatestPatch      string `json:"latestPatch"`
			UpgradeAvailable bool   `json:"upgradeAvailable"`
			Skew             string `json:"skew"`
			Hint             string `json:"hint"`
			Components       []struct {
				Name            string `json:"name"`
				Kind            string `json:"kind"`
				Ready           int    `json:"ready"`
				Desired         int    `json:"desired"`
				ContainersReady int    `json:"containersReady"`
				Containers      int    `json:"containers"`
				Tag             string `json:"tag"`
				TagMatch        string `json:"tagMatch"`
				State           string `json:"state"`
				Images          []struct {
					Image string `json:"image"`
				} `json:"images"`
			} `json:"components"`
		} `json:"releases"`
	} `json:"clusters"`
	Journal *struct {
		LastRun *journalRunJSON `json:"lastRun"`
		Runs    []struct {
			ID       string `json:"id"`
			Kind     string `json:"kind"`
			Outcome  string `json:"outcome"`
			UndoneBy string `json:"undoneBy"`
		} `json:"runs"`
		Error string `json:"error"`
	} `json:"journal"`
}

func parseStatus(t *testing.T, r Result) statusJSON {
	t.Helper()
	var s statusJSON
	if err := json.Unmarshal([]byte(r.Stdout), &s); err != nil {
		t.Fatalf("status -o json is not JSON: %v\n%s", err, r)
	}
	return s
}

const skoalaDSN = `skoala:Pa$$w0rd:@/?&=x@tcp(mcamel-common-mysql-cluster-mysql-master.mcamel-system.svc.cluster.local:3306)/skoala?charset=utf8&parseTime=true&loc=Local&timeout=10s`

// installFleet installs skoala on global and skoala-init on the workspaces at the given versions, in ns.
func installFleet(t *testing.T, ns, cp string, ws map[string]string) {
	t.Helper()
	fns := []func(){func() {
		InstallChart(t, "global", ns, "skoala", "skoala", cp,
			"--set", "hive.configMap.database[0].driver=mysql", "--set-string", "hive.configMap.database[0].dsn="+strings.ReplaceAll(skoalaDSN, ",", `\,`))
	}}
	for ctx, v := range ws {
		fns = append(fns, func() { InstallChart(t, ctx, ns, "skoala-init", "skoala-init", v) })
	}
	inParallel(t, 6*time.Minute, fns...)
}

func TestStatusFleet(t *testing.T) {
	ns := Namespace(t, "st")
	installFleet(t, ns, "0.28.1", map[string]string{"workspace-1": "0.28.0", "workspace-2": "0.33.3"})

	r := Skoala(t, "status", "-n", ns, "-w", "workspace-1,workspace-2", "-o", "json")
	if r.Code != 0 {
		t.Fatalf("status exit %d, want 0\n%s", r.Code, r)
	}
	s := parseStatus(t, r)
	if s.Namespace != ns || len(s.Clusters) != 3 {
		t.Fatalf("namespace %q, %d clusters\n%s", s.Namespace, len(s.Clusters), r.Stdout)
	}
	g := s.Clusters[0]
	if g.Context != "global" || g.Role != "control-plane" || !g.Reachable || len(g.Releases) != 1 {
		t.Fatalf("control plane: %+v", g)
	}
	rel := g.Releases[0]
	if rel.Name != "skoala" || rel.Version != "0.28.1" || rel.AppVersion != "0.28.1" || rel.Status != "deployed" || rel.Revision != 1 {
		t.Errorf("skoala release: %+v", rel)
	}
	if rel.Latest != "0.57.2" || rel.LatestPatch != "0.28.1" || !rel.UpgradeAvailable {
		t.Errorf("skoala versions: latest %q patch %q upgrade %v", rel.Latest, rel.LatestPatch, rel.UpgradeAvailable)
	}
	names := map[string]bool{}
	for _, c := range rel.Components {
		names[c.Name] = true
		if c.Kind != "Deployment" || c.Ready != 1 || c.Desired != 1 || c.ContainersReady != 2 || c.Containers != 2 {
			t.Errorf("component %s is not 1/1 with 2/2 containers: %+v", c.Name, c)
		}
		if c.Tag != "v0.28.1" || c.TagMatch != "match" {
			t.Errorf("component %s tag %q match %q", c.Name, c.Tag, c.TagMatch)
		}
	}
	for _, want := range []string{"hive", "sesame", "skoala-ui"} {
		if !names[want] {
			t.Errorf("component %s not reported (got %v)", want, names)
		}
	}
	w1, w2 := s.Clusters[1].Releases[0], s.Clusters[2].Releases[0]
	if w1.Version != "0.28.0" || w1.Skew != "warning" || w1.LatestPatch != "0.28.1" {
		t.Errorf("workspace-1: %+v", w1)
	}
	if w2.Version != "0.33.3" || w2.Skew != "error" || w2.LatestPatch != "0.33.3" {
		t.Errorf("workspace-2 (0.33.3 was published after 0.34.0; semver order): %+v", w2)
	}
	wsComps := map[string]string{}
	for _, c := range w1.Components {
		wsComps[c.Name] = c.State
	}
	for _, want := range []string{"skoala-agent", "nacos-operator", "sentinel-operator", "seata-operator", "contour-provisioner", "gateway-api-admission-server"} {
		if wsComps[want] != "ready" {
			t.Errorf("workspace-1 component %s state %q (components %v)", want, wsComps[want], wsComps)
		}
	}

	tbl := Skoala(t, "status", "-n", ns, "-w", "workspace-1,workspace-2")
	for _, want := range []string{"global (control plane)", "skoala 0.28.1", "2/2", "upgrade available", "warning: patch differs", "error: minor differs", "3 clusters, no problems"} {
		if !strings.Contains(tbl.Stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, tbl.Stdout)
		}
	}
	if strings.Contains(tbl.Stdout, "\x1b[") {
		t.Errorf("colour escapes when stdout is not a terminal")
	}
	for i, line := range strings.Split(tbl.Stdout, "\n") {
		if len([]rune(line)) > 100 {
			t.Errorf("table line %d is wider than 100 columns: %q", i+1, line)
		}
	}
	if strings.Contains(tbl.Stdout+r.Stdout, "Pa$$w0rd") {
		t.Error("the DSN password appears in status output")
	}
	if c := Skoala(t, "status", "-n", ns, "-w", "workspace-1", "--exit-code").Code; c != 3 {
		t.Errorf("--exit-code with an upgrade available exited %d, want 3", c)
	}
	if col := Skoala(t, "status", "-n", ns, "--color", "always"); !strings.Contains(col.Stdout, "\x1b[") {
		t.Errorf("--color always printed no colour:\n%s", col)
	}

	t.Run("an unreachable workspace is one row and the rest still report", func(t *testing.T) {
		stopCluster(t, "workspace-2")
		start := time.Now()
		r := Skoala(t, "status", "-n", ns, "-w", "workspace-1,workspace-2", "-o", "json", "--timeout", "10s")
		took := time.Since(start)
		if r.Code != 3 {
			t.Errorf("exit %d, want 3\n%s", r.Code, r)
		}
		s := parseStatus(t, r)
		if len(s.Clusters) != 3 || !s.Clusters[0].Reachable || !s.Clusters[1].Reachable || s.Clusters[2].Reachable {
			t.Fatalf("reachability wrong: %s", r.Stdout)
		}
		if !strings.Contains(s.Clusters[2].Error, "connection refused") {
			t.Errorf("workspace-2 error %q", s.Clusters[2].Error)
		}
		if s.Clusters[1].Releases[0].Version != "0.28.0" {
			t.Errorf("workspace-1 did not report")
		}
		if took > 15*time.Second {
			t.Errorf("status took %s with a cluster down", took)
		}
		tbl := Skoala(t, "status", "-n", ns, "-w", "workspace-1,workspace-2", "--timeout", "10s")
		if !strings.Contains(tbl.Stdout, "unreachable: connection refused") || !strings.Contains(tbl.Stdout, "1 unreachable") {
			t.Errorf("table does not show the unreachable cluster:\n%s", tbl.Stdout)
		}
	})
}

// stopCluster stops a cluster's kube-apiserver and restarts it when the test ends.
func stopCluster(t *testing.T, name string) {
	t.Helper()
	fleetScript := filepath.Join(fleet.Root, "hack", "fleet.sh")
	if out, err := exec.Command(fleetScript, "stop-cluster", name).CombinedOutput(); err != nil {
		t.Fatalf("stop-cluster %s: %v\n%s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(fleetScript, "start-cluster", name).CombinedOutput(); err != nil {
			t.Errorf("start-cluster %s: %v\n%s", name, err, out)
		}
	})
}

func TestStatusLongHistoryReportsTheDeployedRevision(t *testing.T) {
	ns := Namespace(t, "hist")
	const revisions = 200
	MakeHistory(t, "global", ns, "skoala", "skoala", "0.28.1", revisions)
	secrets := MustKubectl(t, "--context", "global", "-n", ns, "get", "secrets", "-l", "owner=helm,name=skoala", "-o", "name")
	if n := len(strings.Fields(secrets.Stdout)); n != revisions {
		t.Fatalf("%d release secrets, want %d", n, revisions)
	}
	hist := MustHelm(t, "history", "skoala", "--kube-context", "global", "-n", ns, "--max", "2")
	if !strings.Contains(hist.Stdout, fmt.Sprintf("%d ", revisions)) || !strings.Contains(hist.Stdout, "deployed") {
		t.Fatalf("helm history does not show revision %d deployed:\n%s", revisions, hist.Stdout)
	}
	r := Skoala(t, "status", "-n", ns, "-o", "json")
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s", r.Code, r)
	}
	s := parseStatus(t, r)
	if rel := s.Clusters[0].Releases[0]; rel.Revision != revisions || rel.Status != "deployed" {
		t.Fatalf("got revision %d %s, want %d deployed", rel.Revision, rel.Status, revisions)
	}
}

func TestStatusBadInput(t *testing.T) {
	ns := Namespace(t, "sbad")
	InstallChart(t, "global", ns, "skoala", "skoala", "0.28.1")
	oneLine := func(t *testing.T, r Result, code int, pattern string) {
		t.Helper()
		if r.Code != code {
			t.Errorf("exit %d, want %d\n%s", r.Code, code, r)
		}
		if !regexp.MustCompile(pattern).MatchString(r.Stderr + r.Stdout) {
			t.Errorf("output does not match %q\n%s", pattern, r)
		}
		if strings.Contains(r.Stderr, "goroutine ") || strings.Contains(r.Stderr, "panic:") {
			t.Errorf("stack trace:\n%s", r.Stderr)
		}
	}
	t.Run("unknown context", func(t *testing.T) {
		oneLine(t, Skoala(t, "status", "--context", "nope"), 1, `error: context "nope" not found in the kubeconfig\nhint: .*get-contexts`)
	})
	t.Run("kubeconfig missing", func(t *testing.T) {
		oneLine(t, Skoala(t, "status", "--kubeconfig", "/nonexistent/kubeconfig"), 1, `error: kubeconfig: .*no such file`)
	})
	t.Run("kubeconfig malformed", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "bad")
		if err := os.WriteFile(p, []byte("apiVersion: v1\nclusters: [ {{{\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		oneLine(t, Skoala(t, "status", "--kubeconfig", p), 1, `error: kubeconfig: `)
	})
	t.Run("release absent says how to install", func(t *testing.T) {
		oneLine(t, Skoala(t, "status", "-n", ns+"-none"), 3, `not-installed[\s\S]*hint: install it with 'helm upgrade --install skoala skoala-release/skoala`)
	})
	t.Run("repositories.yaml missing is a warning, not a failure", func(t *testing.T) {
		r := SkoalaEnv(t, []string{"HELM_REPOSITORY_CONFIG=/nonexistent/repositories.yaml"}, "status", "-n", ns)
		oneLine(t, r, 0, `repository: reading helm repositories file /nonexistent/repositories.yaml: file does not exist`)
		if !strings.Contains(r.Stdout, "unknown (no repository index)") {
			t.Errorf("versions not marked unknown:\n%s", r.Stdout)
		}
	})
	t.Run("repository not added prints the exact helm repo add", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "repositories.yaml")
		if err := os.WriteFile(p, []byte("apiVersion: \"\"\nrepositories:\n- name: other\n  url: http://127.0.0.1:1/other\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		oneLine(t, SkoalaEnv(t, []string{"HELM_REPOSITORY_CONFIG=" + p}, "versions"), 1,
			`error: no skoala chart repository configured in .*\nhint: add it: helm repo add skoala-release https://release.daocloud.io/chartrepo/skoala`)
	})
	t.Run("index cache corrupt", func(t *testing.T) {
		cache := t.TempDir()
		if err := os.WriteFile(filepath.Join(cache, "skoala-release-index.yaml"), []byte("apiVersion: v1\nentries: {skoala: [ {{\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		oneLine(t, SkoalaEnv(t, []string{"HELM_REPOSITORY_CACHE=" + cache}, "versions"), 1, `error: repository index .* is corrupt: .*\nhint: download it with 'helm repo update skoala-release'`)
	})
	t.Run("unreachable single cluster", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "kubeconfig")
		kc := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {token: x}\ncurrent-context: c\n"
		if err := os.WriteFile(p, []byte(kc), 0o600); err != nil {
			t.Fatal(err)
		}
		oneLine(t, Skoala(t, "status", "--kubeconfig", p), 1, `error: cluster c: connection refused: 127.0.0.1:1\nhint: is the API server up`)
	})
	t.Run("bad output format is a usage error", func(t *testing.T) {
		oneLine(t, Skoala(t, "status", "-o", "xml"), 2, `error: unknown output format "xml"`)
	})
}

func TestVersionsListsSemverOrderAndMarksInstalled(t *testing.T) {
	ns := Namespace(t, "ver")
	installFleet(t, ns, "0.33.3", map[string]string{"workspace-1": "0.33.3"})
	r := Skoala(t, "versions", "skoala", "-n", ns, "-o", "json")
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s", r.Code, r)
	}
	var v struct {
		Charts []struct {
			Chart    string `json:"chart"`
			Versions []struct {
				Version     string   `json:"version"`
				InstalledOn []string `json:"installedOn"`
				Latest      bool     `json:"latest"`
			} `json:"versions"`
		} `json:"charts"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range v.Charts[0].Versions {
		got = append(got, e.Version)
		if e.Version == "0.33.3" && (len(e.InstalledOn) != 1 || e.InstalledOn[0] != "global") {
			t.Errorf("0.33.3 not marked installed on global: %+v", e)
		}
	}
	want := "0.57.2 0.57.0 0.52.1 0.52.0 0.37.1 0.35.0 0.34.0 0.33.3 0.33.2 0.28.1 0.28.0"
	if strings.Join(got, " ") != want {
		t.Errorf("versions\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	all := Skoala(t, "versions", "skoala-init", "--all", "-n", ns, "-w", "workspace-1")
	if !strings.Contains(all.Stdout, "0.58.0-rc.1") || !strings.Contains(all.Stdout, "installed: workspace-1") {
		t.Errorf("versions --all:\n%s", all)
	}
	if strings.Index(all.Stdout, "0.58.0-rc.1") > strings.Index(all.Stdout, "0.57.2") {
		t.Errorf("pre-release not first:\n%s", all.Stdout)
	}
}
