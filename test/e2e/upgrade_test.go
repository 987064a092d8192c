package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// upgradeJSON is the part of the upgrade report the tests read.
type upgradeJSON struct {
	Schema   string `json:"schema"`
	Outcome  string `json:"outcome"`
	Message  string `json:"message"`
	Hint     string `json:"hint"`
	Releases []struct {
		Context      string `json:"context"`
		Release      string `json:"release"`
		From         string `json:"from"`
		FromRevision int    `json:"fromRevision"`
		To           string `json:"to"`
		Action       string `json:"action"`
		Reason       string `json:"reason"`
		Hint         string `json:"hint"`
		Result       *struct {
			Outcome  string   `json:"outcome"`
			Revision int      `json:"revision"`
			Backups  []string `json:"backups"`
			Error    string   `json:"error"`
			Hint     string   `json:"hint"`
		} `json:"result"`
	} `json:"releases"`
}

func parseUpgrade(t *testing.T, r Result) upgradeJSON {
	t.Helper()
	var u upgradeJSON
	if err := json.Unmarshal([]byte(r.Stdout), &u); err != nil {
		t.Fatalf("upgrade -o json is not JSON: %v\n%s", err, r)
	}
	return u
}

// dsnPassword is the password of the DSNs of these tests: it must never be printed.
const dsnPassword = `Pa$$w0rd:@/?&=x`

func noPassword(t *testing.T, r Result) {
	t.Helper()
	if strings.Contains(r.Stdout, dsnPassword) || strings.Contains(r.Stderr, dsnPassword) || strings.Contains(r.Stdout+r.Stderr, "Pa$$w0rd") {
		t.Errorf("the DSN password was printed:\n%s", r)
	}
}

// upgradeDSN is a DSN of the product guide's form (special characters in the password) whose common-mysql
// lives in the test's own namespace, so that doctor's pre-upgrade checks find it there.
func upgradeDSN(ns string) string {
	return "skoala:" + dsnPassword + "@tcp(mcamel-common-mysql-cluster-mysql-master." + ns + ".svc.cluster.local:3306)/skoala?charset=utf8&parseTime=true&loc=Local&timeout=10s"
}

// installSkoala installs common-mysql, then skoala at version on kubeContext with upgradeDSN and a pinned
// ui.image.tag, as the guide's install command does.
func installSkoala(t *testing.T, kubeContext, ns, version string, extra ...string) {
	t.Helper()
	InstallChart(t, kubeContext, ns, "common-mysql", "common-mysql", "1.0.0")
	args := append([]string{"--set", "hive.configMap.database[0].driver=mysql",
		"--set-string", "hive.configMap.database[0].dsn=" + strings.ReplaceAll(upgradeDSN(ns), ",", `\,`),
		"--set", "ui.image.tag=v0.19.0"}, extra...)
	InstallChart(t, kubeContext, ns, "skoala", "skoala", version, args...)
}

// installUpgradeFleet installs skoala (and common-mysql, see installSkoala) on global and skoala-init on
// each workspace, all at once, at version; extraInit goes to every skoala-init install.
func installUpgradeFleet(t *testing.T, ns, version string, workspaces []string, extraInit ...string) {
	t.Helper()
	fns := []func(){func() { installSkoala(t, "global", ns, version) }}
	for _, w := range workspaces {
		fns = append(fns, func() { InstallChart(t, w, ns, "skoala-init", "skoala-init", version, extraInit...) })
	}
	inParallel(t, 0, fns...)
}

func helmValues(t *testing.T, kubeContext, ns, release string, all bool) map[string]any {
	t.Helper()
	args := []string{"get", "values", release, "--kube-context", kubeContext, "-n", ns, "-o", "json"}
	if all {
		args = append(args, "--all")
	}
	r := MustHelm(t, args...)
	var v map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
		t.Fatalf("helm get values: %v\n%s", err, r)
	}
	return v
}

