package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/skoala-dev/kubectl-skoala/test/eventschema"
)

// wavesDSN is the hive DSN of the waves' fleet: its password is a canary of the secret scanner, which finds
// it in the DSN literal below (zz_secrets_test.go's plantedDSNLiteral), passed on the command line of the runs.
func wavesDSN(ns string) string {
	return "skoala:W4ves-Canary-Pw@tcp(mcamel-common-mysql-cluster-mysql-master." + ns + ".svc.cluster.local:3306)/skoala?charset=utf8&parseTime=true&loc=Local&timeout=10s"
}

const wavesDSNPassword = "W4ves-Canary-Pw"

var wavesWorkspaces = []string{"workspace-1", "workspace-2", "workspace-3"}

// revision is one Helm revision of a release: when Helm began it (helm history's `updated`, nanoseconds)
// and when its record was last written (the newest time of the release Secret's managedFields, whole
// seconds: the end of the operation, when Helm marked it deployed or failed; a later revision that
// supersedes it writes it again, so it is read right after the run). The Secret's modifiedAt label is no
// clock: the Helm 4 SDK carries it over from the previous revision.
type revision struct {
	Context, Release string
	Revision         int
	Status, Chart    string
	Start, End       time.Time
}

func (r revision) String() string {
	return fmt.Sprintf("%s/%s r%d %s %s [%s .. %s]", r.Context, r.Release, r.Revision, r.Chart, r.Status,
		r.Start.UTC().Format("15:04:05.000"), r.End.UTC().Format("15:04:05"))
}

// helmRevisionTimes reads the newest revision of a release with the real helm CLI and its record's last write.
func helmRevisionTimes(t *testing.T, kubeContext, ns, release string) revision {
	t.Helper()
	r := MustHelm(t, "history", release, "--kube-context", kubeContext, "-n", ns, "-o", "json", "--max", "1")
	var h []struct {
		Revision int       `json:"revision"`
		Updated  time.Time `json:"updated"`
		Status   string    `json:"status"`
		Chart    string    `json:"chart"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &h); err != nil || len(h) != 1 {
		t.Fatalf("helm history of %s/%s: %v\n%s", kubeContext, release, err, r)
	}
	s := MustKubectl(t, "--context", kubeContext, "-n", ns, "get", "secret", fmt.Sprintf("sh.helm.release.v1.%s.v%d", release, h[0].Revision),
		"-o", "json", "--show-managed-fields")
	var sec struct {
		Metadata struct {
			ManagedFields []struct {
				Time time.Time `json:"time"`
			} `json:"managedFields"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal([]byte(s.Stdout), &sec); err != nil || len(sec.Metadata.ManagedFields) == 0 {
		t.Fatalf("%s/%s r%d: the release Secret has no managedFields (%v)", kubeContext, release, h[0].Revision, err)
	}
	var end time.Time
	for _, m := range sec.Metadata.ManagedFields {
		if m.Time.After(end) {
			end = m.Time
		}
	}
	return revision{Context: kubeContext, Release: release, Revision: h[0].Revision, Status: h[0].Status,
		Chart: h[0].Chart, Start: h[0].Updated, End: end}
}

// wavesFleet is the fleet of the waves test: skoala on global, skoala-init on workspace-1..3.
type wavesFleet struct {
	ns      string
	backups string
	schema  *eventschema.Validator
	needles []needle
}

func (w *wavesFleet) releaseOf(kubeContext string) string {
	if kubeContext == "global" {
		return "skoala"
	}
	return "skoala-init"
}

// all reads the newest revision of every release of the fleet, by context.
func (w *wavesFleet) all(t *testing.T) map[string]revision {
	t.Helper()
	out := map[string]revision{}
	var mu sync.Mutex
	var fns []func()
	for _, c := range append([]string{"global"}, wavesWorkspaces...) {
		fns = append(fns, func() {
			r := helmRevisionTimes(t, c, w.ns, w.releaseOf(c))
			mu.Lock()
			out[c] = r
			mu.Unlock()
		})
	}
	inParallel(t, 0, fns...)
	return out
}

// want fails unless each named context's newest revision is deployed at version.
func (w *wavesFleet) want(t *testing.T, revs map[string]revision, version string, contexts ...string) {
	t.Helper()
	for _, c := range contexts {
		r := revs[c]
		if r.Status != "deployed" || r.Chart != w.releaseOf(c)+"-"+version {
			t.Errorf("%s: want deployed %s-%s", r, w.releaseOf(c), version)
		}
	}
}

// same fails unless each named context's newest revision is the one it was.
func same(t *testing.T, before, after map[string]revision, contexts ...string) {
	t.Helper()
	for _, c := range contexts {
		if after[c].Revision != before[c].Revision {
			t.Errorf("%s got another revision: %s, was %s", c, after[c], before[c])
		}
	}
}

// endsBefore fails unless every release of first ended before every release of then began (Helm's times;
// the end is known to the second, so a start within the second of an end passes).
func endsBefore(t *testing.T, first, then []revision) {
	t.Helper()
	for _, a := range first {
		for _, b := range then {
			if a.End.After(b.Start) {
				t.Errorf("%s ended after %s began", a, b)
			}
		}
	}
}

// overlap fails unless a and b were in flight at the same time.
func overlap(t *testing.T, a, b revision) {
	t.Helper()
	if !a.Start.Before(b.End) || !b.Start.Before(a.End) {
		t.Errorf("%s and %s did not run at the same time", a, b)
	}
}

// events validates an event file against docs/events-v1.schema.json and scans it for every planted password.
// complete is false for a run that was killed (no done event).
func (w *wavesFleet) events(t *testing.T, path string, complete bool) []eventschema.Event {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the event stream: %v", err)
	}
	if hits := scanBytes(path, data, 0, w.needles); len(hits) > 0 {
		t.Errorf("the event stream holds a password: %v", hits)
	}
	var evs []eventschema.Event
	if complete {
		evs, err = w.schema.Stream(strings.NewReader(string(data)))
	} else {
		evs, err = w.schema.Lines(strings.NewReader(string(data)))
	}
	if err != nil {
		t.Fatalf("%s does not validate against %s: %v", path, eventschema.SchemaFile, err)
	}
	return evs
}

