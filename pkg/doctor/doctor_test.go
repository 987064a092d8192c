package doctor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/skoala-dev/kubectl-skoala/pkg/encode"
	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/golden"
	"github.com/skoala-dev/kubectl-skoala/pkg/images"
)

func TestHealthyFleetPassesEveryCheck(t *testing.T) {
	f := newFixture(t)
	f.manifest = writeManifest(t, "components:\n  skoala:\n    enable: true\n    helmVersion: v0.28.1\n")
	rep := f.run(t)
	for _, c := range rep.Checks {
		if c.Status != StatusOK {
			t.Errorf("%s on %q: %s: %s (hint: %s)", c.ID, c.Cluster, c.Status, c.Message, c.Hint)
		}
	}
	if rep.Failed() || rep.FailedStrict() || !rep.Success {
		t.Fatalf("summary %+v", rep.Summary)
	}
	// Every check of the catalogue ran (the modes and --manifest select them all here but the target one).
	seen := map[string]bool{}
	for _, c := range rep.Checks {
		seen[c.ID] = true
	}
	for _, c := range Catalogue() {
		if !seen[c.ID] && c.ID != IDRepoTarget && c.ID != IDRepoImages {
			t.Errorf("check %s did not run on a healthy fleet", c.ID)
		}
	}
}

func writeManifest(t *testing.T, components string) string {
	p := filepath.Join(t.TempDir(), "manifest.yaml")
	if err := os.WriteFile(p, []byte("apiVersion: manifest.daocloud.io/v1alpha1\nkind: DCEManifest\n"+components), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func crashLoop(p *corev1.Pod, container string) {
	for i := range p.Status.ContainerStatuses {
		cs := &p.Status.ContainerStatuses[i]
		if cs.Name == container {
			cs.Ready = false
			cs.RestartCount = 9
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}
			cs.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137}
		}
	}
}

// failing is one way to break a check, and what the check must then say.
type failing struct {
	name    string
	id      string
	cluster string
	breakIt func(f *fixture)
	status  Status
	says    []string
}

