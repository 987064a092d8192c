package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// doctorJSON is doctor's -o json schema.
type doctorJSON struct {
	Schema  string `json:"schema"`
	Mode    string `json:"mode"`
	Success bool   `json:"success"`
	Summary struct {
		OK, Warn, Fail, Skip int
	} `json:"summary"`
	Checks []doctorCheck `json:"checks"`
}

type doctorCheck struct {
	ID       string `json:"id"`
	Category string `json:"category"`
	Cluster  string `json:"cluster"`
	Status   string `json:"status"`
	Message  string `json:"message"`
	Hint     string `json:"hint"`
}

func parseDoctor(t *testing.T, r Result) doctorJSON {
	t.Helper()
	var d doctorJSON
	if err := json.Unmarshal([]byte(r.Stdout), &d); err != nil {
		t.Fatalf("doctor -o json is not JSON: %v\n%s", err, r)
	}
	return d
}

// check returns the result of check id on cluster, failing the test when it is not in the report.
func (d doctorJSON) check(t *testing.T, id, cluster string) doctorCheck {
	t.Helper()
	for _, c := range d.Checks {
		if c.ID == id && c.Cluster == cluster {
			return c
		}
	}
	t.Fatalf("check %s on %q not in the report", id, cluster)
	return doctorCheck{}
}

func (d doctorJSON) bad() []doctorCheck {
	var out []doctorCheck
	for _, c := range d.Checks {
		if c.Status == "warn" || c.Status == "fail" {
			out = append(out, c)
		}
	}
	return out
}

func wantStatus(t *testing.T, c doctorCheck, status string, contains ...string) {
	t.Helper()
	if c.Status != status {
		t.Errorf("%s on %q: %s (%s), want %s", c.ID, c.Cluster, c.Status, c.Message, status)
	}
	for _, s := range contains {
		if !strings.Contains(c.Message+" hint: "+c.Hint, s) {
			t.Errorf("%s on %q does not say %q: %s / hint: %s", c.ID, c.Cluster, s, c.Message, c.Hint)
		}
	}
}

// dsnFor is the DSN of a database in namespace mysqlNS's common-mysql.
func commonMySQLDSN(mysqlNS string) string {
	return "skoala:e2e-not-a-real-password@tcp(mcamel-common-mysql-cluster-mysql-master." + mysqlNS + ".svc.cluster.local:3306)/skoala?charset=utf8&parseTime=true&loc=Local&timeout=10s"
}

func dsnArgs(dsn string) []string {
	return []string{"--set", "hive.configMap.database[0].driver=mysql", "--set-string", "hive.configMap.database[0].dsn=" + strings.ReplaceAll(dsn, ",", `\,`)}
}

// dsnValuesFile writes the DSN into a values file (0600) and returns helm's -f for it: a real password never
// appears on a command line (nor in the captured ones).
func dsnValuesFile(t *testing.T, dsn string) []string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"hive": map[string]any{"configMap": map[string]any{"database": []any{map[string]any{"driver": "mysql", "dsn": dsn}}}}})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "dsn-values.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"-f", p}
}

// parallel runs the functions concurrently and waits for them.
func parallel(fns ...func()) {
	var wg sync.WaitGroup
	for _, f := range fns {
		wg.Add(1)
		go func(f func()) {
			defer wg.Done()
			f()
		}(f)
	}
	wg.Wait()
}