// resume runs an upgrade --resume command (two at a time, events to ev) and wants it to end well and to
// continue run.
func (w *wavesFleet) resume(t *testing.T, args []string, ev, run string) []eventschema.Event {
	t.Helper()
	r := Skoala(t, append(args, "--max-parallel", "2", "--timeout", "2m", "--yes", "--events", ev)...)
	noSecret(t, r)
	if r.Code != 0 {
		t.Fatalf("the resumed run exited %d, want 0\n%s", r.Code, r)
	}
	evs := w.events(t, ev, true)
	checkDone(t, evs, 0)
	if got := runOf(t, evs); got != run {
		t.Errorf("the resumed run's events name run %s, want %s", got, run)
	}
	return evs
}

// runOf is the run id of a stream.
func runOf(t *testing.T, evs []eventschema.Event) string {
	t.Helper()
	for _, e := range evs {
		if e.Run != "" {
			return e.Run
		}
	}
	t.Fatal("no event names the run")
	return ""
}

// of returns the events of a type (and, when context is not "", of that context).
func of(evs []eventschema.Event, typ, context string) []eventschema.Event {
	var out []eventschema.Event
	for _, e := range evs {
		if e.Type == typ && (context == "" || e.Context == context) {
			out = append(out, e)
		}
	}
	return out
}

// checkDone fails unless the stream ends with the exit code the process exited with.
func checkDone(t *testing.T, evs []eventschema.Event, code int) eventschema.Event {
	t.Helper()
	d := evs[len(evs)-1]
	if d.ExitCode == nil || *d.ExitCode != code {
		t.Errorf("done event %+v, the process exited %d", d, code)
	}
	return d
}

// noSecret fails when a run printed the DSN's password.
func noSecret(t *testing.T, r Result) {
	t.Helper()
	if strings.Contains(r.Stdout+r.Stderr, wavesDSNPassword) {
		t.Errorf("the DSN password was printed:\n%s", r)
	}
}