var failingCases = []failing{
	{"a fleet the last upgrade run left half-upgraded", IDWSHalfUpgraded, "global", func(f *fixture) {
		f.cp["cm/journal"] = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kubectl-skoala-journal", Namespace: ns},
			Data: map[string]string{"runs.json": `{"schema":"skoala.journal/v1","runs":[{"id":"r1","kind":"upgrade","who":"admin","started":"2026-11-02T11:00:00Z","target":"0.28.1","outcome":"rolled-back",` +
				`"releases":[{"context":"global","release":"skoala","fromRevision":1,"toRevision":2,"outcome":"upgraded"},{"context":"workspace-1","release":"skoala-init","fromRevision":1,"toRevision":3,"outcome":"rolled-back"}]}]}`}}
		f.wsRel.Version = "0.28.0"
	}, StatusFail, []string{"half-upgraded by run r1: global at 0.28.1, workspace-1 not", "rollback -n skoala-system -w workspace-1", "upgrade -n skoala-system -w workspace-1 --version 0.28.1"}},
	{"a journal that does not decode: a warning, not a stop (the next write keeps it aside)", IDWSHalfUpgraded, "global", func(f *fixture) {
		f.cp["cm/journal"] = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kubectl-skoala-journal", Namespace: ns}, Data: map[string]string{"runs.json": `{"schema":"skoala.journal/v1","runs":[{"id`}}
	}, StatusWarn, []string{"does not decode", "half-upgraded is not known", "kubectl-skoala-journal-corrupt-<time>"}},
	{"an unreachable API server", IDReachable, "workspace-1", func(f *fixture) { f.down["workspace-1"] = true }, StatusFail, []string{"does not answer", "connection refused"}},
	{"skoala-init >= 0.12 on Kubernetes 1.24", IDKubeVersion, "workspace-1", func(f *fixture) { f.kube = "v1.24.9" }, StatusFail, []string{"1.24 is too old", "1.25"}},
	{"Kubernetes newer than DCE tested the target with", IDKubeVersion, "global", func(f *fixture) {
		f.kube = "v1.37.2"
		f.cfg.Mode, f.cfg.TargetVersion = ModePreUpgrade, "0.57.2"
	}, StatusWarn, []string{"newer than the range target skoala 0.57.2 was tested with (1.23–1.35"}},
	{"a denied permission", IDPermissions, "global", func(f *fixture) { f.denied["delete jobs"] = true }, StatusWarn, []string{"upgrade would fail: cannot delete jobs.batch in skoala-system", "kubectl auth can-i delete jobs.batch -n skoala-system"}},
	{"a missing namespace", IDCPNamespace, "global", func(f *fixture) { delete(f.cp, "ns/"+ns) }, StatusFail, []string{"namespace skoala-system does not exist", "helm upgrade --install skoala"}},
	{"a terminating namespace", IDWSNamespace, "workspace-1", func(f *fixture) {
		n := namespace(ns)
		now := metav1.Now()
		n.DeletionTimestamp = &now
		n.Finalizers = []string{"kubernetes"}
		f.ws["ns/"+ns] = n
	}, StatusFail, []string{"being deleted"}},
	{"a release stuck in pending-upgrade", IDCPRelease, "global", func(f *fixture) { f.cpRel.Status = "pending-upgrade" }, StatusFail, []string{"stuck in pending-upgrade", "helm -n skoala-system --kube-context global history skoala", "rollback skoala"}},
	{"a failed release", IDCPRelease, "global", func(f *fixture) {
		f.cpRel.Status, f.cpRel.Description = "failed", "timed out waiting for the condition"
	}, StatusFail, []string{"failed (revision 2): timed out waiting"}},
	{"a missing release", IDWSRelease, "workspace-1", func(f *fixture) { f.wsRel.Name = "" }, StatusFail, []string{"skoala-init is not installed", "helm upgrade --install skoala-init skoala-release/skoala-init"}},
	{"a missing release, repository added under another name", IDWSRelease, "workspace-1", func(f *fixture) { f.wsRel.Name, f.repoName = "", "dce-skoala" }, StatusFail, []string{"helm upgrade --install skoala-init dce-skoala/skoala-init"}},
	{"a crash-looping hive container", IDCPHive, "global", func(f *fixture) { crashLoop(f.cp["pod/hive"].(*corev1.Pod), "hive") }, StatusFail, []string{"container hive: CrashLoopBackOff (last terminated: OOMKilled, exit code 137)", "9 restarts", "logs deployment/hive -c hive --previous"}},
	{"an image that cannot be pulled", IDCPSesame, "global", func(f *fixture) {
		p := f.cp["pod/sesame"].(*corev1.Pod)
		p.Status.ContainerStatuses[0].Ready = false
		p.Status.ContainerStatuses[0].State.Waiting = &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff"}
	}, StatusFail, []string{"container sesame: ImagePullBackOff", "global.imageRegistry"}},
	{"a pod that cannot be scheduled", IDCPHive, "global", func(f *fixture) {
		f.cp["deploy/hive"].(*appsv1.Deployment).Status.UpdatedReplicas = 0
		p := f.cp["pod/hive"].(*corev1.Pod).DeepCopy()
		p.Name, p.Status = "hive-77f9-new", corev1.PodStatus{Phase: corev1.PodPending}
		f.cp["pod/hive-new"] = p
	}, StatusFail, []string{"pod hive-77f9-new is Pending", "describe pod hive-77f9-new"}},
	{"a missing skoala-ui deployment", IDCPUI, "global", func(f *fixture) { delete(f.cp, "deploy/skoala-ui") }, StatusFail, []string{"deployment skoala-ui of the release is missing"}},
	{"a hive image behind the chart", IDCPImageTags, "global", func(f *fixture) {
		d := f.cp["deploy/hive"].(*appsv1.Deployment)
		d.Spec.Template.Spec.Containers[0].Image = "release.daocloud.io/skoala/hive:v0.28.0"
	}, StatusWarn, []string{"hive runs v0.28.0"}},
	{"a pinned ui.image.tag", IDCPPinnedTags, "global", func(f *fixture) {
		f.cpRel.Values["ui"] = map[string]any{"image": map[string]any{"tag": "v0.19.0"}}
		f.cpRel.Values["hive"].(map[string]any)["image"] = map[string]any{"tag": "v0.28.1"}
	}, StatusWarn, []string{"ui.image.tag=v0.19.0", "an upgrade keeps these images"}},
	{"a ConfigMap of the release edited by hand", IDCPDrift, "global", func(f *fixture) {
		f.cpRel.Manifest += "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hive-extra\ndata:\n  level: info\n"
		f.cp["cm/hive-extra"] = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "hive-extra", Namespace: ns}, Data: map[string]string{"level": "debug"}}
	}, StatusWarn, []string{"release skoala differs from its manifest: ConfigMap/hive-extra /data/level", "kubectl skoala verify -n skoala-system --context global"}},
	{"a workload of the release deleted by hand", IDWSDrift, "workspace-1", func(f *fixture) {
		delete(f.ws, "deploy/skoala-agent")
	}, StatusWarn, []string{"Deployment/skoala-agent missing", "kubectl skoala verify -n skoala-system -w workspace-1"}},
	{"an image from another registry", IDCPRegistry, "global", func(f *fixture) {
		f.cp["deploy/sesame"].(*appsv1.Deployment).Spec.Template.Spec.Containers[0].Image = "quay.io/skoala/sesame:v0.28.1"
	}, StatusFail, []string{"not from global.imageRegistry release.daocloud.io: sesame/sesame (quay.io/skoala/sesame:v0.28.1)"}},
	{"a DSN that does not parse", IDDBDSN, "global", func(f *fixture) {
		f.cpRel.Values["hive"] = map[string]any{"configMap": map[string]any{"database": []any{map[string]any{"driver": "mysql", "dsn": "skoala:" + TestPassword + "@tcp(db:99999)/skoala"}}}}
	}, StatusFail, []string{"does not parse", "port"}},
	{"no DSN at all", IDDBDSN, "global", func(f *fixture) { f.cpRel.Values = map[string]any{} }, StatusWarn, []string{"no database configured"}},
	{"common-mysql not ready", IDDBCommonMySQL, "global", func(f *fixture) {
		f.cp["sts/mysql"].(*appsv1.StatefulSet).Status.ReadyReplicas = 1
	}, StatusFail, []string{"1/2 ready"}},
	{"common-mysql missing", IDDBCommonMySQL, "global", func(f *fixture) { delete(f.cp, "sts/mysql") }, StatusFail, []string{"common-mysql is not installed"}},
	{"a wrong password", IDDBConnect, "global", func(f *fixture) {
		f.db.openErr = &DBError{Op: "connect", Err: &mysql.MySQLError{Number: 1045, Message: "Access denied for user 'skoala'@'10.0.0.1' (using password: YES) " + TestPassword}}
	}, StatusFail, []string{"refused the login of user \"skoala\""}},
	{"an unreachable database", IDDBConnect, "global", func(f *fixture) {
		f.db.openErr = &DBError{Op: "connect", Err: errors.New("dial tcp 10.0.0.9:3306: connect: connection refused")}
	}, StatusFail, []string{"cannot reach", "port-forward"}},
	{"a missing database", IDDBDatabase, "global", func(f *fixture) { f.db.dbs = map[string]bool{} }, StatusFail, []string{"database skoala does not exist", "CREATE DATABASE skoala"}},
	{"a missing table and column", IDDBTables, "global", func(f *fixture) {
		delete(f.db.cols, "book")
		f.db.cols["registry"] = []string{"id", "uid", "name", "type", "addresses", "namespaces", "is_hosted", "deleted_at", "created_at", "updated_at"}
	}, StatusFail, []string{"missing tables: book", "registry lacks workspace_id, ext_id", "hive (0.17.1 and later) creates the tables"}},
	{"a missing table below 0.17.1", IDDBTables, "global", func(f *fixture) {
		delete(f.db.cols, "api")
		f.cpRel.Version = "0.16.1"
	}, StatusFail, []string{"below 0.17.1", "by hand"}},
	{"a crash-looping operator", IDWSComponents, "workspace-1", func(f *fixture) { crashLoop(f.ws["pod/nacos-operator"].(*corev1.Pod), "nacos-operator") }, StatusFail, []string{"deployment nacos-operator: container nacos-operator: CrashLoopBackOff"}},
	{"skoala-init two minors behind", IDWSSkew, "workspace-1", func(f *fixture) {
		f.cpRel.Version = "0.35.0"
		f.repoVers = append(f.repoVers, "0.33.2")
		f.wsRel.Version = "0.33.3"
	}, StatusFail, []string{"skoala-init 0.33.3 is on another minor than skoala 0.35.0 (2 minor versions behind)", "--version 0.35.0"}},
	{"skoala-init a patch behind", IDWSSkew, "workspace-1", func(f *fixture) { f.wsRel.Version = "0.28.0" }, StatusWarn, []string{"patch version"}},
	{"an operator image behind the chart", IDWSImageTags, "workspace-1", func(f *fixture) {
		f.ws["deploy/seata-operator"].(*appsv1.Deployment).Spec.Template.Spec.Containers[0].Image = "release.daocloud.io/skoala/seata-operator:v0.28.0"
	}, StatusWarn, []string{"seata-operator runs v0.28.0"}},
	{"a pinned operator tag", IDWSPinnedTags, "workspace-1", func(f *fixture) {
		f.wsRel.Values = map[string]any{"nacos-operator": map[string]any{"image": map[string]any{"tag": "v0.27.0"}}}
	}, StatusWarn, []string{"nacos-operator.image.tag=v0.27.0"}},
	{"mixed registries without global.imageRegistry", IDWSRegistry, "workspace-1", func(f *fixture) {
		f.wsRel.ChartValues = nil
		f.ws["deploy/skoala-agent"].(*appsv1.Deployment).Spec.Template.Spec.Containers[0].Image = "docker.io/skoala/skoala-agent:v0.28.1"
	}, StatusWarn, []string{"2 registries: docker.io, release.daocloud.io"}},
	{"no insight-agent", IDWSInsightAgent, "workspace-1", func(f *fixture) { delete(f.ws, "ns/insight-system"); f.insight = nil }, StatusWarn, []string{"insight-agent is not installed", "BEFORE skoala-init"}},
	{"no insight-system below 0.31.2 as target", IDWSInsightAgent, "workspace-1", func(f *fixture) {
		delete(f.ws, "ns/insight-system")
		f.insight = nil
		f.cfg.Mode = ModePreInstall
		f.cfg.TargetVersion = "0.28.1"
	}, StatusFail, []string{"below 0.31.2"}},
	{"insight-agent installed after skoala-init", IDWSServiceMonitors, "workspace-1", func(f *fixture) {
		f.sms = nil
		f.insight.Deployed = time.Date(2026, 10, 5, 9, 0, 0, 0, time.UTC)
	}, StatusWarn, []string{"2 of 2 ServiceMonitors", "missing", "insight-agent was installed (2026-10-05 09:00) after skoala-init (2026-10-01 11:00)", "re-run the skoala-init upgrade"}},
	{"no ServiceMonitor API", IDWSServiceMonitors, "workspace-1", func(f *fixture) { f.noSMAPI = true }, StatusWarn, []string{"ServiceMonitor API"}},
	{"leftover admission Jobs", IDWSAdmissionJobs, "workspace-1", func(f *fixture) { f.wsRel.Name = "" }, StatusWarn, []string{"leftover Jobs gateway-api-admission, gateway-api-admission-patch (no release)", "kubectl --context workspace-1 -n skoala-system delete jobs gateway-api-admission gateway-api-admission-patch"}},
	{"a failed admission Job", IDWSAdmissionJobs, "workspace-1", func(f *fixture) {
		j := f.ws["job/a"].(*batchv1.Job)
		j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue}}
	}, StatusWarn, []string{"admission Jobs failed: gateway-api-admission"}},
	{"kpanda upgrading skoala-init", IDWSKpandaOps, "workspace-1", func(f *fixture) {
		f.ws["job/kpanda"] = kpandaJob("helm-operation-upgrade-skoala-init-x7k2p", "skoala-init")
		f.ws["job/kpanda-done"] = job("helm-operation-install-skoala-init-a1b2c", "kpanda/kpanda-shell") // finished: not reported
	}, StatusFail, []string{"kpanda's helm upgrade of skoala-init runs as Job skoala-system/helm-operation-upgrade-skoala-init-x7k2p (HelmApp skoala-init",
		"kubectl --context workspace-1 -n skoala-system get job helm-operation-upgrade-skoala-init-x7k2p"}},
	{"kpanda rolling skoala back", IDCPKpandaOps, "global", func(f *fixture) {
		f.cp["job/kpanda"] = kpandaJob("helm-operation-rollback-skoala-q9w8e", "skoala")
		f.cp["job/other"] = kpandaJob("helm-operation-upgrade-skoala-init-x7k2p", "skoala-init") // another release's: not reported
	}, StatusFail, []string{"kpanda's helm rollback of skoala runs as Job skoala-system/helm-operation-rollback-skoala-q9w8e (HelmApp skoala", "refuse to run beside it"}},
	{"no repository configured", IDRepoConfigured, "", func(f *fixture) { f.noRepo = true }, StatusWarn, []string{"helm repo add skoala-release"}},
	{"a stale index", IDRepoIndex, "", func(f *fixture) { f.indexAge = 30 * 24 * time.Hour }, StatusWarn, []string{"30d old", "helm repo update skoala-release"}},
	{"an installed version the repository lacks", IDRepoInstalled, "", func(f *fixture) { f.repoVers = []string{"0.57.2"} }, StatusWarn, []string{"not in repository skoala-release: skoala 0.28.1, skoala-init 0.28.1"}},
	{"a target the repository lacks", IDRepoTarget, "", func(f *fixture) { f.cfg.Mode, f.cfg.TargetVersion = ModePreUpgrade, "0.99.0" }, StatusFail, []string{"target 0.99.0 is not in repository"}},
	{"an image of the target missing in the registry", IDRepoImages, "", func(f *fixture) {
		f.cfg.Mode, f.cfg.TargetVersion, f.cfg.ImageRegistry = ModePreUpgrade, "0.57.2", "reg.site:5000"
		f.imageCheck = fakeImageCheck(images.CheckMissing)
	}, StatusFail, []string{"1 of 2 image(s) of 0.57.2 are not in reg.site:5000 for amd64", "reg.site:5000/skoala/sesame:v0.57.2 (missing)", "images push --bundle skoala_0.57.2.bundle.tar"}},
	{"a repository with no skoala chart", IDRepoLatest, "", func(f *fixture) { f.repoVers = []string{"0.58.0-rc.1"} }, StatusWarn, []string{"no stable skoala version"}},
	{"an upgrade across the 0.19.0 DB migration", IDRepoUpgradePath, "", func(f *fixture) {
		f.cpRel.Version, f.wsRel.Version = "0.18.0", "0.18.0"
		f.repoVers = append(f.repoVers, "0.18.0", "0.19.4", "0.22.2")
	}, StatusWarn, []string{"0.18.0 -> 0.19.4 -> 0.22.2 -> 0.57.2", "DB migration", "sweet"}},
	{"a manifest that disables skoala", IDEntManifest, "", func(f *fixture) {
		f.manifest = writeManifestNoT("components:\n  skoala:\n    enable: false\n    helmVersion: 0.28.1\n")
	}, StatusFail, []string{"components.skoala.enable is false"}},
	{"a manifest helmVersion the repository lacks", IDEntHelmVersion, "", func(f *fixture) {
		f.manifest = writeManifestNoT("components:\n  skoala:\n    enable: true\n    helmVersion: v0.12.2\n")
	}, StatusFail, []string{"0.12.2 is not in repository"}},
}

var manifestDir string

func writeManifestNoT(components string) string {
	p := filepath.Join(manifestDir, strings.ReplaceAll(strings.ReplaceAll(components, "\n", "_"), " ", "")[:40]+".yaml")
	_ = os.WriteFile(p, []byte("apiVersion: manifest.daocloud.io/v1alpha1\nkind: DCEManifest\n"+components), 0o644)
	return p
}

func TestEveryCheckNamesItsFailure(t *testing.T) {
	manifestDir = t.TempDir()
	covered := map[string]bool{}
	for _, tc := range failingCases {
		covered[tc.id] = true
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.manifest = writeManifest(t, "components:\n  skoala:\n    enable: true\n    helmVersion: v0.28.1\n")
			tc.breakIt(f)
			rep := f.run(t)
			r := get(t, rep, tc.id, tc.cluster)
			if r.Status != tc.status {
				t.Errorf("%s: %s (%s / %s), want %s", tc.id, r.Status, r.Message, r.Hint, tc.status)
			}
			for _, s := range tc.says {
				if !strings.Contains(r.Message+" | "+r.Hint, s) {
					t.Errorf("%s does not say %q:\n  %s\n  hint: %s", tc.id, s, r.Message, r.Hint)
				}
			}
			if r.Status != StatusOK && r.Hint == "" {
				t.Errorf("%s: a %s without a hint", tc.id, r.Status)
			}
			if tc.status == StatusFail && !rep.Failed() {
				t.Error("Failed() is false")
			}
			assertNoPassword(t, rep)
			for _, c := range rep.Checks {
				if strings.Contains(c.Message, "internal error") {
					t.Errorf("%s on %q crashed: %s", c.ID, c.Cluster, c.Message)
				}
			}
		})
	}
	for _, c := range Catalogue() {
		if !covered[c.ID] {
			t.Errorf("check %s has no failing case in failingCases: add one with the check", c.ID)
		}
	}
}

func TestDependentChecksSkipAndNothingCrashes(t *testing.T) {
	f := newFixture(t)
	f.down["workspace-1"] = true
	rep := f.run(t)
	if r := get(t, rep, IDWSRelease, "workspace-1"); r.Status != StatusSkip || !strings.Contains(r.Message, "needs \"the API server answers\"") {
		t.Errorf("release on an unreachable cluster: %+v", r)
	}
	if r := get(t, rep, IDCPRelease, "global"); r.Status != StatusOK {
		t.Errorf("the control plane suffers from the workspace: %+v", r)
	}
}

func TestForbiddenSkipsInsteadOfFailing(t *testing.T) {
	f := newFixture(t)
	f.denied["list secrets"] = true
	f.forbidden["list secrets"] = true
	rep := f.run(t)
	for _, id := range []string{IDCPRelease, IDWSRelease} {
		cl := "global"
		if id == IDWSRelease {
			cl = "workspace-1"
		}
		r := get(t, rep, id, cl)
		if r.Status != StatusSkip || !strings.Contains(r.Message, "forbidden to list secrets in skoala-system") {
			t.Errorf("%s: %+v", id, r)
		}
	}
	if r := get(t, rep, IDWSInsightAgent, "workspace-1"); r.Status != StatusOK {
		t.Errorf("insight-agent falls back to its pods: %+v", r)
	}
	if rep.Failed() {
		t.Errorf("failures with read-only rights: %+v", rep.Failures())
	}
	// Without the SSAR telling, the call's 403 itself is a skip too.
	f = newFixture(t)
	f.forbidden["list jobs"] = true
	rep = f.run(t)
	if r := get(t, rep, IDWSAdmissionJobs, "workspace-1"); r.Status != StatusSkip || !strings.Contains(r.Message, "forbidden") {
		t.Errorf("403 from the call: %+v", r)
	}
}

func TestPreInstallNeedsNoRelease(t *testing.T) {
	f := newFixture(t)
	f.cpRel.Name, f.wsRel.Name = "", ""
	delete(f.cp, "ns/"+ns)
	f.cfg.Mode = ModePreInstall
	f.cfg.DSN = "skoala:" + TestPassword + "@tcp(127.0.0.1:3306)/skoala"
	f.ws = map[string]runtime.Object{"ns/insight-system": namespace("insight-system")}
	rep := f.run(t)
	if rep.Failed() {
		t.Fatalf("pre-install failed: %+v", rep.Failures())
	}
	for _, c := range rep.Checks {
		if c.ID == IDCPRelease || c.ID == IDWSRelease || c.ID == IDCPHive {
			t.Errorf("pre-install ran %s", c.ID)
		}
	}
	if r := get(t, rep, IDDBTables, "global"); r.Status != StatusOK {
		t.Errorf("database in pre-install: %+v", r)
	}
	if r := get(t, rep, IDKubeVersion, "workspace-1"); !strings.Contains(r.Message, "newest skoala-init 0.57.2") {
		t.Errorf("pre-install compares Kubernetes with the newest version: %+v", r)
	}
	assertNoPassword(t, rep)
}

func TestPreUpgradeAPI(t *testing.T) {
	f := newFixture(t)
	f.cpRel.Status = "pending-upgrade"
	rep, err := PreUpgrade(context.Background(), Deps{Clusters: fakeSource{}}, Config{TargetVersion: "nope"})
	if err == nil || rep != nil {
		t.Fatal("a bad target version must be an error")
	}
	f.cfg.TargetVersion = "0.57.2"
	f.cfg.Mode = ModePreUpgrade
	rep = f.run(t)
	if rep.Mode != ModePreUpgrade || !rep.Failed() || len(rep.Failures()) == 0 || rep.Failures()[0].ID != IDCPRelease {
		t.Fatalf("pre-upgrade over a pending release: %+v", rep.Failures())
	}
	if r := get(t, rep, IDWSAdmissionJobs, "workspace-1"); r.Status != StatusWarn || !strings.Contains(r.Message, "must be deleted before upgrading to 0.57.2") {
		t.Errorf("admission Jobs before an upgrade: %+v", r)
	}
	if r := get(t, rep, IDRepoTarget, ""); r.Status != StatusOK || !strings.Contains(r.Message, "0.57.2 are in repository skoala-release") {
		t.Errorf("target version: %+v", r)
	}
	if r := get(t, rep, IDRepoUpgradePath, ""); r.Status != StatusOK || !strings.Contains(r.Message, "0.28.1 -> 0.57.2") {
		t.Errorf("upgrade path: %+v", r)
	}
}

func TestRunIsBoundedByItsTimeout(t *testing.T) {
	f := newFixture(t)
	f.cfg.Timeout = 2 * time.Second
	f.cfg.CheckTimeout = 200 * time.Millisecond
	f.db.hang = true
	start := time.Now()
	rep := f.run(t)
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("the run took %s, its timeout is 2s", el)
	}
	r := get(t, rep, IDDBDatabase, "global")
	if r.Status != StatusFail || !strings.Contains(r.Message, "did not finish within 200ms") {
		t.Errorf("a hanging check: %+v", r)
	}
	if r := get(t, rep, IDCPHive, "global"); r.Status != StatusOK {
		t.Errorf("a hanging check spoils another: %+v", r)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Mode: "sideways"}, `unknown doctor mode "sideways"`},
		{Config{Mode: ModePreUpgrade}, "a pre-upgrade check needs the target version"},
		{Config{TargetVersion: "x"}, `target version: "x" is not a semantic version`},
		{Config{Categories: []CategoryID{"dns"}}, `unknown category "dns" (want one of: kubernetes, control-plane, database, workspaces, repository, enterprise-package)`},
		{Config{Targets: fleet.Of("a")}, ""},
	} {
		err := tc.cfg.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v", tc.cfg, err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
			t.Errorf("%+v: got %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

// goldenReport is a fleet with one failure of each kind that renders everything: ok, warn, fail, skip.
func goldenReport(t *testing.T) *Report {
	f := newFixture(t)
	f.cfg.Targets = fleet.Of("global", "workspace-1", "workspace-2")
	f.down["workspace-2"] = true
	crashLoop(f.cp["pod/hive"].(*corev1.Pod), "hive")
	f.cpRel.Values["ui"] = map[string]any{"image": map[string]any{"tag": "v0.19.0"}}
	f.wsRel.Version = "0.28.0"
	f.cfg.DB = false
	rep := f.run(t)
	rep.Elapsed = 0
	return rep
}

// tableOnly is what the table shows of a check beyond the JSON view: the folded skips and their names.
type tableOnly struct {
	Cascade     bool   `json:"cascade,omitempty"`
	Description string `json:"description"`
}

// TestGolden pins the report in the doctor command's testdata (pkg/cmd/doctor renders every view of it):
// doctor.json is the JSON view, doctor-table.json what the table needs beyond it.
func TestGolden(t *testing.T) {
	rep := goldenReport(t)
	extra := make([]tableOnly, len(rep.Checks))
	for i, c := range rep.Checks {
		extra[i] = tableOnly{Cascade: c.Cascade, Description: c.Description}
	}
	golden.AssertModel(t, "../cmd/doctor/testdata/doctor.json", rep)
	golden.AssertModel(t, "../cmd/doctor/testdata/doctor-table.json", extra)
}

// assertNoPassword checks the whole report, the fields no JSON shows included: a view prints only what
// the report holds.
func assertNoPassword(t *testing.T, rep *Report) {
	t.Helper()
	var js bytes.Buffer
	if err := encode.JSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"report": fmt.Sprintf("%+v", *rep), "json": js.String()} {
		if strings.Contains(out, TestPassword) {
			t.Errorf("the DSN password appears in the %s", name)
		}
	}
}

func TestPasswordNeverInAnyOutput(t *testing.T) {
	// The driver's error echoes the password; the DSN does not parse; the release values hold it.
	f := newFixture(t)
	f.db.openErr = &DBError{Op: "connect", Err: errors.New("cannot log in with skoala:" + TestPassword + "@tcp(db:3306)/skoala: " + TestPassword)}
	rep := f.run(t)
	if r := get(t, rep, IDDBConnect, "global"); r.Status != StatusFail {
		t.Fatalf("%+v", r)
	}
	assertNoPassword(t, rep)

	f = newFixture(t)
	f.cfg.DSN = "skoala:" + TestPassword + "@tcp(db:notaport)/skoala"
	rep = f.run(t)
	if r := get(t, rep, IDDBDSN, "global"); r.Status != StatusFail {
		t.Fatalf("%+v", r)
	}
	assertNoPassword(t, rep)
}

// fakeImageCheck answers the image check: hive present, sesame with the given result.
func fakeImageCheck(sesame string) ImageCheckFunc {
	return func(_ context.Context, in images.TargetCheck) (*images.CheckReport, error) {
		rep := &images.CheckReport{Architectures: []string{"amd64"}, Present: 1, Images: []images.CheckedImage{
			{Need: images.Need{Image: in.Registry + "/skoala/hive:v" + in.Version}, Result: images.CheckPresent},
			{Need: images.Need{Image: in.Registry + "/skoala/sesame:v" + in.Version}, Result: sesame},
		}}
		if sesame == images.CheckPresent {
			rep.Present++
		} else {
			rep.Missing++
			rep.Fixes = []string{"kubectl skoala images push --bundle skoala_" + in.Version + ".bundle.tar --registry " + in.Registry}
		}
		return rep, nil
	}
}

func TestImageCheckOK(t *testing.T) {
	f := newFixture(t)
	f.cfg.Mode, f.cfg.TargetVersion, f.cfg.ImageRegistry = ModePreUpgrade, "0.57.2", "reg.site:5000"
	var got images.TargetCheck
	check := fakeImageCheck(images.CheckPresent)
	f.imageCheck = func(ctx context.Context, in images.TargetCheck) (*images.CheckReport, error) {
		got = in
		return check(ctx, in)
	}
	rep := f.run(t)
	r := get(t, rep, IDRepoImages, "")
	if r.Status != StatusOK || r.Message != "all 2 image(s) of 0.57.2 are in reg.site:5000 for amd64" {
		t.Fatalf("%s: %s", r.Status, r.Message)
	}
	if got.Version != "0.57.2" || len(got.Fleet.Targets) != len(f.cfg.Targets) {
		t.Errorf("the check was asked %+v", got)
	}
}

// TestRegisteredClusterWithoutContextIsNamedAsTheRegistrys: a cluster of DCE's registry that no context
// reaches (--fleet kpanda) is named as the registry names it, not as a context the kubeconfig does not have.
func TestRegisteredClusterWithoutContextIsNamedAsTheRegistrys(t *testing.T) {
	f := newFixture(t)
	f.cfg.Targets = append(f.cfg.Targets, fleet.Target{Context: "lost-ws", Role: fleet.RoleWorkspace, Release: "skoala-init", Registered: "lost-ws"})
	rep := f.run(t)
	r := get(t, rep, IDReachable, "lost-ws")
	if r.Status != StatusFail || !strings.HasPrefix(r.Message, "registered cluster lost-ws: ") {
		t.Errorf("a registered cluster without a context: %+v", r)
	}
	if r := get(t, rep, IDReachable, "workspace-1"); r.Status != StatusOK {
		t.Errorf("workspace-1: %+v", r)
	}
}
