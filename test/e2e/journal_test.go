package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// journalBudget is pkg/journal.Budget: the size the journal's document stays under.
const journalBudget = 768 << 10

// TestJournalCorruptAndAtItsBudget (issue 24 §3), on one release of the control plane:
//   - a journal that does not decode (garbage written with kubectl): rollback exits 1, names --run,
//     --to-revision and --from-backup, and leaves it as it is; the next upgrade keeps the garbage under
//     another name (never overwritten) and records its run in a new journal that names it;
//   - a journal at its size budget (20 runs of 100 releases, as a fleet of 100 clusters writes): the next
//     upgrade is recorded, as the newest run, and the ConfigMap stays under the budget.
func TestJournalCorruptAndAtItsBudget(t *testing.T) {
	ns := freshNamespace(t, "journal")
	installSkoala(t, "global", ns, "0.28.1")
	cm := func(args ...string) Result {
		return MustKubectl(t, append([]string{"--context", "global", "-n", ns}, args...)...)
	}
	garbage := `{"schema":"skoala.journal/v1","runs":[{"id":"20261201T090000Z-abc123","kind":"upgrade"` // cut mid-write
	cm("create", "configmap", "kubectl-skoala-journal", "--from-literal=runs.json="+garbage)

	t.Run("rollback refuses a journal that does not decode", func(t *testing.T) {
		r := Skoala(t, "rollback", "-n", ns, "--backup-dir", t.TempDir(), "--yes")
		if r.Code != 1 || !strings.Contains(r.Stderr, "does not decode") {
			t.Fatalf("rollback exit %d, want 1 naming the journal\n%s", r.Code, r)
		}
		for _, want := range []string{"--run", "--to-revision", "--from-backup"} {
			if !strings.Contains(r.Stderr, want) {
				t.Errorf("rollback's error does not name %s\n%s", want, r.Stderr)
			}
		}
		if got := cm("get", "configmap", "kubectl-skoala-journal", "-o", `jsonpath={.data.runs\.json}`).Stdout; got != garbage {
			t.Errorf("rollback changed the corrupt journal: %q", got)
		}
	})

	t.Run("the next upgrade keeps it under another name", func(t *testing.T) {
		up := Run(t, nil, 4*time.Minute, fleet.Skoala, "upgrade", "-n", ns, "--version", "0.33.2", "--backup-dir", t.TempDir(), "--timeout", "2m", "--yes")
		if up.Code != 0 {
			t.Fatalf("upgrade exit %d\n%s", up.Code, up)
		}
		kept := ""
		for _, name := range strings.Fields(cm("get", "configmaps", "-o", `jsonpath={.items[*].metadata.name}`).Stdout) {
			if strings.HasPrefix(name, "kubectl-skoala-journal-corrupt-") {
				kept = name
			}
		}
		if kept == "" {
			t.Fatal("no kubectl-skoala-journal-corrupt-* ConfigMap keeps the corrupt journal")
		}
		if got := cm("get", "configmap", kept, "-o", `jsonpath={.data.runs\.json}`).Stdout; got != garbage {
			t.Errorf("%s holds %q, not the corrupt journal", kept, got)
		}
		runs := journalRuns(t, ns)
		if len(runs) != 1 || runs[0].Kind != "upgrade" || runs[0].Target != "0.33.2" {
			t.Errorf("the new journal: %+v", runs)
		}
		if doc := cm("get", "configmap", "kubectl-skoala-journal", "-o", `jsonpath={.data.runs\.json}`).Stdout; !strings.Contains(doc, kept) {
			t.Errorf("the new journal does not name %s", kept)
		}
	})

	t.Run("a journal at its budget records the next run and stays under it", func(t *testing.T) {
		seed := seededJournal(t, 20, 100)
		file := filepath.Join(t.TempDir(), "runs.json")
		if err := os.WriteFile(file, seed, 0o600); err != nil {
			t.Fatal(err)
		}
		cm("delete", "configmap", "kubectl-skoala-journal")
		cm("create", "configmap", "kubectl-skoala-journal", "--from-file=runs.json="+file)
		up := Run(t, nil, 4*time.Minute, fleet.Skoala, "upgrade", "-n", ns, "--version", "0.57.2", "--backup-dir", t.TempDir(), "--timeout", "2m", "--yes")
		if up.Code != 0 {
			t.Fatalf("upgrade exit %d\n%s", up.Code, up)
		}
		doc := cm("get", "configmap", "kubectl-skoala-journal", "-o", `jsonpath={.data.runs\.json}`).Stdout
		if len(doc) > journalBudget {
			t.Errorf("the journal is %d bytes, over its budget of %d", len(doc), journalBudget)
		}
		runs := journalRuns(t, ns)
		if len(runs) < 2 || runs[0].Kind != "upgrade" || runs[0].Target != "0.57.2" || runs[0].Outcome != "upgraded" || runs[1].ID != "20261130T190000Z-seed19" {
			first := journalRunJSON{}
			if len(runs) > 0 {
				first = runs[0]
			}
			t.Fatalf("the upgrade is not the newest run, after the newest seeded one: %d runs, first %s %s to %s: %s", len(runs), first.ID, first.Kind, first.Target, first.Outcome)
		}
		if strings.Contains(up.Stderr+up.Stdout, "journal was not") {
			t.Errorf("the upgrade warns about the journal\n%s", up)
		}
	})
}

