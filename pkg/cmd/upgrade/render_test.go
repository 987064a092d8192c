package upgrade

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/change"
	"github.com/skoala-dev/kubectl-skoala/pkg/doctor"
	"github.com/skoala-dev/kubectl-skoala/pkg/golden"
	"github.com/skoala-dev/kubectl-skoala/pkg/redact"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
	"github.com/skoala-dev/kubectl-skoala/pkg/upgrade"
)

const password = `Pa$$w0rd:@/?&=x`
const testDSN = "skoala:" + password + "@tcp(mysql.mcamel-system.svc:3306)/skoala?charset=utf8&parseTime=true&loc=Local&timeout=10s"

func baseValues() map[string]any {
	return map[string]any{
		"hive": map[string]any{"configMap": map[string]any{"database": []any{map[string]any{"driver": "mysql", "dsn": testDSN}}}},
		"ui":   map[string]any{"image": map[string]any{"tag": "v0.19.0"}},
		"sesame": map[string]any{"image": map[string]any{
			"repository": "harbor.old.example:8443/skoala/sesame"}},
		"extra": map[string]any{"image": map[string]any{"tag": "v0.20.0"}},
	}
}

func TestDiffMasksSecrets(t *testing.T) {
	old := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: hive-config\n  namespace: ns\nstringData:\n  config.yaml: |\n    dsn: " + testDSN + "\n" +
		"---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: hive\n  namespace: ns\nspec:\n  template:\n    spec:\n      containers:\n      - image: hive:v0.28.1\n        env:\n        - name: DSN\n          value: " + `"` + testDSN + `"` + "\n"
	new := strings.ReplaceAll(old, "v0.28.1", "v0.57.2") + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: added\n  namespace: ns\ndata:\n  a: b\n"
	new = strings.Replace(new, "dsn: skoala:", "dsn: skoala2:", 1)
	secrets := redact.Secrets(baseValues())
	h := redact.NewHasher()
	diffs := change.ManifestDiff(h, old, new, secrets)
	vd := change.ValuesDiff(h, baseValues(), map[string]any{"hive": map[string]any{"image": map[string]any{"tag": "v0.57.2"}}}, secrets)
	all := []change.FileDiff{vd}
	all = append(all, diffs...)
	var b bytes.Buffer
	rep := &upgrade.Report{Releases: []upgrade.ReleasePlan{{Context: "global", Release: "skoala", From: "0.28.1", To: "0.57.2", Diff: all}}, Outcome: upgrade.OutcomeDryRun, Message: "nothing was changed"}
	if err := writeDiffTo(&b, rep, render.NewPalette(&b, false)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "Pa$$w0rd") {
		t.Fatalf("the diff leaks the password:\n%s", out)
	}
	for _, want := range []string{"# ConfigMap/ns/added: added", "-        image: hive:v0.28.1", "+        image: hive:v0.57.2", "(hmac:"} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q\n%s", want, out)
		}
	}
	// issue 12 §6: a Secret's value shows as a digest keyed per run: not its plain sha256, which a reader of
	// a shared diff could compare with the digest of a guess.
	oldSecret := "dsn: " + testDSN // as the Secret holds it (its document ends with the line)
	plain := sha256.Sum256([]byte(oldSecret))
	if strings.Contains(out, hex.EncodeToString(plain[:])[:12]) || !strings.Contains(out, h.Sum(oldSecret)) {
		t.Errorf("the Secret's value is not shown as its keyed digest %s:\n%s", h.Sum(oldSecret), out)
	}
	if other := redact.NewHasher(); other.Sum(oldSecret) == h.Sum(oldSecret) {
		t.Errorf("two runs show the same digest of a secret")
	}
	golden.Assert(t, "diff.txt", digests(b.Bytes()))
	b.Reset()
	_ = writeDiffTo(&b, rep, render.NewPalette(&b, true))
	golden.Assert(t, "diff-color.txt", digests(b.Bytes()))
}

// digests replaces the keyed digests (random per run) by a placeholder, for the goldens.
func digests(b []byte) []byte {
	return regexp.MustCompile(`\(hmac:[0-9a-f]{12}\)`).ReplaceAll(b, []byte("(hmac:<per-run>)"))
}