func dig(v map[string]any, path ...string) any {
	var cur any = v
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func dsnOf(v map[string]any) string {
	db, _ := dig(v, "hive", "configMap", "database").([]any)
	if len(db) == 0 {
		return ""
	}
	m, _ := db[0].(map[string]any)
	s, _ := m["dsn"].(string)
	return s
}

type helmStatusJSON struct {
	Version int `json:"revision"`
	Info    struct {
		Status string
	} `json:"-"`
	Chart struct {
		Metadata struct {
			Version string
		}
	} `json:"-"`
	Status      string `json:"status"`
	ChartName   string `json:"chart"`
	Description string `json:"description"`
}

// helmStatus reads the newest revision of a release from helm history (revision, status, chart version).
func helmStatus(t *testing.T, kubeContext, ns, release string) helmStatusJSON {
	t.Helper()
	h := helmHistory(t, kubeContext, ns, release, "--max", "1")
	if len(h) != 1 {
		t.Fatalf("helm history of %s/%s: %d revisions, want 1", kubeContext, release, len(h))
	}
	return h[0]
}

// helmHistory reads the revisions of a release from helm history, oldest first (extra: e.g. --max N).
func helmHistory(t *testing.T, kubeContext, ns, release string, extra ...string) []helmStatusJSON {
	t.Helper()
	r := MustHelm(t, append([]string{"history", release, "--kube-context", kubeContext, "-n", ns, "-o", "json"}, extra...)...)
	var h []helmStatusJSON
	if err := json.Unmarshal([]byte(r.Stdout), &h); err != nil {
		t.Fatalf("helm history: %v\n%s", err, r)
	}
	for i := range h {
		h[i].Info.Status = h[i].Status
		h[i].Chart.Metadata.Version = strings.TrimPrefix(h[i].ChartName, release+"-")
	}
	return h
}

// TestUpgradeFleet upgrades skoala 0.28.1 and two skoala-init 0.28.1 to the newest version: values
// survive (the DSN with special characters), the pinned UI tag is dropped, image tags move to v0.57.2,
// the admission Jobs and CRDs are handled, and the backups reinstall the old revision with helm -f.
func TestUpgradeFleet(t *testing.T) {
	ns := freshNamespace(t, "upf")
	installUpgradeFleet(t, ns, "0.28.1", []string{"workspace-1", "workspace-2"}, "--set", "nacos-operator.replicas=1")
	before := helmValues(t, "global", ns, "skoala", false)
	backups := filepath.Join(t.TempDir(), "backups")

	start := time.Now()
	r := Skoala(t, "upgrade", "-n", ns, "-w", "workspace-1,workspace-2", "--backup-dir", backups, "--timeout", "2m", "--yes", "-o", "json")
	t.Logf("upgrade of 3 releases took %s", time.Since(start).Round(time.Second))
	if r.Code != 0 {
		t.Fatalf("upgrade exit %d, want 0\n%s", r.Code, r)
	}
	noPassword(t, r)
	u := parseUpgrade(t, r)
	if u.Outcome != "upgraded" || len(u.Releases) != 3 {
		t.Fatalf("outcome %q, %d releases\n%s", u.Outcome, len(u.Releases), r.Stdout)
	}
	for _, rel := range u.Releases {
		if rel.From != "0.28.1" || rel.To != "0.57.2" || rel.Result == nil || rel.Result.Outcome != "upgraded" || rel.Result.Revision != 2 {
			t.Errorf("%s/%s: %+v %+v", rel.Context, rel.Release, rel, rel.Result)
		}
	}
	if !strings.Contains(r.Stderr, "deleted Jobs gateway-api-admission, gateway-api-admission-patch") || !strings.Contains(r.Stderr, "higress.gen.yaml") {
		t.Errorf("the progress does not show the admission Jobs and CRD steps:\n%s", r.Stderr)
	}

	t.Run("values from before survive, the pinned UI tag is dropped", func(t *testing.T) {
		after := helmValues(t, "global", ns, "skoala", false)
		if got := dsnOf(after); got != upgradeDSN(ns) || got != dsnOf(before) {
			t.Errorf("DSN after upgrade %q, want %q", got, upgradeDSN(ns))
		}
		if dig(after, "hive", "image", "tag") != "v0.57.2" || dig(after, "sesame", "image", "tag") != "v0.57.2" {
			t.Errorf("image tags in values: %v", after)
		}
		if dig(after, "ui", "image", "tag") != nil {
			t.Errorf("ui.image.tag still pinned: %v", dig(after, "ui"))
		}
		initVals := helmValues(t, "workspace-1", ns, "skoala-init", false)
		if dig(initVals, "nacos-operator", "replicas") != float64(1) || dig(initVals, "skoala-agent", "image", "tag") != "v0.57.2" {
			t.Errorf("skoala-init values: %v", initVals)
		}
	})
	t.Run("every component runs v0.57.2 and is ready", func(t *testing.T) {
		s := parseStatus(t, Skoala(t, "status", "-n", ns, "-w", "workspace-1,workspace-2", "-o", "json"))
		for _, c := range s.Clusters {
			for _, rel := range c.Releases {
				if rel.Version != "0.57.2" || rel.Status != "deployed" {
					t.Errorf("%s: %s %s %s", c.Context, rel.Name, rel.Version, rel.Status)
				}
				for _, comp := range rel.Components {
					if comp.State != "ready" && comp.State != "completed" {
						t.Errorf("%s/%s: %s is %s", c.Context, rel.Name, comp.Name, comp.State)
					}
					if comp.Kind == "Deployment" && comp.Tag != "v0.57.2" {
						t.Errorf("%s/%s: %s runs %s", c.Context, rel.Name, comp.Name, comp.Tag)
					}
				}
			}
		}
	})
	t.Run("the CRDs of 0.57.2 are applied", func(t *testing.T) {
		for _, crd := range []string{"httpproxies.projectcontour.io", "gateways.gateway.networking.k8s.io"} {
			r := MustKubectl(t, "--context", "workspace-1", "get", "crd", crd, "-o", `jsonpath={.metadata.annotations.skoala\.fixture/version}`)
			if strings.TrimSpace(r.Stdout) != "0.57.2" {
				t.Errorf("CRD %s is at %q, want 0.57.2", crd, r.Stdout)
			}
		}
	})
	t.Run("backups are 0600 in a 0700 directory and reinstall the old revision with helm -f", func(t *testing.T) {
		st, err := os.Stat(backups)
		if err != nil || st.Mode().Perm() != 0o700 {
			t.Fatalf("backup dir: %v %v", st.Mode(), err)
		}
		var skoalaBackup string
		for _, rel := range u.Releases {
			if len(rel.Result.Backups) != 1 {
				t.Fatalf("%s/%s: backups %v", rel.Context, rel.Release, rel.Result.Backups)
			}
			b := rel.Result.Backups[0]
			st, err := os.Stat(b)
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v %v", b, st.Mode(), err)
			}
			if !strings.Contains(filepath.Base(b), rel.Context+"_"+ns+"_"+rel.Release+"_r1_"+rel.Release+"-0.28.1_") {
				t.Errorf("backup name %s", b)
			}
			if rel.Release == "skoala" {
				skoalaBackup = b
			}
		}
		MustHelm(t, "upgrade", "skoala", "skoala-release/skoala", "--version", "0.28.1", "--kube-context", "global", "-n", ns,
			"-f", skoalaBackup, "--wait", "--timeout", "2m")
		restored := helmValues(t, "global", ns, "skoala", false)
		if dsnOf(restored) != upgradeDSN(ns) || dig(restored, "ui", "image", "tag") != "v0.19.0" {
			t.Errorf("restored values: %v", restored)
		}
		if st := helmStatus(t, "global", ns, "skoala"); st.Chart.Metadata.Version != "0.28.1" || st.Info.Status != "deployed" {
			t.Errorf("after restore: %+v", st)
		}
	})
}

