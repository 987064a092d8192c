package e2e

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestFaultsDuringUpgrade injects a fault into a running upgrade: the kube-apiserver of the control plane
// killed and restarted in the middle of the skoala upgrade, a workspace cluster that goes away between the
// control-plane step and the workspace step, Ctrl-C (SIGINT) during --wait, and SIGKILL during --wait.
// After each: doctor describes the state (a pending release with how to recover it), a second upgrade
// finishes or refuses with the recovery steps (which, followed, let a third one finish), the value backups
// taken before the first change are present and byte-for-byte intact, and no release is left pending-*.
// The four scenarios run concurrently on separate clusters and namespaces.
func TestFaultsDuringUpgrade(t *testing.T) {
	t.Run("kube-apiserver killed and restarted in the middle of the skoala upgrade", func(t *testing.T) {
		t.Parallel()
		faultAPIServerKilled(t)
	})
	t.Run("a workspace cluster goes away between the control-plane and the workspace step", func(t *testing.T) {
		t.Parallel()
		faultWorkspaceGone(t)
	})
	t.Run("Ctrl-C (SIGINT) during --wait", func(t *testing.T) {
		t.Parallel()
		faultSignal(t, syscall.SIGINT)
	})
	t.Run("SIGKILL during --wait", func(t *testing.T) {
		t.Parallel()
		faultSignal(t, syscall.SIGKILL)
	})
}

// faultAPIServerKilled: control plane workspace-1 (the global cluster stays up for the other scenarios).
func faultAPIServerKilled(t *testing.T) {
	const cp = "workspace-1"
	ns := Namespace(t, "fkill")
	InstallChart(t, cp, ns, "skoala", "skoala", "0.28.1", plantedValues()...)
	restore := clusterRestorer(t, cp)
	backups := writtenDir(t, "backups")
	var wg sync.WaitGroup
	// The new pods ask for more CPU than the node has, so Helm is in its --wait when the apiserver dies; it
	// comes back 3 s later, while the upgrade still runs.
	first := runUntil(t, []string{"upgrade", "--context", cp, "-n", ns, "--version", "0.33.2", "--timeout", "25s",
		"--set", "resources.requests.cpu=5000", "--backup-dir", backups, "--yes", "--force"},
		regexp.MustCompile(cp+`/skoala: .* v0\.33\.2 \(\d+ pods? Pending`), func(*exec.Cmd) {
			fleetCtl(t, "stop-cluster", cp, "--kill")
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(3 * time.Second)
				restore()
			}()
		})
	wg.Wait()
	restore()
	t.Logf("the upgrade whose apiserver was killed exited %d", first.Code)
	if first.Code != 0 && first.Code != 1 && first.Code != 3 && first.Code != 124 {
		t.Errorf("exit %d, want 0, 1, 3 or 124\n%s", first.Code, first)
	}
	sums := backupsTaken(t, backups, map[string]string{cp: "skoala"})
	recoverAndFinish(t, first, cp, ns, nil, backups, "0.33.2")
	backupsIntact(t, sums)
}