// TestDoctorHealthyFleet: a fleet installed as the product guide says passes with exit code 0 and no warning;
// the same fleet read with a view-only user skips what it may not read and crashes nowhere; --to and
// --manifest add their checks.
func TestDoctorHealthyFleet(t *testing.T) {
	ns := Namespace(t, "drh")
	mysqlNS := Namespace(t, "drhm")
	insightNS := Namespace(t, "drhi")
	// As the guide: common-mysql first, insight-agent before skoala-init.
	parallel(
		func() {
			InstallChart(t, "global", mysqlNS, "common-mysql", "common-mysql", "1.0.0")
			InstallChart(t, "global", ns, "skoala", "skoala", "0.28.1", dsnArgs(commonMySQLDSN(mysqlNS))...)
		},
		func() {
			InstallChart(t, "workspace-1", insightNS, "insight-agent", "insight-agent", "1.0.0")
			InstallChart(t, "workspace-1", ns, "skoala-init", "skoala-init", "0.28.1")
		},
	)
	args := []string{"doctor", "-n", ns, "-w", "workspace-1", "--insight-namespace", insightNS}

	t0 := time.Now()
	r := Skoala(t, args...)
	t.Logf("doctor on a healthy fleet took %s", time.Since(t0))
	if r.Code != 0 {
		t.Fatalf("exit %d, want 0\n%s", r.Code, r)
	}
	for _, want := range []string{"Kubernetes\n", "Control plane\n", "Database\n", "Workspaces\n", "Repository\n", "✓ doctor: all checks passed", "0 warnings, 0 failed"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.Stdout)
		}
	}
	// The categories come in their fixed order.
	if a, b := strings.Index(r.Stdout, "Kubernetes\n"), strings.Index(r.Stdout, "Repository\n"); a < 0 || b < a {
		t.Errorf("categories out of order:\n%s", r.Stdout)
	}

	j := Skoala(t, append(args, "-o", "json", "--strict")...)
	if j.Code != 0 {
		t.Fatalf("-o json --strict: exit %d, want 0 (no warnings)\n%s", j.Code, j)
	}
	d := parseDoctor(t, j)
	if bad := d.bad(); len(bad) > 0 || !d.Success || d.Schema != "skoala.doctor/v1" {
		t.Fatalf("a healthy fleet has warnings or failures: %+v\n%s", bad, j.Stdout)
	}
	wantStatus(t, d.check(t, "control-plane.hive", "global"), "ok", "2/2 containers ready")
	wantStatus(t, d.check(t, "database.common-mysql", "global"), "ok", "2/2 ready", mysqlNS)
	wantStatus(t, d.check(t, "workspaces.version-skew", "workspace-1"), "ok")
	wantStatus(t, d.check(t, "workspaces.servicemonitors", "workspace-1"), "ok")
	wantStatus(t, d.check(t, "repository.upgrade-path", ""), "ok", "0.28.1 -> 0.57.2")
	wantStatus(t, d.check(t, "database.connect", ""+"global"), "skip", "--db")

	y := Skoala(t, append(args, "-o", "yaml")...)
	if y.Code != 0 || !strings.Contains(y.Stdout, "checks:") || !strings.Contains(y.Stdout, "id: kubernetes.reachable") {
		t.Errorf("-o yaml:\n%s", y)
	}

	t.Run("a view-only user gets skips, not failures or crashes", func(t *testing.T) {
		ro := SkoalaEnv(t, []string{"KUBECONFIG=" + fleet.ReadOnlyKubeconfig}, append(args, "-o", "json")...)
		if ro.Code != 0 {
			t.Fatalf("exit %d, want 0 (skips and warnings only)\n%s", ro.Code, ro)
		}
		d := parseDoctor(t, ro)
		wantStatus(t, d.check(t, "kubernetes.permissions", "global"), "warn", "doctor cannot list secrets in "+ns, "upgrade would fail")
		wantStatus(t, d.check(t, "control-plane.release", "global"), "skip", "forbidden")
		wantStatus(t, d.check(t, "workspaces.release", "workspace-1"), "skip", "forbidden")
		wantStatus(t, d.check(t, "control-plane.hive", "global"), "skip")
		if d.Summary.Fail != 0 {
			t.Errorf("failures with a view-only user: %+v", d.bad())
		}
		for _, c := range d.Checks {
			if strings.Contains(c.Message, "internal error") {
				t.Errorf("crash in %s: %s", c.ID, c.Message)
			}
		}
		if s := SkoalaEnv(t, []string{"KUBECONFIG=" + fleet.ReadOnlyKubeconfig}, append(args, "--strict")...); s.Code != 3 {
			t.Errorf("--strict with warnings: exit %d, want 3\n%s", s.Code, s)
		}
	})

	t.Run("before an upgrade it names the target's path and what blocks helm", func(t *testing.T) {
		r := Skoala(t, append(args, "--to", "0.57.2", "-o", "json")...)
		if r.Code != 0 {
			t.Fatalf("exit %d, want 0 (warnings only)\n%s", r.Code, r)
		}
		d := parseDoctor(t, r)
		if d.Mode != "pre-upgrade" {
			t.Errorf("mode %q", d.Mode)
		}
		wantStatus(t, d.check(t, "repository.target-version", ""), "ok")
		wantStatus(t, d.check(t, "repository.upgrade-path", ""), "ok", "0.35.0", "0.37.0", "0.52.1")
		wantStatus(t, d.check(t, "workspaces.admission-jobs", "workspace-1"), "warn", "gateway-api-admission", "delete jobs")
		// The fleet runs a Kubernetes newer than DCE tested 0.57 with (1.23-1.35).
		kv := d.check(t, "kubernetes.version", "global")
		if !strings.Contains(kv.Message, "0.57.2") {
			t.Errorf("kubernetes.version does not judge the target: %s", kv.Message)
		}
		bad := Skoala(t, append(args, "--to", "0.99.0")...)
		if bad.Code != 3 || !strings.Contains(bad.Stdout, "target 0.99.0 is not in repository") {
			t.Errorf("--to a version the repository lacks: exit %d\n%s", bad.Code, bad)
		}
	})

	t.Run("the enterprise manifest must enable skoala at a version of the repository", func(t *testing.T) {
		dir := t.TempDir()
		good := filepath.Join(dir, "manifest.yaml")
		off := filepath.Join(dir, "off.yaml")
		_ = os.WriteFile(good, []byte("apiVersion: manifest.daocloud.io/v1alpha1\nkind: DCEManifest\ncomponents:\n  skoala:\n    enable: true\n    helmVersion: v0.28.1\n"), 0o644)
		_ = os.WriteFile(off, []byte("apiVersion: manifest.daocloud.io/v1alpha1\nkind: DCEManifest\ncomponents:\n  skoala:\n    enable: false\n    helmVersion: 0.11.0\n"), 0o644)
		r := Skoala(t, append(args, "--manifest", good, "-o", "json", "--category", "enterprise-package,repository")...)
		d := parseDoctor(t, r)
		if r.Code != 0 {
			t.Fatalf("exit %d\n%s", r.Code, r)
		}
		wantStatus(t, d.check(t, "enterprise-package.manifest", ""), "ok")
		wantStatus(t, d.check(t, "enterprise-package.helm-version", ""), "ok", "0.28.1")
		r = Skoala(t, append(args, "--manifest", off, "--category", "enterprise-package")...)
		if r.Code != 3 || !strings.Contains(r.Stdout, "components.skoala.enable is false") {
			t.Errorf("enable: false: exit %d\n%s", r.Code, r)
		}
	})
}

