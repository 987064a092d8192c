package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// plantedSecretValue is the data of a Secret planted in the release namespace: a bundle names the Secret
// and its keys, never its data.
const plantedSecretValue = `Pl4nted-Secret-Data-Value`

// bundleManifest is the part of manifest.json the tests read.
type bundleManifest struct {
	Schema   string `json:"schema"`
	Clusters []struct {
		Context   string `json:"context"`
		Dir       string `json:"dir"`
		Reachable bool   `json:"reachable"`
		Files     int    `json:"files"`
		Gaps      int    `json:"gaps"`
	} `json:"clusters"`
	Files []struct {
		Path  string `json:"path"`
		Bytes int64  `json:"bytes"`
	} `json:"files"`
	Skipped []struct {
		Cluster, Part, Reason, Detail string
	} `json:"skipped"`
	Cut []struct {
		Path      string `json:"path"`
		Bytes     int64  `json:"bytes"`
		KeptBytes int64  `json:"keptBytes"`
		Reason    string `json:"reason"`
	} `json:"cut"`
	Gaps int `json:"gaps"`
}

func (m bundleManifest) skipped(cluster, part string) string {
	for _, s := range m.Skipped {
		if s.Cluster == cluster && s.Part == part {
			return s.Reason
		}
	}
	return ""
}

// extractBundle lists the archive with the real unzip, extracts it into a directory the secret scanner
// reads at the end of the suite, and returns that directory and the manifest.
func extractBundle(t *testing.T, zipPath, name string) (string, bundleManifest) {
	t.Helper()
	if _, err := exec.LookPath("unzip"); err != nil {
		t.Fatalf("unzip is not installed (apt-get install unzip; .ci/run installs it)")
	}
	l := Run(t, nil, time.Minute, "unzip", "-l", zipPath)
	if l.Code != 0 || !strings.Contains(l.Stdout, "manifest.json") {
		t.Fatalf("unzip -l:\n%s", l)
	}
	if tst := Run(t, nil, time.Minute, "unzip", "-tq", zipPath); tst.Code != 0 {
		t.Fatalf("unzip -t:\n%s", tst)
	}
	dir := writtenDir(t, name)
	if x := Run(t, nil, time.Minute, "unzip", "-q", "-d", dir, zipPath); x.Code != 0 {
		t.Fatalf("unzip -d:\n%s", x)
	}
	var m bundleManifest
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest.json: %v\n%s", err, b)
	}
	return dir, m
}

// scanExtracted fails on any planted secret, in any form, in any extracted file.
func scanExtracted(t *testing.T, dir string) int {
	t.Helper()
	ns := needles([]string{plantedPassword, plantedRegistryPassword, plantedSecretValue})
	n := 0
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		n++
		for _, f := range scanBytes(p, b, 0, ns) {
			t.Errorf("%s", f)
		}
		return nil
	})
	return n
}

func bundlePath(t *testing.T, name string) string {
	return filepath.Join(t.TempDir(), name)
}

