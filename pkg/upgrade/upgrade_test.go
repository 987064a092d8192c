package upgrade

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/doctor"
	"github.com/skoala-dev/kubectl-skoala/pkg/golden"
	"github.com/skoala-dev/kubectl-skoala/pkg/product"
	"github.com/skoala-dev/kubectl-skoala/pkg/redact"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
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

func TestNewValues(t *testing.T) {
	t.Run("sets the image tags and drops a pinned ui tag", func(t *testing.T) {
		r, err := NewValues(ValuesInput{Chart: ChartSkoala, Version: "0.57.2", Base: baseValues()})
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := getPath(r.Values, "hive.image.tag"); v != "v0.57.2" {
			t.Errorf("hive tag %v", v)
		}
		if _, ok := getPath(r.Values, "ui.image.tag"); ok {
			t.Errorf("ui tag kept")
		}
		if _, ok := r.Values["ui"]; ok {
			t.Errorf("empty ui map left: %v", r.Values["ui"])
		}
		if len(r.Dropped) != 1 || r.Dropped[0].Value != "v0.19.0" {
			t.Errorf("dropped %v", r.Dropped)
		}
		if !strings.Contains(strings.Join(r.Warnings, "\n"), "extra.image.tag=v0.20.0") {
			t.Errorf("no warning for the pinned tag: %v", r.Warnings)
		}
		// the base is not changed
		if v, _ := getPath(baseValues(), "ui.image.tag"); v != "v0.19.0" {
			t.Errorf("base changed")
		}
	})
	t.Run("keeps the ui tag given with --ui-tag", func(t *testing.T) {
		r, _ := NewValues(ValuesInput{Chart: ChartSkoala, Version: "0.57.2", Base: baseValues(), UITag: "v0.30.0"})
		if v, _ := getPath(r.Values, "ui.image.tag"); v != "v0.30.0" {
			t.Errorf("ui tag %v", v)
		}
	})
	t.Run("skoala-init tags, seata from 0.28.0", func(t *testing.T) {
		if k := product.TagKeys(ChartInit, "0.27.2"); len(k) != 3 {
			t.Errorf("%v", k)
		}
		r, _ := NewValues(ValuesInput{Chart: ChartInit, Version: "0.57.2"})
		if v, _ := getPath(r.Values, "seata-operator.image.tag"); v != "v0.57.2" {
			t.Errorf("seata %v", v)
		}
	})
	t.Run("--image-registry sets global.imageRegistry and warns about per-image registries", func(t *testing.T) {
		r, _ := NewValues(ValuesInput{Chart: ChartSkoala, Version: "0.57.2", Base: baseValues(), ImageRegistry: "10.16.23.145"})
		if v, _ := getPath(r.Values, "global.imageRegistry"); v != "10.16.23.145" {
			t.Errorf("registry %v", v)
		}
		if !strings.Contains(strings.Join(r.Warnings, "\n"), "sesame.image.repository") {
			t.Errorf("warnings %v", r.Warnings)
		}
	})
	t.Run("--db-* builds the DSN and the plan never shows the password", func(t *testing.T) {
		db := &DB{User: "skoala", Password: password, Host: "mysql", Port: 3306, Name: "skoala"}
		r, err := NewValues(ValuesInput{Chart: ChartSkoala, Version: "0.57.2", DB: db})
		if err != nil {
			t.Fatal(err)
		}
		list, _ := getPath(r.Values, "hive.configMap.database")
		d := list.([]any)[0].(map[string]any)["dsn"].(string)
		if !strings.Contains(d, password) {
			t.Errorf("the DSN sent to the cluster lost the password: %s", d)
		}
		for _, o := range r.Overrides {
			if strings.Contains(o.Value, "Pa$$") {
				t.Errorf("override shows the password: %+v", o)
			}
		}
	})
	t.Run("a bad --db-dsn is an error that does not echo it", func(t *testing.T) {
		_, err := NewValues(ValuesInput{Chart: ChartSkoala, Version: "0.57.2", DB: &DB{DSN: "skoala:" + password + "@nope"}})
		if err == nil || strings.Contains(err.Error(), "Pa$$") {
			t.Errorf("err %v", err)
		}
	})
}