func sampleReport() *upgrade.Report {
	return &upgrade.Report{
		Schema: upgrade.SchemaVersion, Namespace: "skoala-system", Source: "repository skoala-release (https://release.daocloud.io/chartrepo/skoala)",
		Timeout: "5m0s", Atomic: true, BackupDir: "/home/op/.config/kubectl-skoala/backups", Outcome: upgrade.OutcomePlanned,
		Releases: []upgrade.ReleasePlan{
			{Context: "global", Role: "control-plane", Release: "skoala", Chart: "skoala", From: "0.28.1", FromRevision: 2, Status: "deployed", To: "0.57.2", Action: upgrade.ActionUpgrade,
				ImageTags: []upgrade.ImageTag{{Component: "hive", Key: "hive.image.tag", Tag: "v0.57.2"}, {Component: "sesame", Key: "sesame.image.tag", Tag: "v0.57.2"}},
				Overrides: []upgrade.Override{{Key: "hive.image.tag", Value: "v0.57.2", Reason: "image tag"}, {Key: "global.imageRegistry", Value: "10.16.23.145", Reason: "--image-registry"}},
				Dropped:   []upgrade.Override{{Key: upgrade.UITagKey, Value: "v0.19.0", Reason: "pinned UI tag goes stale"}},
				Steps: []upgrade.Step{{Kind: upgrade.StepBackup, Description: "back up the values of revision 2 to /b", Automated: true},
					{Kind: upgrade.StepHelm, Description: "helm upgrade skoala to skoala 0.57.2 (atomic, wait 5m0s, cleanup-on-fail)", Automated: true},
					{Kind: upgrade.StepVerify, Description: "verify that every component is ready and that hive, sesame run v0.57.2", Automated: true}},
				Manual: []upgrade.Step{{Kind: "db-migration", Description: "crossing 0.19.0 needs the sweet DB-upgrade job", Mandatory: true, Command: "kubectl apply -f job.yaml"}},
				Result: &upgrade.Result{Outcome: upgrade.OutcomeUpgraded, Revision: 3, Backups: []string{"/b/global_skoala-system_skoala_r2.yaml"}, Duration: "12s"}},
			{Context: "workspace-1", Role: "workspace", Release: "skoala-init", Chart: "skoala-init", From: "0.28.1", FromRevision: 1, Status: "pending-upgrade", To: "0.57.2", Action: upgrade.ActionRefused,
				Reason: "revision 1 is pending-upgrade and no kubectl-skoala upgrade left it", Hint: "helm rollback", Steps: []upgrade.Step{},
				Result: &upgrade.Result{Outcome: upgrade.OutcomeRolledBack, Revision: 4, Error: "upgrade of skoala-init: release failed, and has been rolled back", Done: []string{"backup", "admission-jobs"}}},
			{Context: "workspace-2", Role: "workspace", Release: "skoala-init", Chart: "skoala-init", Status: "not-installed", To: "0.57.2", Action: upgrade.ActionInstall, Steps: []upgrade.Step{},
				Warnings: []string{"the saved values pin x.image.tag=v1"}, Result: &upgrade.Result{Outcome: upgrade.OutcomeNotStarted}},
		},
		Preflight: &upgrade.PreflightResult{Ran: true, Failed: true, Forced: true, Checks: []upgrade.PreflightCheck{
			{Result: doctor.Result{ID: "cp.database", Cluster: "global", Status: doctor.StatusFail, Message: "cannot connect", Hint: "check the DSN"}},
			{Result: doctor.Result{ID: "ws.release", Cluster: "workspace-1", Status: doctor.StatusFail, Message: "skoala-init is failed"}, Repaired: true},
			{Result: doctor.Result{ID: "ws.jobs", Cluster: "workspace-2", Status: doctor.StatusWarn, Message: "leftover Jobs"}},
		}},
		Message: "workspace-1/skoala-init: rolled back", Hint: "see status", Warnings: []string{"lock not released"},
	}
}

func TestRender(t *testing.T) {
	rep := sampleReport()
	var plain, color, res, js, ym bytes.Buffer
	if err := writePlanTo(&plain, rep, render.NewPalette(&plain, false)); err != nil {
		t.Fatal(err)
	}
	_ = writePlanTo(&color, rep, render.NewPalette(&color, true))
	_ = writeResultTo(&res, rep, render.NewPalette(&res, false))
	_ = render.WriteJSON(&js, rep)
	_ = render.WriteYAML(&ym, rep)
	golden.Assert(t, "plan.txt", plain.Bytes())
	golden.Assert(t, "plan-color.txt", color.Bytes())
	golden.Assert(t, "result.txt", res.Bytes())
	golden.Assert(t, "report.json", js.Bytes())
	golden.Assert(t, "report.yaml", ym.Bytes())
}

func TestWritePlanOfADryRunPrintsTheReportWarnings(t *testing.T) {
	r := &upgrade.Report{Outcome: upgrade.OutcomeDryRun, Message: "nothing was changed", Releases: []upgrade.ReleasePlan{},
		Warnings: []string{"could not refresh the index of skoala-release, using the cached one: 500"}}
	var b bytes.Buffer
	if err := writePlanTo(&b, r, render.NewPalette(&b, false)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "warning: could not refresh the index of skoala-release") {
		t.Fatalf("the plan of a dry run hides the warning:\n%s", b.String())
	}
}

func TestPreflightLine(t *testing.T) {
	for _, c := range []struct {
		check upgrade.PreflightCheck
		want  string
	}{
		{upgrade.PreflightCheck{Result: doctor.Result{ID: "ws.release", Cluster: "ws1", Status: doctor.StatusFail, Message: "failed"}, Repaired: true},
			"note  [ws1] ws.release: failed (the upgrade repairs this)"},
		{upgrade.PreflightCheck{Result: doctor.Result{ID: "ws.release", Cluster: "ws2", Status: doctor.StatusFail, Message: "failed", Hint: "h"}},
			"FAIL  [ws2] ws.release: failed (hint: h)"},
		{upgrade.PreflightCheck{Result: doctor.Result{ID: "cp.x", Cluster: "global", Status: doctor.StatusFail, Message: "bad"}},
			"FAIL  [global] cp.x: bad"},
		{upgrade.PreflightCheck{Result: doctor.Result{ID: "x.y", Status: doctor.StatusWarn, Message: "w"}}, "warn  [fleet] x.y: w"},
	} {
		if got := preflightLine(c.check); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}