// faultWorkspaceGone: skoala on global, skoala-init on workspace-2; workspace-2's apiserver stops while the
// control plane is upgraded.
func faultWorkspaceGone(t *testing.T) {
	const ws = "workspace-2"
	ns := Namespace(t, "fws")
	parallelDo(
		func() { InstallChart(t, "global", ns, "skoala", "skoala", "0.28.1", plantedValues()...) },
		func() { InstallChart(t, ws, ns, "skoala-init", "skoala-init", "0.28.1") },
	)
	restore := clusterRestorer(t, ws)
	backups := writtenDir(t, "backups")
	first := runUntil(t, []string{"upgrade", "-n", ns, "-w", ws, "--version", "0.33.2", "--timeout", "60s",
		"--request-timeout", "10s", "--backup-dir", backups, "--yes", "--force"},
		regexp.MustCompile(`global/skoala: upgrade 0\.28\.1 -> 0\.33\.2`), func(*exec.Cmd) {
			fleetCtl(t, "stop-cluster", ws)
		})
	if first.Code != 1 {
		t.Errorf("exit %d, want 1 (the workspace step failed)\n%s", first.Code, first)
	}
	if !regexp.MustCompile(`(?m)^error: .*` + ws + `/skoala-init: .*(refused|timed out|unreachable)`).MatchString(first.Stderr) {
		t.Errorf("the error does not name the workspace release and why it failed:\n%s", first)
	}
	if !strings.Contains(first.Stdout, "global") || !strings.Contains(first.Stdout, "upgraded") {
		t.Errorf("the report does not say that the control plane was upgraded:\n%s", first.Stdout)
	}
	sums := backupsTaken(t, backups, map[string]string{"global": "skoala", ws: "skoala-init"})

	t.Run("doctor names the unreachable workspace", func(t *testing.T) {
		r := Skoala(t, "doctor", "-n", ns, "-w", ws, "--timeout", "30s", "--check-timeout", "5s", "-o", "json")
		if r.Code != 3 {
			t.Errorf("exit %d, want 3\n%s", r.Code, r)
		}
		d := faultDoctor(t, r)
		if c := d.find("kubernetes.reachable", ws); c == nil || c.Status != "fail" || !strings.Contains(c.Message, "refused") {
			t.Errorf("kubernetes.reachable on %s: %+v", ws, c)
		}
		if c := d.find("control-plane.release", "global"); c == nil || c.Status != "ok" || !strings.Contains(c.Message, "0.33.2") {
			t.Errorf("control-plane.release: %+v", c)
		}
	})
	restore()
	if st := releaseRevisions(t, ws, ns, "skoala-init"); len(st) != 1 || st["1"] != "deployed" {
		t.Errorf("the workspace release was touched: %v", st)
	}
	t.Run("doctor, the workspace back, names the version skew and the fix", func(t *testing.T) {
		r := Skoala(t, "doctor", "-n", ns, "-w", ws, "-o", "json")
		d := faultDoctor(t, r)
		c := d.find("workspaces.version-skew", ws)
		if r.Code != 3 || c == nil || c.Status != "fail" || !strings.Contains(c.Message, "0.28.1") || !strings.Contains(c.Message+c.Hint, "0.33.2") {
			t.Errorf("exit %d, version-skew %+v\n%s", r.Code, c, r)
		}
	})
	recoverAndFinish(t, first, "global", ns, []string{ws}, backups, "0.33.2")
	backupsIntact(t, sums)
}

// faultSignal: skoala on global whose new pods never get ready, so the upgrade sits in Helm's --wait; the
// signal arrives there.
func faultSignal(t *testing.T, sig syscall.Signal) {
	ns := Namespace(t, "fsig"+strconv.Itoa(int(sig)))
	InstallChart(t, "global", ns, "skoala", "skoala", "0.28.1", plantedValues()...)
	backups := writtenDir(t, "backups")
	// The new pods ask for more CPU than any node has: they stay Pending and Helm waits until the signal.
	// (Not a crash-looping container: kwok may show it only after Helm's wait has passed. Nor a key that only
	// the new revision adds: it would stay on the Deployment after a resume, since Helm's three-way merge
	// starts from the deployed revision; a value the second upgrade sets back does not.)
	set, trigger := "resources.requests.cpu=5000", regexp.MustCompile(`v0\.33\.2 \(\d+ pods? Pending`)
	var signalled time.Time
	first := runUntil(t, []string{"upgrade", "-n", ns, "--version", "0.33.2", "--set", set,
		"--timeout", "90s", "--backup-dir", backups, "--yes", "--force"},
		trigger, func(c *exec.Cmd) {
			signalled = time.Now()
			if err := c.Process.Signal(sig); err != nil {
				t.Errorf("signal: %v", err)
			}
		})
	if signalled.IsZero() {
		t.Fatalf("the rollout never showed the stuck pods\n%s", first)
	}
	took := time.Since(signalled)
	t.Logf("after %v the upgrade exited %d in %s", sig, first.Code, took.Round(time.Second))
	switch sig {
	case syscall.SIGINT:
		if first.Code != 130 || !strings.Contains(first.Stderr, "interrupted") {
			t.Errorf("exit %d, want 130 and 'interrupted'\n%s", first.Code, first)
		}
		if took > 45*time.Second {
			t.Errorf("it took %s to stop after Ctrl-C", took)
		}
	case syscall.SIGKILL:
		if first.Code != -1 {
			t.Errorf("exit %d, want death by SIGKILL\n%s", first.Code, first)
		}
	}
	sums := backupsTaken(t, backups, map[string]string{"global": "skoala"})
	recoverAndFinish(t, first, "global", ns, nil, backups, "0.33.2")
	backupsIntact(t, sums)
}