// TestDoctorControlPlaneFailures: a crash-looping hive container (kwok chaos stage), an image from another
// registry than global.imageRegistry, and a release stuck in pending-upgrade.
func TestDoctorControlPlaneFailures(t *testing.T) {
	ns := Namespace(t, "drc")
	pendNS := Namespace(t, "drp")
	parallel(
		func() {
			// No --wait: hive never becomes ready.
			MustHelm(t, "upgrade", "--install", "skoala", "skoala-release/skoala", "--version", "0.28.1", "--kube-context", "global",
				"-n", ns, "--create-namespace", "--set-string", `hive.podAnnotations.skoala\.fixture/crash-loop=hive`,
				"--set-string", `hive.podAnnotations.skoala\.fixture/restart-count=7`)
			MustKubectl(t, "--context", "global", "-n", ns, "set", "image", "deployment/sesame", "sesame=quay.io/skoala/sesame:v0.28.1")
		},
		func() { pendingUpgrade(t, pendNS) },
	)

	var d doctorJSON
	var r Result
	deadline := time.Now().Add(90 * time.Second)
	for {
		r = Skoala(t, "doctor", "-n", ns, "-o", "json", "--category", "control-plane")
		d = parseDoctor(t, r)
		if c := d.check(t, "control-plane.hive", "global"); strings.Contains(c.Message, "CrashLoopBackOff") || time.Now().After(deadline) {
			break
		}
		time.Sleep(2 * time.Second)
	}
	if r.Code != 3 {
		t.Errorf("exit %d, want 3\n%s", r.Code, r)
	}
	wantStatus(t, d.check(t, "control-plane.hive", "global"), "fail",
		"container hive: CrashLoopBackOff (last terminated: Error, exit code 1)", "7 restarts", "logs deployment/hive -c hive --previous")
	wantStatus(t, d.check(t, "control-plane.registry", "global"), "fail", "quay.io/skoala/sesame:v0.28.1", "global.imageRegistry release.daocloud.io")
	wantStatus(t, d.check(t, "control-plane.skoala-ui", "global"), "ok")

	p := Skoala(t, "doctor", "-n", pendNS, "--category", "control-plane")
	if p.Code != 3 {
		t.Errorf("pending-upgrade: exit %d, want 3\n%s", p.Code, p)
	}
	for _, want := range []string{"✗ fail  release skoala 0.28.1 is stuck in pending-upgrade", "rollback skoala"} {
		if !strings.Contains(p.Stdout, want) {
			t.Errorf("pending-upgrade: output lacks %q\n%s", want, p.Stdout)
		}
	}
}