// neverReady makes every new pod of the skoala fixture unschedulable (more CPU than the kwok node has): the
// pods stay Pending and never become ready, deterministically.
var neverReady = []string{"--set", "resources.requests.cpu=1000"}

// TestUpgradeNeverReadyRollsBack upgrades with values whose new pods never become ready: Helm's atomic
// wait times out and rolls the release back; the report says so and the exit code is 3.
func TestUpgradeNeverReadyRollsBack(t *testing.T) {
	ns := freshNamespace(t, "uprb")
	installSkoala(t, "global", ns, "0.28.1")
	args := append([]string{"upgrade", "-n", ns, "--version", "0.33.2", "--timeout", "30s", "--backup-dir", t.TempDir(), "--yes", "-o", "json"}, neverReady...)
	r := Skoala(t, args...)
	if r.Code != 3 {
		t.Fatalf("exit %d, want 3 (rolled back)\n%s", r.Code, r)
	}
	noPassword(t, r)
	u := parseUpgrade(t, r)
	res := u.Releases[0].Result
	if u.Outcome != "rolled-back" || res == nil || res.Outcome != "rolled-back" || !strings.Contains(res.Error, "rolled back") {
		t.Fatalf("outcome %q, result %+v", u.Outcome, res)
	}
	if !regexp.MustCompile(`global/skoala: hive +.* v0\.33\.2 .*\(1 pod Pending\)`).MatchString(r.Stderr) {
		t.Errorf("the progress view does not show the new hive pod waiting:\n%s", r.Stderr)
	}
	if !regexp.MustCompile(`error: .*rolled back`).MatchString(r.Stderr) || !strings.Contains(r.Stderr, "hint: ") {
		t.Errorf("stderr lacks the error and its hint:\n%s", r.Stderr)
	}
	st := helmStatus(t, "global", ns, "skoala")
	if st.Info.Status != "deployed" || st.Chart.Metadata.Version != "0.28.1" || st.Version != 3 {
		t.Errorf("after the rollback: revision %d %s %s, want 3 deployed 0.28.1", st.Version, st.Info.Status, st.Chart.Metadata.Version)
	}
	if got := dsnOf(helmValues(t, "global", ns, "skoala", false)); got != upgradeDSN(ns) {
		t.Errorf("DSN after rollback %q", got)
	}
}