// seededJournal is a journal of n runs of m releases each (the pre-sequence format: no seq), compact,
// under the 1 MiB a ConfigMap holds (over it as the journal wrote it before, indented); one release in five
// of each run was left as it was.
func seededJournal(t *testing.T, n, m int) []byte {
	t.Helper()
	type rel struct {
		Context      string   `json:"context"`
		Role         string   `json:"role"`
		Release      string   `json:"release"`
		Chart        string   `json:"chart"`
		FromRevision int      `json:"fromRevision"`
		FromVersion  string   `json:"fromVersion"`
		FromStatus   string   `json:"fromStatus"`
		ToRevision   int      `json:"toRevision,omitempty"`
		ToVersion    string   `json:"toVersion,omitempty"`
		Outcome      string   `json:"outcome"`
		Steps        []string `json:"steps,omitempty"`
		Backup       string   `json:"backup,omitempty"`
	}
	type run struct {
		ID       string    `json:"id"`
		Kind     string    `json:"kind"`
		Who      string    `json:"who"`
		Host     string    `json:"host"`
		Tool     string    `json:"tool"`
		Started  time.Time `json:"started"`
		Updated  time.Time `json:"updated"`
		Finished time.Time `json:"finished"`
		Target   string    `json:"target"`
		Outcome  string    `json:"outcome"`
		UndoneBy string    `json:"undoneBy,omitempty"`
		Releases []rel     `json:"releases"`
	}
	doc := struct {
		Schema string `json:"schema"`
		Runs   []run  `json:"runs"`
	}{Schema: "skoala.journal/v1"}
	at := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	for i := n - 1; i >= 0; i-- {
		start := at.Add(time.Duration(i) * time.Hour)
		r := run{ID: fmt.Sprintf("%s-seed%02d", start.Format("20060102T150405Z"), i), Kind: "upgrade", Who: "system:serviceaccount:ops:deployer", Host: "jump-host-01.example",
			Tool: "v0.9.0", Started: start, Updated: start.Add(time.Hour), Finished: start.Add(time.Hour), Target: "0.28.1", Outcome: "upgraded", UndoneBy: "seeded"}
		for k := 0; k < m; k++ {
			c := fmt.Sprintf("workspace-%03d", k)
			jr := rel{Context: c, Role: "workspace", Release: "skoala-init", Chart: "skoala-init", FromRevision: 7, FromVersion: "0.19.0", FromStatus: "deployed", Outcome: "up-to-date"}
			if k%5 != 4 {
				jr.ToRevision, jr.ToVersion, jr.Outcome = 8, "0.28.1", "upgraded"
				jr.Steps = []string{"backup", "admission-jobs", "crds:charts/contour-provisioner/crds/higress.gen.yaml,charts/sentinel/crds/sentinel.gen.yaml", "helm", "verify"}
				jr.Backup = "/home/operator/.config/kubectl-skoala/backups/" + c + "_skoala-system_skoala-init_r7_skoala-init-0.19.0_20261130T000000Z.yaml"
			}
			r.Releases = append(r.Releases, jr)
		}
		doc.Runs = append(doc.Runs, r)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) <= journalBudget || len(b) >= 1<<20-4096 {
		t.Fatalf("the seeded journal is %d bytes: want over the budget (%d) and under 1 MiB", len(b), journalBudget)
	}
	return b
}