// pendingUpgrade leaves release skoala in ns in pending-upgrade the way it happens for real: a helm upgrade
// --wait that is killed while it waits for pods that never get ready (they ask for more CPU than any node has).
func pendingUpgrade(t *testing.T, ns string) {
	t.Helper()
	InstallChart(t, "global", ns, "skoala", "skoala", "0.28.1")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(fleet.BinDir, "helm3"), "upgrade", "skoala", "skoala-release/skoala", "--version", "0.28.1",
		"--kube-context", "global", "-n", ns, "--reuse-values", "--wait", "--timeout", "5m",
		"--set", "resources.requests.cpu=5000")
	cmd.Env = fleet.BaseEnv(t)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	for {
		out := Kubectl(t, "--context", "global", "-n", ns, "get", "secrets", "-l", "owner=helm,name=skoala,status=pending-upgrade", "-o", "name")
		if strings.TrimSpace(out.Stdout) != "" {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("helm upgrade never reached pending-upgrade")
		}
		time.Sleep(300 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
}

// unreachableKubeconfig writes a kubeconfig with one more context, workspace-down, whose API server address
// answers nothing (a closed loopback port), and returns KUBECONFIG merging it with the fleet's.
func unreachableKubeconfig(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	p := filepath.Join(t.TempDir(), "down.kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: workspace-down
  cluster:
    server: https://%s
    insecure-skip-tls-verify: true
users:
- name: workspace-down
  user:
    token: nothing
contexts:
- name: workspace-down
  context: {cluster: workspace-down, user: workspace-down}
`, addr)
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return fleet.Kubeconfig + string(os.PathListSeparator) + p
}

// TestDoctorWorkspaceFailures: skoala-init two minors behind skoala, missing insight-agent, leftover
// admission Jobs of an uninstalled skoala-init, and an unreachable workspace.
func TestDoctorWorkspaceFailures(t *testing.T) {
	ns := Namespace(t, "drw")
	insightNS := Namespace(t, "drwi")
	parallel(
		func() { InstallChart(t, "global", ns, "skoala", "skoala", "0.35.0") },
		func() {
			InstallChart(t, "workspace-1", insightNS, "insight-agent", "insight-agent", "1.0.0")
			InstallChart(t, "workspace-1", ns, "skoala-init", "skoala-init", "0.33.3")
		},
		func() {
			// Admission Jobs that outlived their release (the product's are hooks, which helm uninstall leaves):
			// the chart's own Jobs, rendered and applied with no release owning them.
			tmpl := MustHelm(t, "template", "skoala-init", "skoala-release/skoala-init", "--version", "0.35.0", "-n", ns,
				"--show-only", "charts/contour-provisioner-prereq/templates/admission-jobs.yaml")
			MustKubectl(t, "--context", "workspace-2", "create", "namespace", ns)
			apply := exec.Command("kubectl", "--context", "workspace-2", "-n", ns, "apply", "-f", "-")
			apply.Env = fleet.BaseEnv(t)
			apply.Stdin = strings.NewReader(tmpl.Stdout)
			if out, err := apply.CombinedOutput(); err != nil {
				t.Errorf("applying the Jobs: %v\n%s", err, out)
			}
		},
	)
	kc := unreachableKubeconfig(t)
	t0 := time.Now()
	r := SkoalaEnv(t, []string{"KUBECONFIG=" + kc}, "doctor", "-n", ns, "-w", "workspace-1,workspace-2,workspace-down",
		"--insight-namespace", insightNS, "--timeout", "30s", "--check-timeout", "5s", "-o", "json")
	t.Logf("doctor with an unreachable workspace took %s", time.Since(t0))
	if r.Code != 3 {
		t.Fatalf("exit %d, want 3\n%s", r.Code, r)
	}
	d := parseDoctor(t, r)
	wantStatus(t, d.check(t, "workspaces.version-skew", "workspace-1"), "fail", "skoala-init 0.33.3", "skoala 0.35.0", "2 minor versions behind", "--version 0.35.0")
	wantStatus(t, d.check(t, "workspaces.insight-agent", "workspace-1"), "ok")
	wantStatus(t, d.check(t, "workspaces.insight-agent", "workspace-2"), "warn", "insight-agent is not installed", "BEFORE skoala-init")
	wantStatus(t, d.check(t, "workspaces.release", "workspace-2"), "fail", "not installed")
	wantStatus(t, d.check(t, "workspaces.admission-jobs", "workspace-2"), "warn", "leftover Jobs gateway-api-admission, gateway-api-admission-patch", "delete jobs gateway-api-admission gateway-api-admission-patch")
	wantStatus(t, d.check(t, "kubernetes.reachable", "workspace-down"), "fail", "connection refused")
	wantStatus(t, d.check(t, "workspaces.release", "workspace-down"), "skip", "the API server answers")
	if c := d.check(t, "kubernetes.reachable", "workspace-1"); c.Status != "ok" {
		t.Errorf("one unreachable workspace spoiled another: %+v", c)
	}

	t.Run("the table names the failures with their fixes", func(t *testing.T) {
		r := SkoalaEnv(t, []string{"KUBECONFIG=" + kc}, "doctor", "-n", ns, "-w", "workspace-1,workspace-2,workspace-down",
			"--insight-namespace", insightNS, "--timeout", "30s", "--check-timeout", "5s", "--category", "workspaces")
		for _, want := range []string{"[workspace-1]", "✗ fail  skoala-init 0.33.3 is on another minor", "hint: skoala and skoala-init are upgraded together", "! warn  leftover Jobs"} {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("table lacks %q\n%s", want, r.Stdout)
			}
		}
	})

	t.Run("insight-agent installed after skoala-init leaves ServiceMonitors missing", func(t *testing.T) {
		ns2 := Namespace(t, "drws")
		ins2 := Namespace(t, "drwsi")
		InstallChart(t, "workspace-1", ns2, "skoala-init", "skoala-init", "0.35.0")
		// What a skoala-init installed without the ServiceMonitor API looks like: none of its monitors exist.
		Kubectl(t, "--context", "workspace-1", "-n", ns2, "delete", "servicemonitors", "--all")
		InstallChart(t, "workspace-1", ins2, "insight-agent", "insight-agent", "1.0.0")
		r := Skoala(t, "doctor", "-n", ns2, "-w", "workspace-1", "--insight-namespace", ins2, "-o", "json", "--category", "workspaces")
		d := parseDoctor(t, r)
		wantStatus(t, d.check(t, "workspaces.servicemonitors", "workspace-1"), "warn", "insight-agent was installed", "after skoala-init", "re-run the skoala-init upgrade")
	})
}

// mariadbEnv starts the real MariaDB of hack/mariadb.sh when it is not running (and stops it at the end of
// the test when it started it), and returns its connection settings.
func mariadbEnv(t *testing.T) map[string]string {
	t.Helper()
	script := filepath.Join(fleet.Root, "hack", "mariadb.sh")
	if exec.Command(script, "status").Run() != nil {
		if out, err := exec.Command(script, "start").CombinedOutput(); err != nil {
			t.Fatalf("hack/mariadb.sh start: %v\n%s", err, out)
		}
		t.Cleanup(func() { _ = exec.Command(script, "stop").Run() })
	}
	f, err := os.Open(filepath.Join(fleet.Root, ".cache", "mariadb", "env"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			env[k] = v
		}
	}
	return env
}

func mariadbSQL(t *testing.T, stmts string) {
	t.Helper()
	out, err := exec.Command(filepath.Join(fleet.Root, "hack", "mariadb.sh"), "sql", stmts).CombinedOutput()
	if err != nil {
		t.Fatalf("mariadb: %v\n%s", err, out)
	}
}

// withDSN runs doctor with the DSN in SKOALA_DB_DSN (as --db-dsn, but kept out of the process list, and
// out of the captured command lines that the secret scanner reads).
func withDSN(t *testing.T, dsn string, args ...string) Result {
	t.Helper()
	return SkoalaEnv(t, []string{"SKOALA_DB_DSN=" + dsn}, args...)
}

// TestDoctorDatabase runs doctor --db against a real MariaDB: a good database, one missing a table, a wrong
// password; no password ever appears in what doctor prints.
func TestDoctorDatabase(t *testing.T) {
	db := mariadbEnv(t)
	pw := db["MARIADB_PASSWORD"]
	if len(pw) < 8 {
		t.Fatalf("no password in .cache/mariadb/env")
	}
	dsnOf := func(pass, database string) string {
		return fmt.Sprintf("%s:%s@tcp(%s:%s)/%s?charset=utf8&parseTime=true&loc=Local&timeout=10s", db["MARIADB_USER"], pass, db["MARIADB_HOST"], db["MARIADB_PORT"], database)
	}
	ns := Namespace(t, "drd")
	broken := "skoala_" + strings.ReplaceAll(ns, "-", "_")
	// A database whose book table is missing (an init that failed half-way).
	mariadbSQL(t, "DROP DATABASE IF EXISTS `"+broken+"`; CREATE DATABASE `"+broken+"`;")
	t.Cleanup(func() { mariadbSQL(t, "DROP DATABASE IF EXISTS `"+broken+"`") })
	schema, err := exec.Command(filepath.Join(fleet.Root, "hack", "mariadb.sh"), "schema", broken).Output()
	if err != nil {
		t.Fatal(err)
	}
	mariadbSQL(t, string(schema)+"DROP TABLE `"+broken+"`.book;")
	InstallChart(t, "global", ns, "skoala", "skoala", "0.28.1", dsnValuesFile(t, dsnOf(pw, broken))...)

	noSecret := func(t *testing.T, r Result, secrets ...string) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(r.Stdout, s) || strings.Contains(r.Stderr, s) {
				t.Errorf("a password appears in the output of %v", r.Args)
			}
		}
	}
	base := []string{"doctor", "-n", ns, "--category", "database", "--db"}

	t.Run("a missing table is named", func(t *testing.T) {
		for _, o := range []string{"json", "yaml", "table"} {
			r := Skoala(t, append(base, "-o", o)...)
			noSecret(t, r, pw)
			if r.Code != 3 {
				t.Errorf("-o %s: exit %d, want 3\n%s", o, r.Code, r)
			}
			if o == "json" {
				d := parseDoctor(t, r)
				wantStatus(t, d.check(t, "database.dsn", "global"), "ok", "127.0.0.1:"+db["MARIADB_PORT"], broken)
				wantStatus(t, d.check(t, "database.common-mysql", "global"), "skip", "not at common-mysql")
				wantStatus(t, d.check(t, "database.connect", "global"), "ok")
				wantStatus(t, d.check(t, "database.database", "global"), "ok")
				wantStatus(t, d.check(t, "database.tables", "global"), "fail", "missing tables: book", "hive (0.17.1 and later) creates the tables")
			}
		}
	})

	t.Run("a good database passes", func(t *testing.T) {
		r := withDSN(t, dsnOf(pw, "skoala"), append(base, "-o", "json")...)
		noSecret(t, r, pw)
		if r.Code != 0 {
			t.Fatalf("exit %d\n%s", r.Code, r)
		}
		d := parseDoctor(t, r)
		wantStatus(t, d.check(t, "database.tables", "global"), "ok", "api, book, registry")
	})

	t.Run("a wrong password fails without printing any password", func(t *testing.T) {
		wrong := "Wr0ng-" + pw[:6] + "-e2e"
		for _, o := range []string{"table", "json", "yaml"} {
			r := withDSN(t, dsnOf(wrong, "skoala"), append(base, "-o", o)...)
			noSecret(t, r, pw, wrong)
			if r.Code != 3 {
				t.Errorf("-o %s: exit %d, want 3\n%s", o, r.Code, r)
			}
			if !strings.Contains(r.Stdout, "refused the login of user") || !strings.Contains(r.Stdout, "access denied") {
				t.Errorf("-o %s does not say the login was refused:\n%s", o, r.Stdout)
			}
		}
	})

	t.Run("a missing database is named", func(t *testing.T) {
		r := withDSN(t, dsnOf(pw, "skoala_absent"), append(base, "-o", "json")...)
		noSecret(t, r, pw)
		d := parseDoctor(t, r)
		wantStatus(t, d.check(t, "database.database", "global"), "fail", "database skoala_absent does not exist", "CREATE DATABASE skoala_absent")
	})

	t.Run("before the first install the database and dependencies are checked without releases", func(t *testing.T) {
		fresh := Namespace(t, "drdp")
		r := withDSN(t, dsnOf(pw, "skoala"), "doctor", "--pre", "-n", fresh, "-w", "workspace-2", "--insight-namespace", fresh+"-none",
			"--db", "-o", "json")
		noSecret(t, r, pw)
		if r.Code != 0 {
			t.Fatalf("exit %d, want 0\n%s", r.Code, r)
		}
		d := parseDoctor(t, r)
		if d.Mode != "pre-install" {
			t.Errorf("mode %q", d.Mode)
		}
		wantStatus(t, d.check(t, "control-plane.namespace", "global"), "ok", "helm creates it")
		wantStatus(t, d.check(t, "database.tables", "global"), "ok")
		wantStatus(t, d.check(t, "workspaces.insight-agent", "workspace-2"), "warn", "not installed")
		for _, c := range d.Checks {
			if c.ID == "control-plane.release" || c.ID == "workspaces.release" {
				t.Errorf("--pre requires the release: %+v", c)
			}
		}
	})
}