// TestUpgradeDryRunChangesNothing renders the upgrade server-side and prints the diff; the release
// revisions stay as they were and no backup is written.
func TestUpgradeDryRunChangesNothing(t *testing.T) {
	ns := freshNamespace(t, "updry")
	installUpgradeFleet(t, ns, "0.28.1", []string{"workspace-1"})
	backups := filepath.Join(t.TempDir(), "b")
	r := Skoala(t, "upgrade", "-n", ns, "-w", "workspace-1", "--dry-run", "--backup-dir", backups, "--color", "never")
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s", r.Code, r)
	}
	noPassword(t, r)
	for _, want := range []string{"--- a/values.yaml", "-    tag: v0.19.0", "+      - image: release.daocloud.io/skoala/hive:v0.57.2",
		"# Deployment/" + ns + "/skoala-agent: changed", "dsn: skoala:******(hmac:", "dry-run: nothing was changed"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("the diff lacks %q\n%s", want, r.Stdout)
		}
	}
	for _, c := range []string{"global", "workspace-1"} {
		rel := "skoala"
		if c != "global" {
			rel = "skoala-init"
		}
		if st := helmStatus(t, c, ns, rel); st.Version != 1 || st.Chart.Metadata.Version != "0.28.1" {
			t.Errorf("%s/%s changed: %+v", c, rel, st)
		}
	}
	if _, err := os.Stat(backups); err == nil {
		t.Errorf("a dry run wrote backups")
	}
	if r := Kubectl(t, "--context", "global", "-n", ns, "get", "lease", "kubectl-skoala-upgrade.skoala"); r.Code == 0 {
		t.Errorf("a dry run took the lock:\n%s", r)
	}
	t.Run("coloured with --color always", func(t *testing.T) {
		r := Skoala(t, "upgrade", "-n", ns, "--dry-run", "--color", "always", "--backup-dir", backups)
		if r.Code != 0 || !strings.Contains(r.Stdout, "\x1b[") {
			t.Errorf("no colour:\n%s", r)
		}
	})
}