// resumeCommand is the arguments of the 'kubectl skoala upgrade ... --resume RUN' command that status printed
// for run (the form the operator copies), without 'kubectl skoala'.
func resumeCommand(t *testing.T, status Result, run string) []string {
	t.Helper()
	m := regexp.MustCompile(`kubectl skoala (upgrade [^'"\n]*--resume[ =]` + regexp.QuoteMeta(run) + `)`).FindStringSubmatch(status.Stdout + status.Stderr)
	if m == nil {
		t.Fatalf("status names no 'kubectl skoala upgrade ... --resume %s' to continue the run:\n%s", run, status)
	}
	return strings.Fields(m[1])
}

// cordon makes new pods of a cluster unschedulable (its one kwok node), until the returned func runs.
func cordon(t *testing.T, kubeContext string) func() {
	t.Helper()
	MustKubectl(t, "--context", kubeContext, "cordon", "kwok-node-0")
	done := false
	undo := func() {
		if !done {
			done = true
			MustKubectl(t, "--context", kubeContext, "uncordon", "kwok-node-0")
		}
	}
	t.Cleanup(func() {
		if !done {
			_ = exec.Command("kubectl", "--kubeconfig", fleet.Kubeconfig, "--context", kubeContext, "uncordon", "kwok-node-0").Run()
		}
	})
	return undo
}