// runUntil runs an upgrade, reading its progress (stderr) line by line, calls fire once at the first line
// that matches, and returns how it ended (Code -1 when a signal killed it).
func runUntil(t *testing.T, args []string, trigger *regexp.Regexp, fire func(*exec.Cmd)) Result {
	t.Helper()
	cmd := exec.Command(fleet.Skoala, args...)
	cmd.Env = fleet.BaseEnv(t)
	var stdout strings.Builder
	cmd.Stdout = &stdout
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(5*time.Minute, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	var stderr strings.Builder
	fired := false
	sc := bufio.NewScanner(pipe)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		stderr.WriteString(line + "\n")
		if !fired && trigger.MatchString(line) {
			fired = true
			fire(cmd)
		}
	}
	err = cmd.Wait()
	r := Result{Args: append([]string{"kubectl-skoala"}, args...), Stdout: stdout.String(), Stderr: stderr.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.Code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running the upgrade: %v", err)
	}
	capture(t, r)
	if !fired {
		t.Fatalf("no progress line matched %q: the fault was never injected\n%s", trigger, r)
	}
	return r
}

// fleetCtl runs hack/fleet.sh.
func fleetCtl(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command(filepath.Join(fleet.Root, "hack", "fleet.sh"), args...).CombinedOutput(); err != nil {
		t.Errorf("hack/fleet.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// clusterRestorer returns a function that starts the cluster's apiserver again (start-cluster is a no-op on a
// running one); it runs once, and when the test ends whatever happened.
func clusterRestorer(t *testing.T, name string) func() {
	var once sync.Once
	restore := func() {
		once.Do(func() { fleetCtl(t, "start-cluster", name) })
	}
	t.Cleanup(restore)
	return restore
}

// backupsTaken checks that the first run backed up every release (revision 1) before its first change, at
// mode 0600 in a 0700 directory, with the values (the planted DSN for skoala), and returns their checksums.
func backupsTaken(t *testing.T, dir string, releases map[string]string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("backup directory %s: %v", dir, err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	for cluster, rel := range releases {
		found := false
		for _, f := range files {
			if !strings.HasPrefix(filepath.Base(f), cluster+"_") || !strings.Contains(filepath.Base(f), "_"+rel+"_r1_") {
				continue
			}
			found = true
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			st, _ := os.Stat(f)
			if st.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %v", f, st.Mode().Perm())
			}
			if !strings.HasPrefix(string(b), "# kubectl-skoala backup-values") || !strings.Contains(string(b), "# revision: 1\n") {
				t.Errorf("%s is not a backup of revision 1:\n%s", f, b)
			}
			if rel == "skoala" && !strings.Contains(string(b), plantedPassword) {
				t.Errorf("%s lacks the DSN: it would not restore the release", f)
			}
			h := sha256.Sum256(b)
			sums[f] = hex.EncodeToString(h[:])
		}
		if !found {
			t.Errorf("no backup of %s/%s revision 1 in %s: %v", cluster, rel, dir, files)
		}
	}
	return sums
}

// backupsIntact checks that the backups are still there, unchanged.
func backupsIntact(t *testing.T, sums map[string]string) {
	t.Helper()
	for f, want := range sums {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Errorf("backup %s is gone: %v", f, err)
			continue
		}
		h := sha256.Sum256(b)
		if got := hex.EncodeToString(h[:]); got != want {
			t.Errorf("backup %s changed: sha256 %s, was %s", f, got, want)
		}
	}
}

// faultDoctorJSON is the part of doctor's JSON the fault tests read.
type faultDoctorJSON struct {
	Checks []struct {
		ID      string `json:"id"`
		Cluster string `json:"cluster"`
		Status  string `json:"status"`
		Message string `json:"message"`
		Hint    string `json:"hint"`
	} `json:"checks"`
}

type faultCheck = struct {
	ID      string `json:"id"`
	Cluster string `json:"cluster"`
	Status  string `json:"status"`
	Message string `json:"message"`
	Hint    string `json:"hint"`
}

func faultDoctor(t *testing.T, r Result) faultDoctorJSON {
	t.Helper()
	var d faultDoctorJSON
	if err := json.Unmarshal([]byte(r.Stdout), &d); err != nil {
		t.Fatalf("doctor -o json: %v\n%s", err, r)
	}
	return d
}

func (d faultDoctorJSON) find(id, cluster string) *faultCheck {
	for i := range d.Checks {
		if d.Checks[i].ID == id && d.Checks[i].Cluster == cluster {
			return &d.Checks[i]
		}
	}
	return nil
}

// newestRevision returns the newest revision of a release and its status.
func newestRevision(t *testing.T, kubeContext, ns, release string) (int, string) {
	t.Helper()
	best, status := 0, ""
	for rev, st := range releaseRevisions(t, kubeContext, ns, release) {
		if n, _ := strconv.Atoi(rev); n > best {
			best, status = n, st
		}
	}
	return best, status
}

// recoverAndFinish is the recovery check after a fault: doctor describes the control-plane release as it
// is (a pending one as a failure with how to recover it); a second upgrade finishes, or refuses with the
// recovery steps, which, followed, let a third one finish; at the end every release runs the target
// version, deployed, with the planted DSN still in its values.
func recoverAndFinish(t *testing.T, first Result, cp, ns string, workspaces []string, backups, version string) {
	t.Helper()
	rev, status := newestRevision(t, cp, ns, "skoala")
	t.Logf("after the fault: %s/skoala revision %d is %s", cp, rev, status)
	args := []string{"--context", cp, "-n", ns}
	if len(workspaces) > 0 {
		args = append(args, "-w", strings.Join(workspaces, ","))
	}
	doc := Skoala(t, append(append([]string{"doctor"}, args...), "-o", "json", "--category", "control-plane")...)
	d := faultDoctor(t, doc)
	c := d.find("control-plane.release", cp)
	switch {
	case c == nil:
		t.Errorf("doctor has no control-plane.release check\n%s", doc)
	case strings.HasPrefix(status, "pending-"):
		if c.Status != "fail" || !strings.Contains(c.Message, status) || !strings.Contains(c.Hint, "rollback") {
			t.Errorf("the release is %s; doctor says %s: %s (hint: %s)", status, c.Status, c.Message, c.Hint)
		}
	case status == "deployed":
		if c.Status != "ok" {
			t.Errorf("the release is deployed; doctor says %s: %s", c.Status, c.Message)
		}
	default:
		if c.Status == "ok" || !strings.Contains(c.Message, status) {
			t.Errorf("the release is %s; doctor says %s: %s", status, c.Status, c.Message)
		}
	}

	// --force: the fixture has no common-mysql, which the pre-upgrade checks want.
	up := append(append([]string{"upgrade"}, args...), "--version", version, "--timeout", "2m", "--backup-dir", backups, "--yes", "--force")
	second := Run(t, nil, 5*time.Minute, fleet.Skoala, up...)
	if second.Code == 3 {
		// Refused: it must say how to recover; do what it says, then the upgrade must finish.
		m := regexp.MustCompile(`'(helm --kube-context \S+ -n \S+ rollback [^']+)'`).FindStringSubmatch(second.Stderr + second.Stdout)
		if m == nil {
			t.Fatalf("the second upgrade refused without the recovery command\n%s", second)
		}
		t.Logf("the second upgrade refused; recovering with: %s", m[1])
		f := strings.Fields(m[1])
		MustHelm(t, append(f[1:], "--wait", "--timeout", "2m")...)
		second = Run(t, nil, 5*time.Minute, fleet.Skoala, up...)
	}
	if second.Code != 0 {
		t.Fatalf("the upgrade after the fault exited %d, want 0\n%s", second.Code, second)
	}
	for _, pw := range []string{plantedPassword, plantedRegistryPassword} {
		if strings.Contains(first.Stdout+first.Stderr+second.Stdout+second.Stderr, pw) {
			t.Errorf("a planted password was printed")
		}
	}
	check := func(kubeContext, release string) {
		revs := releaseRevisions(t, kubeContext, ns, release)
		var keys []string
		for k, v := range revs {
			keys = append(keys, k+":"+v)
			if strings.HasPrefix(v, "pending-") {
				t.Errorf("%s/%s revision %s is left %s", kubeContext, release, k, v)
			}
		}
		sort.Strings(keys)
		_, st := newestRevision(t, kubeContext, ns, release)
		r := MustHelm(t, "get", "values", release, "--kube-context", kubeContext, "-n", ns, "-o", "json")
		h := MustHelm(t, "history", release, "--kube-context", kubeContext, "-n", ns, "--max", "1", "-o", "json")
		if st != "deployed" || !strings.Contains(h.Stdout, `"chart":"`+release+"-"+version+`"`) {
			t.Errorf("%s/%s: revisions %v, not deployed at %s\n%s", kubeContext, release, keys, version, h.Stdout)
		}
		if release == "skoala" && !strings.Contains(r.Stdout, plantedPassword) {
			t.Errorf("%s/%s lost its DSN: %s", kubeContext, release, r.Stdout)
		}
	}
	check(cp, "skoala")
	for _, w := range workspaces {
		check(w, "skoala-init")
	}
}