// unpackChart extracts a packaged fixture chart of the fleet's repository into dir, as an offline bundle's
// original-chart folder.
func unpackChart(t *testing.T, name, version, dir string) string {
	t.Helper()
	tgz := filepath.Join(fleet.Dir, "charts", name+"-"+version+".tgz")
	dest := filepath.Join(dir, name+"-bundle")
	if err := os.MkdirAll(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("tar", "-xzf", tgz, "-C", dest).CombinedOutput(); err != nil {
		t.Fatalf("untar %s: %v\n%s", tgz, err, out)
	}
	if err := os.Rename(filepath.Join(dest, name), filepath.Join(dest, "original-chart")); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dest, "original-chart")
}

// TestUpgradeOfflineFromChartDirectory upgrades from the original-chart folders of offline bundles with
// --image-registry: every image of both releases comes from that registry. A chart of another name is
// refused.
func TestUpgradeOfflineFromChartDirectory(t *testing.T) {
	ns := freshNamespace(t, "upoff")
	installUpgradeFleet(t, ns, "0.28.1", []string{"workspace-1"})
	dir := t.TempDir()
	skoalaChart := unpackChart(t, "skoala", "0.57.0", dir)
	initChart := unpackChart(t, "skoala-init", "0.57.0", dir)
	const registry = "registry.offline.local:5000"
	// Offline: no repository configured at all.
	env := []string{"HELM_REPOSITORY_CONFIG=" + filepath.Join(dir, "no-repositories.yaml")}
	r := SkoalaEnv(t, env, "upgrade", "-n", ns, "-w", "workspace-1", "--chart", skoalaChart, "--chart", initChart,
		"--image-registry", registry, "--backup-dir", filepath.Join(dir, "backups"), "--timeout", "2m", "--yes")
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s", r.Code, r)
	}
	noPassword(t, r)
	if !strings.Contains(r.Stdout, "set global.imageRegistry="+registry) {
		t.Errorf("the plan does not show the registry:\n%s", r.Stdout)
	}
	s := parseStatus(t, Skoala(t, "status", "-n", ns, "-w", "workspace-1", "-o", "json"))
	n := 0
	for _, c := range s.Clusters {
		for _, rel := range c.Releases {
			if rel.Version != "0.57.0" {
				t.Errorf("%s: %s at %s", c.Context, rel.Name, rel.Version)
			}
			for _, comp := range rel.Components {
				for _, im := range comp.Images {
					n++
					if !strings.HasPrefix(im.Image, registry+"/") {
						t.Errorf("%s/%s: image %s is not on %s", c.Context, comp.Name, im.Image, registry)
					}
				}
			}
		}
	}
	if n < 8 {
		t.Errorf("only %d images seen", n)
	}
	t.Run("a chart of another name is refused", func(t *testing.T) {
		other := unpackChart(t, "insight-agent", "1.0.0", t.TempDir())
		r := SkoalaEnv(t, env, "upgrade", "-n", ns, "--chart", other, "--yes")
		if r.Code != 2 || !strings.Contains(r.Stderr, `is chart "insight-agent"`) {
			t.Errorf("exit %d, want 2 and the name\n%s", r.Code, r)
		}
	})
}