func TestBundle(t *testing.T) {
	ns := Namespace(t, "bd")
	wsValues := []string{"--set-string", "global.imagePullCredentials.username=" + plantedRegistryUser,
		"--set-string", "global.imagePullCredentials.password=" + plantedRegistryPassword}
	inParallel(t, 6*time.Minute,
		func() { InstallChart(t, "global", ns, "skoala", "skoala", "0.28.1", plantedValues()...) },
		func() { InstallChart(t, "workspace-1", ns, "skoala-init", "skoala-init", "0.28.1", wsValues...) },
		func() { InstallChart(t, "workspace-2", ns, "skoala-init", "skoala-init", "0.28.1", wsValues...) },
	)
	MustKubectl(t, "--context", "global", "-n", ns, "create", "secret", "generic", "bundle-planted",
		"--from-literal=password="+plantedSecretValue, "--from-literal=username=skoala")
	fleetArgs := []string{"-n", ns, "-w", "workspace-1,workspace-2"}

	t.Run("a bundle of the control plane and two workspaces holds every expected file and none of the planted secrets", func(t *testing.T) {
		zipPath := bundlePath(t, "fleet.zip")
		r := Skoala(t, append([]string{"bundle", "-f", zipPath}, fleetArgs...)...)
		if r.Code != 0 {
			t.Fatalf("exit %d, want 0 (only absent parts)\n%s", r.Code, r)
		}
		for _, want := range []string{"3 clusters, complete", "global/", "workspace-1/", "workspace-2/"} {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("summary lacks %q:\n%s", want, r.Stdout)
			}
		}
		st, err := os.Stat(zipPath)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("archive %v, mode %v; want 0600", err, st.Mode().Perm())
		}
		dir, m := extractBundle(t, zipPath, "fleet")
		want := []string{"manifest.json", "status.json", "doctor.json", "verify.json", "version.json", "flags.json",
			"global/version.json", "global/nodes.json", "global/releases/skoala/status.json", "global/releases/skoala/history.json",
			"global/releases/skoala/chart.json", "global/releases/skoala/values/revision-1.yaml",
			"global/objects/deployments.yaml", "global/objects/replicasets.yaml", "global/objects/pods.yaml", "global/objects/jobs.yaml",
			"global/objects/services.yaml", "global/objects/events.yaml", "global/objects/persistentvolumeclaims.yaml",
			"global/objects/configmaps.yaml", "global/objects/secrets.json", "global/objects/leases.yaml"}
		for _, ws := range []string{"workspace-1", "workspace-2"} {
			for _, f := range []string{"version.json", "nodes.json", "releases/skoala-init/status.json", "releases/skoala-init/history.json",
				"releases/skoala-init/values/revision-1.yaml", "objects/pods.yaml", "objects/jobs.yaml", "objects/secrets.json"} {
				want = append(want, ws+"/"+f)
			}
		}
		for _, f := range want {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("%s missing from the bundle", f)
			}
		}
		if len(m.Files) == 0 || m.Gaps != 0 || len(m.Clusters) != 3 {
			t.Errorf("manifest: %d files, %d gaps, %d clusters", len(m.Files), m.Gaps, len(m.Clusters))
		}
		for _, f := range m.Files {
			if _, err := os.Stat(filepath.Join(dir, f.Path)); err != nil {
				t.Errorf("manifest lists %s, the archive lacks it", f.Path)
			}
		}
		for part, reason := range map[string]string{" upgrade-runs": "not present", "workspace-1 insight-agent": "not present",
			"global common-mysql/statefulset.yaml": "not present", "global objects/servicemonitors.yaml": "not present"} {
			c, p, _ := strings.Cut(part, " ")
			if got := m.skipped(c, p); got != reason {
				t.Errorf("manifest: %s is %q, want %q", part, got, reason)
			}
		}
		sec, _ := os.ReadFile(filepath.Join(dir, "global", "objects", "secrets.json"))
		if !bytes.Contains(sec, []byte(`"bundle-planted"`)) || !bytes.Contains(sec, []byte(`"password"`)) {
			t.Errorf("secrets.json does not name the planted Secret and its keys:\n%s", sec)
		}
		vals, _ := os.ReadFile(filepath.Join(dir, "global", "releases", "skoala", "values", "revision-1.yaml"))
		if !bytes.Contains(vals, []byte("skoala:******@tcp(")) || !bytes.Contains(vals, []byte("imagePullCredentials:")) {
			t.Errorf("the values are not the release's, redacted:\n%s", vals)
		}
		var doc struct {
			Summary any `json:"summary"`
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "doctor.json")); json.Unmarshal(b, &doc) != nil || doc.Summary == nil {
			t.Errorf("doctor.json is not doctor's JSON report:\n%s", b)
		}
		var st2 statusJSON
		if b, _ := os.ReadFile(filepath.Join(dir, "status.json")); json.Unmarshal(b, &st2) != nil || len(st2.Clusters) != 3 {
			t.Errorf("status.json is not status's JSON report:\n%s", b)
		}
		n := scanExtracted(t, dir)
		t.Logf("scanned %d extracted files", n)
		again := Skoala(t, append([]string{"bundle", "-f", zipPath}, fleetArgs...)...)
		if again.Code != 1 || !strings.Contains(again.Stderr, "already exists") || !strings.Contains(again.Stderr, "hint:") {
			t.Errorf("a second bundle to the same file: exit %d, want 1 with a hint\n%s", again.Code, again)
		}
	})

	t.Run("the read-only identity gets a bundle that lists its forbidden parts", func(t *testing.T) {
		zipPath := bundlePath(t, "readonly.zip")
		r := SkoalaEnv(t, []string{"KUBECONFIG=" + fleet.ReadOnlyKubeconfig}, append([]string{"bundle", "-f", zipPath, "-o", "json"}, fleetArgs...)...)
		if r.Code != 3 {
			t.Fatalf("exit %d, want 3 (a bundle with gaps)\n%s", r.Code, r)
		}
		dir, m := extractBundle(t, zipPath, "readonly")
		for _, c := range []string{"global", "workspace-1", "workspace-2"} {
			for _, p := range []string{"objects/secrets.json", "crds.json"} {
				if got := m.skipped(c, p); got != "forbidden" {
					t.Errorf("%s %s: %q, want forbidden", c, p, got)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, c, "objects", "pods.yaml")); err != nil {
				t.Errorf("%s: what the role may read is missing: %v", c, err)
			}
		}
		if m.Gaps == 0 {
			t.Errorf("no gaps in the manifest")
		}
		scanExtracted(t, dir)
	})

	t.Run("--logs with a --max-size small enough to cut stays under the bound and says what was cut", func(t *testing.T) {
		full := Skoala(t, append([]string{"bundle", "-f", bundlePath(t, "logs.zip"), "--logs", "-o", "json"}, fleetArgs...)...)
		bare := Skoala(t, append([]string{"bundle", "-f", bundlePath(t, "nologs.zip"), "-o", "json"}, fleetArgs...)...)
		if full.Code != 0 || bare.Code != 0 {
			t.Fatalf("exit %d with logs, %d without\n%s\n%s", full.Code, bare.Code, full, bare)
		}
		var fs, bs struct {
			Bytes int64 `json:"bytes"`
		}
		_ = json.Unmarshal([]byte(full.Stdout), &fs)
		_ = json.Unmarshal([]byte(bare.Stdout), &bs)
		if fs.Bytes <= bs.Bytes {
			t.Fatalf("the logs add nothing: %d bytes with, %d without", fs.Bytes, bs.Bytes)
		}
		bound := bs.Bytes + (fs.Bytes-bs.Bytes)/2
		if bound < 64<<10 {
			bound = 64 << 10
		}
		zipPath := bundlePath(t, "cut.zip")
		r := Skoala(t, append([]string{"bundle", "-f", zipPath, "--logs", "--max-size", strconv.FormatInt(bound, 10)}, fleetArgs...)...)
		if r.Code != 0 {
			t.Fatalf("exit %d\n%s", r.Code, r)
		}
		st, _ := os.Stat(zipPath)
		if st.Size() > bound {
			t.Errorf("archive of %d bytes over the bound %d", st.Size(), bound)
		}
		if !strings.Contains(r.Stdout, "cut to fit") {
			t.Errorf("the summary does not say what was cut:\n%s", r.Stdout)
		}
		dir, m := extractBundle(t, zipPath, "cut")
		if len(m.Cut) == 0 {
			t.Fatalf("nothing cut with the bound %d (full %d)", bound, fs.Bytes)
		}
		for _, c := range m.Cut {
			if !strings.Contains(c.Path, "/logs/") || c.Reason != "over the size bound" {
				t.Errorf("cut %+v: want logs, over the size bound", c)
			}
		}
		// The logs are the pods' own, served by the fleet's kwok (ClusterLogs of hack/fleet.sh).
		logs, _ := filepath.Glob(filepath.Join(dir, "*", "logs", "*", "*.log"))
		real := 0
		for _, l := range logs {
			if b, _ := os.ReadFile(l); bytes.Contains(b, []byte("fleet log line")) {
				real++
			}
		}
		if real == 0 {
			t.Errorf("no log holds the fleet's log lines (%d logs)", len(logs))
		}
		scanExtracted(t, dir)
		tailPath := bundlePath(t, "tail.zip")
		tail := Skoala(t, append([]string{"bundle", "-f", tailPath, "--logs", "--tail", "3"}, fleetArgs...)...)
		if tail.Code != 0 {
			t.Fatalf("--tail 3: exit %d\n%s", tail.Code, tail)
		}
		tdir, _ := extractBundle(t, tailPath, "tail")
		tlogs, _ := filepath.Glob(filepath.Join(tdir, "global", "logs", "*", "*.log"))
		if len(tlogs) == 0 {
			t.Fatalf("no logs with --tail 3")
		}
		for _, l := range tlogs {
			if b, _ := os.ReadFile(l); bytes.Count(b, []byte("\n")) > 3 {
				t.Errorf("%s has more than 3 lines with --tail 3", l)
			}
		}
	})

	t.Run("an interrupted bundle leaves no file under the final name", func(t *testing.T) {
		interrupted := 0
		for _, delay := range []time.Duration{300 * time.Millisecond, 700 * time.Millisecond, 1500 * time.Millisecond} {
			dir := t.TempDir()
			zipPath := filepath.Join(dir, "int.zip")
			cmd := exec.Command(fleet.Skoala, append([]string{"bundle", "-f", zipPath, "--logs"}, fleetArgs...)...)
			cmd.Env = fleet.BaseEnv(t)
			var so, se bytes.Buffer
			cmd.Stdout, cmd.Stderr = &so, &se
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(delay)
			_ = cmd.Process.Signal(syscall.SIGINT)
			err := cmd.Wait()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			}
			capture(t, Result{Args: []string{"kubectl-skoala", "bundle", "(SIGINT after " + delay.String() + ")"}, Stdout: so.String(), Stderr: se.String(), Code: code})
			entries, _ := os.ReadDir(dir)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			switch code {
			case 130:
				interrupted++
				if len(names) != 0 {
					t.Errorf("interrupted after %s: files left %v", delay, names)
				}
				if !strings.Contains(se.String(), "interrupted") {
					t.Errorf("stderr does not say interrupted: %s", se.String())
				}
			case 0:
				// Finished before the signal: the archive is whole.
				if tst := Run(t, nil, time.Minute, "unzip", "-tq", zipPath); tst.Code != 0 || len(names) != 1 {
					t.Errorf("finished bundle: %v, files %v", tst, names)
				}
			default:
				t.Errorf("after SIGINT at %s: exit %d\n%s", delay, code, se.String())
			}
		}
		if interrupted == 0 {
			t.Errorf("no run was interrupted (all finished before the signal)")
		}
	})

	t.Run("an unreachable workspace is listed as such and the other clusters are complete", func(t *testing.T) {
		stopCluster(t, "workspace-2")
		zipPath := bundlePath(t, "down.zip")
		r := Skoala(t, append([]string{"bundle", "-f", zipPath, "--timeout", "20s"}, fleetArgs...)...)
		if r.Code != 3 {
			t.Fatalf("exit %d, want 3\n%s", r.Code, r)
		}
		if !strings.Contains(r.Stdout, "unreachable") {
			t.Errorf("the summary does not show the unreachable cluster:\n%s", r.Stdout)
		}
		dir, m := extractBundle(t, zipPath, "down")
		if got := m.skipped("workspace-2", "cluster"); got != "unreachable" {
			t.Errorf("workspace-2: %q, want unreachable (%+v)", got, m.Skipped)
		}
		for _, c := range m.Clusters {
			switch c.Context {
			case "workspace-2":
				if c.Reachable {
					t.Errorf("workspace-2 reachable")
				}
			default:
				if !c.Reachable || c.Gaps != 0 || c.Files < 10 {
					t.Errorf("%s is not complete: %+v", c.Context, c)
				}
			}
		}
		for _, f := range []string{"global/releases/skoala/history.json", "workspace-1/releases/skoala-init/history.json", "status.json", "doctor.json"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("%s missing", f)
			}
		}
		scanExtracted(t, dir)
	})
}