// TestWaves is issue 22's fleet rollout on a control plane and three workspaces, one sequence on one set of
// releases (skoala on global, skoala-init on workspace-1..3, all 0.28.1):
//  1. --canary workspace-1 --max-parallel 2 to 0.33.2: global, then workspace-1, then workspaces 2 and 3 at once
//  2. to 0.35.0 with the canary's node cordoned: the canary rolls back, workspaces 2 and 3 stay at 0.33.2
//  3. --pause-after-canary to 0.35.0, then --resume: the rest follows
//  4. to 0.57.2, SIGKILL while workspace-3 (cordoned) waits in the second wave, then --resume
//  5. rollback of that run with --max-parallel 2: the workspaces, then the control plane
//
// Each run writes --events into the capture directory: it validates against docs/events-v1.schema.json and
// holds no password (here, and in the secret scanner at the end of the suite).
func TestWaves(t *testing.T) {
	if len(fleet.Clusters) < 4 {
		t.Fatalf("this test needs the fleet of CLUSTERS=4 (global, workspace-1..3), got %v", fleet.Clusters)
	}
	v, err := eventschema.Load(filepath.Join(fleet.Root, eventschema.SchemaFile))
	if err != nil {
		t.Fatal(err)
	}
	w := &wavesFleet{ns: freshNamespace(t, "waves"), backups: t.TempDir(), schema: v, needles: needles(plantedSecrets(t))}
	ns := w.ns
	fns := []func(){func() {
		InstallChart(t, "global", ns, "common-mysql", "common-mysql", "1.0.0")
		InstallChart(t, "global", ns, "skoala", "skoala", "0.28.1", "--set", "hive.configMap.database[0].driver=mysql",
			"--set-string", "hive.configMap.database[0].dsn="+strings.ReplaceAll(wavesDSN(ns), ",", `\,`))
	}}
	for _, c := range wavesWorkspaces {
		fns = append(fns, func() { InstallChart(t, c, ns, "skoala-init", "skoala-init", "0.28.1") })
	}
	inParallel(t, 0, fns...)
	fleetArgs := []string{"-n", ns, "-w", strings.Join(wavesWorkspaces, ","), "--backup-dir", w.backups}
	upgrade := func(events string, args ...string) []string {
		return append(append([]string{"upgrade"}, fleetArgs...), append(args, "--events", events)...)
	}
	step := func(name string, f func(t *testing.T)) {
		start := time.Now()
		ok := t.Run(name, f)
		t.Logf("%s: %s", name, time.Since(start).Round(100*time.Millisecond))
		if !ok {
			t.FailNow()
		}
	}

	step("canary, then workspaces 2 and 3 at once", func(t *testing.T) {
		ev := writtenDir(t, "events.jsonl")
		r := Skoala(t, upgrade(ev, "--version", "0.33.2", "--canary", "workspace-1", "--max-parallel", "2", "--db-dsn", wavesDSN(ns), "--timeout", "2m", "--yes")...)
		noSecret(t, r)
		if r.Code != 0 {
			t.Fatalf("exit %d, want 0\n%s", r.Code, r)
		}
		revs := w.all(t)
		w.want(t, revs, "0.33.2", "global", "workspace-1", "workspace-2", "workspace-3")
		for c, rev := range revs {
			if rev.Revision != 2 {
				t.Errorf("%s: want revision 2", rev)
			}
			t.Logf("%s: %s", c, rev)
		}
		endsBefore(t, []revision{revs["global"]}, []revision{revs["workspace-1"]})
		endsBefore(t, []revision{revs["workspace-1"]}, []revision{revs["workspace-2"], revs["workspace-3"]})
		overlap(t, revs["workspace-2"], revs["workspace-3"])

		evs := w.events(t, ev, true)
		checkDone(t, evs, 0)
		wantWave := map[string]int{"global": 0, "workspace-1": 1, "workspace-2": 2, "workspace-3": 2}
		plans := of(evs, "plan", "")
		if len(plans) != 4 {
			t.Errorf("%d plan events, want 4: %+v", len(plans), plans)
		}
		for _, p := range plans {
			if p.Wave == nil || *p.Wave != wantWave[p.Context] || p.ToVersion != "0.33.2" || p.FromRevision != 1 {
				t.Errorf("plan event %+v: want wave %d, 0.33.2 from revision 1", p, wantWave[p.Context])
			}
		}
		var waves []string
		for _, e := range of(evs, "wave", "") {
			waves = append(waves, fmt.Sprintf("%d:%d", *e.Wave, e.Releases))
		}
		if strings.Join(waves, " ") != "0:1 1:1 2:2" {
			t.Errorf("wave events (wave:releases) %v, want 0:1 1:1 2:2", waves)
		}
		for c := range wantWave {
			if d := of(evs, "release-done", c); len(d) != 1 || d[0].Outcome != "upgraded" || d[0].ToRevision != 2 {
				t.Errorf("%s: release-done events %+v, want one upgraded to revision 2", c, d)
			}
			if len(of(evs, "wait", c)) == 0 || len(of(evs, "backup", c)) != 1 || len(of(evs, "helm-start", c)) != 1 {
				t.Errorf("%s: no wait, backup or helm-start event", c)
			}
		}
	})

	step("a canary whose rollout fails leaves workspaces 2 and 3 as they were", func(t *testing.T) {
		before := w.all(t)
		uncordon := cordon(t, "workspace-1")
		ev := writtenDir(t, "events.jsonl")
		r := Skoala(t, upgrade(ev, "--version", "0.35.0", "--canary", "workspace-1", "--max-parallel", "2", "--db-dsn", wavesDSN(ns), "--timeout", "15s", "--yes")...)
		uncordon()
		noSecret(t, r)
		evs := w.events(t, ev, true)
		done := checkDone(t, evs, r.Code)
		canary := of(evs, "release-done", "workspace-1")
		if len(canary) != 1 {
			t.Fatalf("the canary's release-done events: %+v\n%s", canary, r)
		}
		// docs/output.md: a release rolled back exits 3, one whose wait timed out (not rolled back) 124.
		wantCode := map[string]int{"rolled-back": 3, "timed-out": 124}[canary[0].Outcome]
		if wantCode == 0 || r.Code != wantCode || done.Outcome != canary[0].Outcome {
			t.Fatalf("exit %d, canary outcome %q, run outcome %q: want rolled-back (3) or timed-out (124) for both\n%s", r.Code, canary[0].Outcome, done.Outcome, r)
		}
		after := w.all(t)
		w.want(t, after, "0.35.0", "global")
		same(t, before, after, "workspace-2", "workspace-3")
		w.want(t, after, "0.33.2", "workspace-2", "workspace-3")
		if canary[0].Outcome == "rolled-back" {
			w.want(t, after, "0.33.2", "workspace-1")
		}
		for _, c := range []string{"workspace-2", "workspace-3"} {
			if n := len(of(evs, "helm-start", c)) + len(of(evs, "jobs", c)) + len(of(evs, "crds", c)); n != 0 {
				t.Errorf("%s: %d jobs/crds/helm-start events after the canary failed", c, n)
			}
			for _, d := range of(evs, "release-done", c) {
				if d.Outcome == "upgraded" {
					t.Errorf("%s: %+v after the canary failed", c, d)
				}
			}
		}
	})

	var pausedRun string
	step("--pause-after-canary, then --resume", func(t *testing.T) {
		before := w.all(t)
		ev := writtenDir(t, "events-paused.jsonl")
		r := Skoala(t, upgrade(ev, "--version", "0.35.0", "--canary", "workspace-1", "--pause-after-canary", "--max-parallel", "2", "--timeout", "2m", "--yes")...)
		noSecret(t, r)
		if r.Code != 0 {
			t.Fatalf("the paused run exited %d, want 0\n%s", r.Code, r)
		}
		evs := w.events(t, ev, true)
		checkDone(t, evs, 0)
		pausedRun = runOf(t, evs)
		if p := of(evs, "pause", ""); len(p) != 1 || !strings.Contains(p[0].Message, "--resume") || !strings.Contains(p[0].Message, pausedRun) {
			t.Errorf("pause events %+v, want one saying how to continue (--resume %s)", p, pausedRun)
		}
		if !strings.Contains(r.Stdout+r.Stderr, "--resume") {
			t.Errorf("the paused run does not say how to continue:\n%s", r)
		}
		mid := w.all(t)
		w.want(t, mid, "0.35.0", "global", "workspace-1")
		same(t, before, mid, "global", "workspace-2", "workspace-3")

		s := Skoala(t, append([]string{"status"}, fleetArgs[:4]...)...)
		if !strings.Contains(s.Stdout+s.Stderr, "paused") {
			t.Errorf("status does not show the paused run:\n%s", s)
		}
		// The command status gives to continue, run as given (plus where the backups and events go).
		ev = writtenDir(t, "events-resumed.jsonl")
		evs = w.resume(t, append(resumeCommand(t, s, pausedRun), "--backup-dir", w.backups), ev, pausedRun)
		after := w.all(t)
		w.want(t, after, "0.35.0", "global", "workspace-1", "workspace-2", "workspace-3")
		same(t, mid, after, "global", "workspace-1")
		for _, c := range []string{"global", "workspace-1"} {
			if n := len(of(evs, "helm-start", c)); n != 0 {
				t.Errorf("%s: the resumed run started helm %d times on a release the paused run had done", c, n)
			}
		}
	})

	var killedRun string
	step("SIGKILL in the second wave, then --resume", func(t *testing.T) {
		uncordon := cordon(t, "workspace-3")
		ev := writtenDir(t, "events-killed.jsonl")
		args := upgrade(ev, "--version", "0.57.2", "--canary", "workspace-1", "--max-parallel", "2", "--db-dsn", wavesDSN(ns), "--timeout", "2m", "--yes")
		run := startSkoala(t, args...)
		// Kill once workspace-2 is done and workspace-3 waits for its pods (the node is cordoned).
		var atKill map[string]revision
		deadline := time.Now().Add(2 * time.Minute)
		for {
			if run.ended() {
				t.Fatalf("the run ended before the second wave was in flight\n%s", run.wait(t))
			}
			ws2 := helmRevisionTimes(t, "workspace-2", ns, "skoala-init")
			ws3 := helmRevisionTimes(t, "workspace-3", ns, "skoala-init")
			if ws2.Status == "deployed" && ws2.Chart == "skoala-init-0.57.2" && ws3.Status == "pending-upgrade" {
				atKill = w.all(t)
				break
			}
			if time.Now().After(deadline) {
				run.signal(syscall.SIGKILL)
				t.Fatalf("workspace-2 done and workspace-3 pending never happened: %s, %s\n%s", ws2, ws3, run.wait(t))
			}
			time.Sleep(300 * time.Millisecond)
		}
		run.signal(syscall.SIGKILL)
		noSecret(t, run.wait(t))
		uncordon()
		w.want(t, atKill, "0.57.2", "global", "workspace-1", "workspace-2")
		evs := w.events(t, ev, false)
		killedRun = runOf(t, evs)

		// --resume alone: the newest paused, failed or killed run, which is the killed one.
		ev = writtenDir(t, "events-resumed.jsonl")
		evs = w.resume(t, append(append([]string{"upgrade"}, fleetArgs...), "--resume"), ev, killedRun)
		after := w.all(t)
		w.want(t, after, "0.57.2", "global", "workspace-1", "workspace-2", "workspace-3")
		same(t, atKill, after, "global", "workspace-1", "workspace-2")
		for _, c := range []string{"global", "workspace-1", "workspace-2"} {
			if n := len(of(evs, "helm-start", c)); n != 0 {
				t.Errorf("%s: the resumed run started helm %d times on a release done before the kill", c, n)
			}
		}
		if d := of(evs, "release-done", "workspace-3"); len(d) != 1 || d[0].Outcome != "upgraded" {
			t.Errorf("workspace-3: release-done events %+v, want one upgraded", d)
		}
	})

	step("rollback of that run, the workspaces before the control plane", func(t *testing.T) {
		// The stream on stdout this time (--events - -o jsonl): stdout holds the events and nothing else.
		r := Skoala(t, append(append([]string{"rollback"}, fleetArgs...), "--run", killedRun, "--max-parallel", "2", "--timeout", "2m", "--yes", "--events", "-", "-o", "jsonl")...)
		noSecret(t, r)
		if r.Code != 0 {
			t.Fatalf("rollback exited %d, want 0\n%s", r.Code, r)
		}
		ev := writtenDir(t, "events.jsonl")
		if err := os.WriteFile(ev, []byte(r.Stdout), 0o644); err != nil {
			t.Fatal(err)
		}
		after := w.all(t)
		w.want(t, after, "0.35.0", "global", "workspace-1", "workspace-2", "workspace-3")
		endsBefore(t, []revision{after["workspace-1"], after["workspace-2"], after["workspace-3"]}, []revision{after["global"]})
		for c, rev := range after {
			t.Logf("%s: %s", c, rev)
		}
		evs := w.events(t, ev, true)
		checkDone(t, evs, 0)
		for _, e := range evs {
			if e.Verb != "rollback" {
				t.Fatalf("an event of verb %q in the rollback's stream", e.Verb)
			}
		}
		for _, c := range append([]string{"global"}, wavesWorkspaces...) {
			if d := of(evs, "release-done", c); len(d) != 1 {
				t.Errorf("%s: release-done events %+v, want one", c, d)
			}
		}
	})
}

// TestWavesBadFlags: the flag mistakes of waves are usage errors (exit 2) before any cluster is touched.
func TestWavesBadFlags(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"upgrade", "--pause-after-canary"}, "--pause-after-canary needs --canary"},
		{[]string{"upgrade", "--max-parallel", "0"}, "--max-parallel must be at least 1"},
		{[]string{"upgrade", "--max-failures", "-1"}, "--max-failures must not be negative"},
		{[]string{"upgrade", "--events", "-"}, "-o jsonl"},
		{[]string{"rollback", "--max-parallel", "0"}, "--max-parallel must be at least 1"},
		{[]string{"rollback", "--events", "-"}, "-o jsonl"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := Skoala(t, append(c.args, "--yes")...)
			if r.Code != 2 || !strings.Contains(r.Stderr, c.want) || strings.Contains(r.Stderr, "unknown flag") || r.Stdout != "" {
				t.Errorf("exit %d, want 2, nothing on stdout and %q on stderr\n%s", r.Code, c.want, r)
			}
		})
	}
}