// TestUpgradeRefusesPendingRelease: a helm upgrade killed during its wait leaves the release
// pending-upgrade; upgrade refuses it, changes nothing and prints the rollback command. The new hive pod
// selects no node, so it is never ready: a crash-looping pod (the fleet's kwok stage) is Ready for its
// first 500 ms, and helm's --wait could finish in that window, before the test saw pending-upgrade.
func TestUpgradeRefusesPendingRelease(t *testing.T) {
	ns := freshNamespace(t, "uppend")
	installSkoala(t, "global", ns, "0.28.1")
	cmd := exec.Command(filepath.Join(fleet.BinDir, "helm3"), "upgrade", "skoala", "skoala-release/skoala", "--version", "0.33.2",
		"--kube-context", "global", "-n", ns, "--reuse-values", "--set", `hive.nodeSelector.skoala\.fixture/never=yes`, "--wait", "--timeout", "5m")
	cmd.Env = fleet.BaseEnv(t)
	var helmOut bytes.Buffer // read only once the process has exited
	cmd.Stdout, cmd.Stderr = &helmOut, &helmOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(2 * time.Minute)
	for helmStatus(t, "global", ns, "skoala").Info.Status != "pending-upgrade" {
		select {
		case err := <-exited:
			t.Fatalf("helm upgrade exited (%v) before the release went pending-upgrade:\n%s", err, helmOut.String())
		default:
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			t.Fatalf("helm upgrade never went pending-upgrade in 2m; its output:\n%s", helmOut.String())
		}
		time.Sleep(300 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-exited

	r := Skoala(t, "upgrade", "-n", ns, "--backup-dir", t.TempDir(), "--yes")
	if r.Code != 3 {
		t.Fatalf("exit %d, want 3\n%s", r.Code, r)
	}
	if !strings.Contains(r.Stdout, "refused") || !regexp.MustCompile(`hint: .*helm --kube-context global -n `+ns+` rollback skoala 1`).MatchString(r.Stderr) {
		t.Errorf("no refusal with the rollback command:\n%s", r)
	}
	if st := helmStatus(t, "global", ns, "skoala"); st.Version != 2 || st.Info.Status != "pending-upgrade" {
		t.Errorf("the release changed: %+v", st)
	}
}

// TestUpgradeResumesAfterAPIServerKilled kills the kube-apiserver while the upgrade waits for a rollout
// that cannot finish: the release is left pending-upgrade, status describes it, and a second upgrade
// (the apiserver back) resumes it and completes. The control plane of this test is workspace-2, so that
// the global cluster stays up for the other tests.
func TestUpgradeResumesAfterAPIServerKilled(t *testing.T) {
	const cp = "workspace-2"
	waitReady(t, cp)
	ns := freshNamespace(t, "upkill")
	installSkoala(t, cp, ns, "0.28.1")
	backups := t.TempDir()
	fleetScript := filepath.Join(fleet.Root, "hack", "fleet.sh")
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			_ = exec.Command(fleetScript, "start-cluster", cp).Run()
		}
	})

	args := append([]string{"upgrade", "--context", cp, "-n", ns, "--version", "0.33.2", "--timeout", "15s", "--backup-dir", backups, "--yes"}, neverReady...)
	cmd := exec.Command(fleet.Skoala, args...)
	cmd.Env = fleet.BaseEnv(t)
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill the apiserver once the upgrade waits for its rollout (revision 2 pending-upgrade).
	deadline := time.Now().Add(time.Minute)
	for helmStatus(t, cp, ns, "skoala").Info.Status != "pending-upgrade" {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("the upgrade never went pending-upgrade\n%s", stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	if out, err := exec.Command(fleetScript, "stop-cluster", cp, "--kill").CombinedOutput(); err != nil {
		t.Fatalf("stop-cluster: %v\n%s", err, out)
	}
	err := cmd.Wait()
	first := Result{Args: args, Stdout: stdout.String(), Stderr: stderr.String()}
	capture(t, first)
	noPassword(t, first)
	var ee *exec.ExitError
	if err == nil || !errorsAs(err, &ee) || ee.ExitCode() != 124 {
		t.Fatalf("the interrupted upgrade exited %v, want 124 (timed out)\n%s", err, first)
	}
	if !strings.Contains(first.Stderr, "cannot read the rollout") {
		t.Errorf("the progress view does not say the cluster went away:\n%s", first.Stderr)
	}
	if out, err := exec.Command(fleetScript, "start-cluster", cp).CombinedOutput(); err != nil {
		t.Fatalf("start-cluster: %v\n%s", err, out)
	}
	restarted = true

	st := helmStatus(t, cp, ns, "skoala")
	if st.Info.Status != "pending-upgrade" || st.Version != 2 {
		t.Fatalf("after the kill: revision %d %s, want 2 pending-upgrade", st.Version, st.Info.Status)
	}
	s := Skoala(t, "status", "--context", cp, "-n", ns)
	if !strings.Contains(s.Stdout, "pending-upgrade") || !strings.Contains(s.Stdout, "rollback") {
		t.Errorf("status does not describe the pending release:\n%s", s)
	}
	if _, err := os.Stat(filepath.Join(fleet.Root, "pkg", "doctor")); err == nil {
		d := Skoala(t, "doctor", "--context", cp, "-n", ns)
		if !strings.Contains(d.Stdout+d.Stderr, "pending-upgrade") {
			t.Errorf("doctor does not explain the pending release:\n%s", d)
		}
	}
	// The rerun: the lock of the killed run's process is stale at once (same host, process gone).
	r := Skoala(t, "upgrade", "--context", cp, "-n", ns, "--version", "0.33.2", "--timeout", "2m", "--backup-dir", backups, "--yes", "-o", "json")
	if r.Code != 0 {
		t.Fatalf("the rerun exited %d\n%s", r.Code, r)
	}
	noPassword(t, r)
	u := parseUpgrade(t, r)
	if u.Releases[0].Action != "resume" || u.Releases[0].Result.Outcome != "upgraded" {
		t.Errorf("rerun: %+v %+v", u.Releases[0], u.Releases[0].Result)
	}
	st = helmStatus(t, cp, ns, "skoala")
	// Revision 2 marked failed, 3 the rollback to 1 (what only 2 added goes), 4 the upgrade.
	if st.Info.Status != "deployed" || st.Chart.Metadata.Version != "0.33.2" || st.Version != 4 {
		t.Errorf("after the rerun: revision %d %s %s, want 4 deployed 0.33.2", st.Version, st.Info.Status, st.Chart.Metadata.Version)
	}
	if got := dsnOf(helmValues(t, cp, ns, "skoala", false)); got != upgradeDSN(ns) {
		t.Errorf("DSN after the resumed upgrade %q", got)
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// lockedBuffer is a bytes.Buffer safe for a command's writes and the test's reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestUpgradeGuardAndCtrlC: while an upgrade waits for its rollout, a second upgrade of the same release
// is refused (the lock); Ctrl-C then stops the first one (exit 130), Helm's atomic rollback restores the
// previous revision, the lock is released, and the report says what happened.
func TestUpgradeGuardAndCtrlC(t *testing.T) {
	ns := freshNamespace(t, "upint")
	installSkoala(t, "global", ns, "0.28.1")
	backups := t.TempDir()
	args := append([]string{"upgrade", "-n", ns, "--version", "0.33.2", "--timeout", "2m", "--backup-dir", backups, "--yes"}, neverReady...)
	cmd := exec.Command(fleet.Skoala, args...)
	cmd.Env = fleet.BaseEnv(t)
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	deadline := time.Now().Add(time.Minute)
	for helmStatus(t, "global", ns, "skoala").Info.Status != "pending-upgrade" {
		if time.Now().After(deadline) {
			t.Fatalf("the upgrade never went pending-upgrade\n%s", stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}

	second := Skoala(t, "upgrade", "-n", ns, "--version", "0.33.2", "--backup-dir", backups, "--yes")
	if second.Code != 3 || !strings.Contains(second.Stdout, "holds the lock") {
		t.Errorf("a second upgrade during the first: exit %d, want 3 and the lock named\n%s", second.Code, second)
	}

	_ = cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	first := Result{Args: args, Stdout: stdout.String(), Stderr: stderr.String()}
	capture(t, first)
	var ee *exec.ExitError
	if !errorsAs(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("the interrupted upgrade exited %v, want 130 (interrupted)\n%s", err, first)
	}
	if !strings.Contains(first.Stdout, "interrupted") || !strings.Contains(first.Stdout, "has been rolled back") || !strings.Contains(first.Stderr, "error: interrupted") {
		t.Errorf("the report does not say it was interrupted and rolled back:\n%s", first)
	}
	if st := helmStatus(t, "global", ns, "skoala"); st.Info.Status != "deployed" || st.Chart.Metadata.Version != "0.28.1" || st.Version != 3 {
		t.Errorf("after Ctrl-C: revision %d %s %s, want 3 deployed 0.28.1", st.Version, st.Info.Status, st.Chart.Metadata.Version)
	}
	if r := Kubectl(t, "--context", "global", "-n", ns, "get", "lease", "kubectl-skoala-upgrade.skoala"); r.Code == 0 {
		t.Errorf("the lock was not released:\n%s", r)
	}
}

// TestUpgradeBadFlags: flag mistakes are usage errors (exit 2) with one sentence each, before any cluster
// is touched.
func TestUpgradeBadFlags(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--version", "latest"}, `--version: "latest" is not a semantic version`},
		{[]string{"--version", "0.57.2", "--to-latest-patch"}, "--version and --to-latest-patch are mutually exclusive"},
		{[]string{"--db-dsn", "x", "--db-host", "h"}, "--db-dsn and --db-host/--db-user/--db-password/--db-name are mutually exclusive"},
		{[]string{"--db-host", "h"}, "--db-host/--db-user need --db-password or --db-password-file"},
		{[]string{"--chart", "x", "--refresh"}, "--chart and --repo/--refresh are mutually exclusive"},
		{[]string{"--set", "a"}, "parsing --set a"},
		{[]string{"--timeout", "0s"}, "--timeout must be positive"},
		{[]string{"--nope"}, "unknown flag: --nope"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := Skoala(t, append([]string{"upgrade"}, c.args...)...)
			if r.Code != 2 || !strings.Contains(r.Stderr, c.want) {
				t.Errorf("exit %d, want 2 and %q\n%s", r.Code, c.want, r)
			}
		})
	}
	t.Run("a bad --db-dsn never echoes the password", func(t *testing.T) {
		r := Skoala(t, "upgrade", "--db-dsn", "skoala:"+dsnPassword+"@nowhere")
		if r.Code != 2 {
			t.Errorf("exit %d\n%s", r.Code, r)
		}
		noPassword(t, r)
	})
}

// waitReady waits until a fleet cluster answers (another test may have stopped it for a while).
func waitReady(t *testing.T, kubeContext string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for Kubectl(t, "--context", kubeContext, "get", "--raw", "/readyz").Code != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("cluster %s is not ready", kubeContext)
		}
		time.Sleep(2 * time.Second)
	}
}

// freshNamespace is Namespace, after deleting what a previous, interrupted run of the same test may have
// left under that name in any cluster of the fleet.
func freshNamespace(t *testing.T, prefix string) string {
	t.Helper()
	ns := Namespace(t, prefix)
	for _, c := range fleet.Clusters {
		Kubectl(t, "--context", c, "delete", "namespace", ns, "--ignore-not-found", "--wait=true", "--timeout=90s")
	}
	return ns
}