func TestDiffMasksSecrets(t *testing.T) {
	old := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: hive-config\n  namespace: ns\nstringData:\n  config.yaml: |\n    dsn: " + testDSN + "\n" +
		"---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: hive\n  namespace: ns\nspec:\n  template:\n    spec:\n      containers:\n      - image: hive:v0.28.1\n        env:\n        - name: DSN\n          value: " + `"` + testDSN + `"` + "\n"
	new := strings.ReplaceAll(old, "v0.28.1", "v0.57.2") + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: added\n  namespace: ns\ndata:\n  a: b\n"
	new = strings.Replace(new, "dsn: skoala:", "dsn: skoala2:", 1)
	secrets := redact.Secrets(baseValues())
	h := redact.NewHasher()
	diffs := ManifestDiff(h, old, new, secrets)
	vd := ValuesDiff(h, baseValues(), map[string]any{"hive": map[string]any{"image": map[string]any{"tag": "v0.57.2"}}}, secrets)
	all := []FileDiff{vd}
	all = append(all, diffs...)
	var b bytes.Buffer
	rep := &Report{Releases: []ReleasePlan{{Context: "global", Release: "skoala", From: "0.28.1", To: "0.57.2", Diff: all}}, Outcome: OutcomeDryRun, Message: "nothing was changed"}
	if err := rep.WriteDiff(&b, render.NewPalette(&b, false)); err != nil {
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
	_ = rep.WriteDiff(&b, render.NewPalette(&b, true))
	golden.Assert(t, "diff-color.txt", digests(b.Bytes()))
}

// digests replaces the keyed digests (random per run) by a placeholder, for the goldens.
func digests(b []byte) []byte {
	return regexp.MustCompile(`\(hmac:[0-9a-f]{12}\)`).ReplaceAll(b, []byte("(hmac:<per-run>)"))
}

func TestUnified(t *testing.T) {
	a := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n"
	b := "a\nb\nC\nd\ne\nf\ng\nh\ni\nJ\nk\n"
	got := Unified("a", "b", a, b, 1)
	want := "--- a\n+++ b\n@@ -2,3 +2,3 @@\n b\n-c\n+C\n d\n@@ -9,2 +9,3 @@\n i\n-j\n+J\n+k\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if Unified("a", "b", a, a, 3) != "" {
		t.Errorf("equal texts differ")
	}
}

func sampleReport() *Report {
	return &Report{
		Schema: SchemaVersion, Namespace: "skoala-system", Source: "repository skoala-release (https://release.daocloud.io/chartrepo/skoala)",
		Timeout: "5m0s", Atomic: true, BackupDir: "/home/op/.config/kubectl-skoala/backups", Outcome: OutcomePlanned,
		Releases: []ReleasePlan{
			{Context: "global", Role: "control-plane", Release: "skoala", Chart: "skoala", From: "0.28.1", FromRevision: 2, Status: "deployed", To: "0.57.2", Action: ActionUpgrade,
				ImageTags: []ImageTag{{"hive", "hive.image.tag", "v0.57.2"}, {"sesame", "sesame.image.tag", "v0.57.2"}},
				Overrides: []Override{{Key: "hive.image.tag", Value: "v0.57.2", Reason: "image tag"}, {Key: "global.imageRegistry", Value: "10.16.23.145", Reason: "--image-registry"}},
				Dropped:   []Override{{Key: UITagKey, Value: "v0.19.0", Reason: "pinned UI tag goes stale"}},
				Steps: []Step{{Kind: StepBackup, Description: "back up the values of revision 2 to /b", Automated: true},
					{Kind: StepHelm, Description: "helm upgrade skoala to skoala 0.57.2 (atomic, wait 5m0s, cleanup-on-fail)", Automated: true},
					{Kind: StepVerify, Description: "verify that every component is ready and that hive, sesame run v0.57.2", Automated: true}},
				Manual: []Step{{Kind: "db-migration", Description: "crossing 0.19.0 needs the sweet DB-upgrade job", Mandatory: true, Command: "kubectl apply -f job.yaml"}},
				Result: &Result{Outcome: OutcomeUpgraded, Revision: 3, Backups: []string{"/b/global_skoala-system_skoala_r2.yaml"}, Duration: "12s"}},
			{Context: "workspace-1", Role: "workspace", Release: "skoala-init", Chart: "skoala-init", From: "0.28.1", FromRevision: 1, Status: "pending-upgrade", To: "0.57.2", Action: ActionRefused,
				Reason: "revision 1 is pending-upgrade and no kubectl-skoala upgrade left it", Hint: "helm rollback", Steps: []Step{},
				Result: &Result{Outcome: OutcomeRolledBack, Revision: 4, Error: "upgrade of skoala-init: release failed, and has been rolled back", Done: []string{"backup", "admission-jobs"}}},
			{Context: "workspace-2", Role: "workspace", Release: "skoala-init", Chart: "skoala-init", Status: "not-installed", To: "0.57.2", Action: ActionInstall, Steps: []Step{},
				Warnings: []string{"the saved values pin x.image.tag=v1"}, Result: &Result{Outcome: OutcomeNotStarted}},
		},
		Preflight: &PreflightResult{Ran: true, Failed: true, Forced: true, Checks: []PreflightCheck{
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
	if err := rep.WritePlan(&plain, render.NewPalette(&plain, false)); err != nil {
		t.Fatal(err)
	}
	_ = rep.WritePlan(&color, render.NewPalette(&color, true))
	_ = rep.WriteResult(&res, render.NewPalette(&res, false))
	_ = rep.WriteJSON(&js)
	_ = rep.WriteYAML(&ym)
	golden.Assert(t, "plan.txt", plain.Bytes())
	golden.Assert(t, "plan-color.txt", color.Bytes())
	golden.Assert(t, "result.txt", res.Bytes())
	golden.Assert(t, "report.json", js.Bytes())
	golden.Assert(t, "report.yaml", ym.Bytes())
}
