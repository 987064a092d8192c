package e2e

// issue 23: 'verify' on the fleet with the real kubectl and helm: hand changes reported with their paths
// and values (a Secret's never), an HPA's replicas not reported, a release record padded to 95% warned
// about, a CRD changed by hand named by its chart file, a read-only identity's report with the Secrets
// skipped, and a clean report again once helm upgrades the release to the same chart.

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
)

type verifyReport struct {
	Differences int `json:"differences"`
	Clusters    []struct {
		Context  string `json:"context"`
		Releases []struct {
			Name  string `json:"name"`
			Error string `json:"error"`
			Drift []struct {
				Kind   string `json:"kind"`
				Name   string `json:"name"`
				Fields []struct {
					Path   string `json:"path"`
					Chart  string `json:"chart"`
					Live   string `json:"live"`
					Hidden bool   `json:"hidden"`
				} `json:"fields"`
			} `json:"drift"`
			CRDs []struct {
				File   string `json:"file"`
				Name   string `json:"name"`
				State  string `json:"state"`
				Fields []struct {
					Path string `json:"path"`
				} `json:"fields"`
			} `json:"crds"`
			Size *struct {
				Object  string  `json:"object"`
				Bytes   int     `json:"bytes"`
				Percent float64 `json:"percent"`
				Warning bool    `json:"warning"`
			} `json:"size"`
			Skipped []struct {
				What  string `json:"what"`
				Right string `json:"right"`
			} `json:"skipped"`
		} `json:"releases"`
	} `json:"clusters"`
}

func parseVerify(t *testing.T, r Result) verifyReport {
	t.Helper()
	var v verifyReport
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
		t.Fatalf("verify -o json: %v\n%s", err, r)
	}
	return v
}

// field returns "chart -> live" of a drifted field of kind/name at path ("" when not reported).
func (v verifyReport) field(kind, name, path string) (string, bool) {
	for _, c := range v.Clusters {
		for _, r := range c.Releases {
			for _, d := range r.Drift {
				if d.Kind != kind || d.Name != name {
					continue
				}
				for _, f := range d.Fields {
					if f.Path == path {
						return f.Chart + " -> " + f.Live, f.Hidden
					}
				}
			}
		}
	}
	return "", false
}

func TestVerifyDrift(t *testing.T) {
	ns := Namespace(t, "verify")
	InstallChart(t, "global", ns, "skoala", "skoala", "0.28.1", "--set", "hive.extraConfigMap.level=info")
	kc := func(args ...string) Result {
		return MustKubectl(t, append([]string{"--context", "global", "-n", ns}, args...)...)
	}
	verify := func(extra ...string) Result {
		return Skoala(t, append([]string{"verify", "-n", ns, "--no-images", "-o", "json"}, extra...)...)
	}

	t.Run("a release as installed verifies clean", func(t *testing.T) {
		if r := verify(); r.Code != 0 || parseVerify(t, r).Differences != 0 {
			t.Fatalf("exit %d, want 0 and no differences\n%s", r.Code, r)
		}
	})

	t.Run("replicas an HPA scales are not reported", func(t *testing.T) {
		kc("autoscale", "deployment/hive", "--min=1", "--max=3")
		kc("scale", "deployment/hive", "--replicas=2")
		r := verify()
		if got := kc("get", "deployment/hive", "-o", "jsonpath={.spec.replicas}").Stdout; got != "2" {
			t.Fatalf("hive runs %s replicas, want 2 (the test changed nothing)", got)
		}
		if d, _ := parseVerify(t, r).field("Deployment", "hive", "/spec/replicas"); d != "" || r.Code != 0 {
			t.Errorf("exit %d, /spec/replicas %q: want 0 and the HPA's replicas not reported\n%s", r.Code, d, r)
		}
	})

	t.Run("kubectl set image and a ConfigMap edit are reported with paths and values", func(t *testing.T) {
		kc("set", "image", "deployment/hive", "hive=release.daocloud.io/skoala/hive:hotfix")
		kc("patch", "configmap", "hive-extra", "--type", "merge", "-p", `{"data":{"level":"debug"}}`)
		r := verify()
		v := parseVerify(t, r)
		if r.Code != 3 {
			t.Errorf("exit %d, want 3\n%s", r.Code, r)
		}
		for _, w := range []struct{ kind, name, path, want string }{
			{"Deployment", "hive", "/spec/template/spec/containers/0/image", "release.daocloud.io/skoala/hive:v0.28.1 -> release.daocloud.io/skoala/hive:hotfix"},
			{"ConfigMap", "hive-extra", "/data/level", "info -> debug"},
		} {
			if got, _ := v.field(w.kind, w.name, w.path); got != w.want {
				t.Errorf("%s/%s %s: %q, want %q\n%s", w.kind, w.name, w.path, got, w.want, r.Stdout)
			}
		}
		tbl := Skoala(t, "verify", "-n", ns, "--no-images")
		if tbl.Code != 3 || !strings.Contains(tbl.Stdout, "/data/level") || !strings.Contains(tbl.Stdout, "hive:hotfix") {
			t.Errorf("table: exit %d, want 3 with the paths and values\n%s", tbl.Code, tbl)
		}
	})

	t.Run("a Secret edited by hand is reported without its value", func(t *testing.T) {
		kc("patch", "secret", "hive-config", "--type", "merge", "-p", `{"stringData":{"config.yaml":"`+plantedSecretValue+`"}}`)
		for _, o := range []string{"json", "table", "yaml"} {
			r := Skoala(t, "verify", "-n", ns, "--no-images", "-o", o)
			if r.Code != 3 || !strings.Contains(r.Stdout, "/stringData/config.yaml") {
				t.Errorf("-o %s: exit %d, want 3 and /stringData/config.yaml reported\n%s", o, r.Code, r)
			}
			b64 := base64.StdEncoding.EncodeToString([]byte(plantedSecretValue))
			if strings.Contains(r.Stdout+r.Stderr, plantedSecretValue) || strings.Contains(r.Stdout+r.Stderr, b64) || strings.Contains(r.Stdout, "database:") {
				t.Errorf("-o %s shows a Secret value\n%s", o, r)
			}
		}
	})

	t.Run("a release record padded to 95% of the limit is warned about", func(t *testing.T) {
		v := parseVerify(t, verify())
		size := v.Clusters[0].Releases[0].Size
		if size == nil {
			t.Fatalf("no size: %+v", v)
		}
		pad := 1<<20*95/100 - size.Bytes
		patch := filepath.Join(t.TempDir(), "pad.json")
		body := fmt.Sprintf(`{"data":{"pad":%q}}`, base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", pad))))
		if err := os.WriteFile(patch, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		kind, name, _ := strings.Cut(size.Object, "/")
		kc("patch", kind, name, "--type", "merge", "--patch-file", patch)
		r := Skoala(t, "verify", "-n", ns, "--no-images")
		if !strings.Contains(r.Stdout, "95.0%") || !strings.Contains(r.Stdout, "warning: 90% or more") {
			t.Errorf("want the record at 95.0%% and a warning\n%s", r)
		}
	})

	t.Run("a read-only identity gets the report with the Secrets skipped", func(t *testing.T) {
		ro := Namespace(t, "verifyro")
		cm := append(fleet.BaseEnv(t), "HELM_DRIVER=configmap")
		if r := Run(t, cm, 3*time.Minute, filepath.Join(fleet.BinDir, "helm3"), "upgrade", "--install", "skoala", "skoala-release/skoala", "--version", "0.28.1",
			"--kube-context", "global", "-n", ro, "--create-namespace", "--wait", "--timeout", "2m"); r.Code != 0 {
			t.Fatalf("helm install with HELM_DRIVER=configmap:\n%s", r)
		}
		r := SkoalaEnv(t, []string{"HELM_DRIVER=configmap", "KUBECONFIG=" + fleet.ReadOnlyKubeconfig}, "verify", "-n", ro, "--no-images", "-o", "json")
		v := parseVerify(t, r)
		if r.Code != 0 || len(v.Clusters) != 1 || len(v.Clusters[0].Releases) != 1 {
			t.Fatalf("exit %d, want 0 and the report\n%s", r.Code, r)
		}
		rel := v.Clusters[0].Releases[0]
		skipped := false
		for _, s := range rel.Skipped {
			if s.What == "Secret/hive-config" && s.Right == "get secrets in namespace "+ro {
				skipped = true
			}
		}
		if !skipped || rel.Error != "" || len(rel.Drift) != 0 {
			t.Errorf("want Secret/hive-config skipped for 'get secrets in namespace %s', no drift\n%s", ro, r.Stdout)
		}
	})

	t.Run("after helm upgrade to the same chart verify is clean", func(t *testing.T) {
		MustHelm(t, "upgrade", "skoala", "skoala-release/skoala", "--version", "0.28.1", "--reuse-values", "--kube-context", "global", "-n", ns, "--wait", "--timeout", "2m")
		if r := verify(); r.Code != 0 {
			t.Errorf("exit %d, want 0 after helm upgrade\n%s", r.Code, r)
		}
	})
}

// TestVerifyCRDChangedByHand stops serving the version of a live Contour CRD with kubectl: verify names the
// chart file it comes from and the field.
func TestVerifyCRDChangedByHand(t *testing.T) {
	const crd = "extensionservices.projectcontour.io"
	const path = "/spec/versions/0/served"
	ns := Namespace(t, "verifycrd")
	InstallChart(t, "workspace-1", ns, "skoala-init", "skoala-init", "0.28.1")
	kc := func(args ...string) Result {
		return MustKubectl(t, append([]string{"--context", "workspace-1"}, args...)...)
	}
	kc("patch", "crd", crd, "--type", "json", "-p", `[{"op":"replace","path":"`+path+`","value":false}]`)
	t.Cleanup(func() {
		kc("patch", "crd", crd, "--type", "json", "-p", `[{"op":"replace","path":"`+path+`","value":true}]`)
	})
	r := Skoala(t, "verify", "-n", ns, "--no-images", "-w", "workspace-1", "-o", "json")
	v := parseVerify(t, r)
	if r.Code != 3 {
		t.Errorf("exit %d, want 3\n%s", r.Code, r)
	}
	found := false
	for _, c := range v.Clusters {
		for _, rel := range c.Releases {
			for _, x := range rel.CRDs {
				if x.Name != crd {
					continue
				}
				for _, f := range x.Fields {
					found = found || (f.Path == path && x.File == "charts/contour-provisioner/crds/contour.yaml" && x.State != "same")
				}
			}
		}
	}
	if !found {
		t.Errorf("want CRD %s reported from charts/contour-provisioner/crds/contour.yaml with %s\n%s", crd, path, r.Stdout)
	}
}

// TestVerifyProvenance signs a chart with a key made at test time and the real helm CLI ('helm package
// --sign'), serves it with its .prov from a repository of the test's own on loopback, installs it, and
// verifies the release's chart with --keyring: verified; one byte of the archive changed: failed, exit 3;
// no .prov: unsigned, information only.
func TestVerifyProvenance(t *testing.T) {
	dir := t.TempDir()
	ent, err := openpgp.NewEntity("skoala e2e", "test key", "e2e@skoala.invalid", nil)
	if err != nil {
		t.Fatal(err)
	}
	sec, pub := filepath.Join(dir, "secring.gpg"), filepath.Join(dir, "pubring.gpg")
	var sb, pb bytes.Buffer
	if err := ent.SerializePrivate(&sb, nil); err != nil {
		t.Fatal(err)
	}
	if err := ent.Serialize(&pb); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sec, sb.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pub, pb.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	serve := filepath.Join(dir, "repo")
	srv := httptest.NewServer(http.FileServer(http.Dir(serve)))
	t.Cleanup(srv.Close)

	home := filepath.Join(dir, "helm")
	env := withEnv(fleet.BaseEnv(t), "HELM_REPOSITORY_CONFIG="+filepath.Join(home, "repositories.yaml"), "HELM_REPOSITORY_CACHE="+filepath.Join(home, "cache"))
	helm := func(args ...string) Result {
		r := Run(t, env, 3*time.Minute, filepath.Join(fleet.BinDir, "helm3"), args...)
		if r.Code != 0 {
			t.Fatalf("helm failed:\n%s", r)
		}
		return r
	}
	MustHelm(t, "pull", "skoala-release/skoala", "--version", "0.28.1", "--untar", "-d", filepath.Join(dir, "src"))
	helm("package", "--sign", "--key", "skoala e2e", "--keyring", sec, "-d", serve, filepath.Join(dir, "src", "skoala"))
	helm("repo", "index", serve, "--url", srv.URL)
	helm("repo", "add", "signed", srv.URL)
	ns := Namespace(t, "verifyprov")
	helm("upgrade", "--install", "skoala", "signed/skoala", "--version", "0.28.1", "--kube-context", "global", "-n", ns, "--create-namespace", "--wait", "--timeout", "2m")
	verify := func() (Result, string) {
		r := Run(t, env, 2*time.Minute, fleet.Skoala, "verify", "-n", ns, "--no-images", "--repo", "signed", "--keyring", pub, "-o", "json")
		var v struct {
			Clusters []struct {
				Releases []struct {
					Provenance *struct {
						State, SignedBy, Detail string
					} `json:"provenance"`
				} `json:"releases"`
			} `json:"clusters"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil || len(v.Clusters) != 1 || len(v.Clusters[0].Releases) != 1 || v.Clusters[0].Releases[0].Provenance == nil {
			t.Fatalf("verify --keyring: no provenance in the report (%v)\n%s", err, r)
		}
		p := v.Clusters[0].Releases[0].Provenance
		return r, p.State + " " + p.SignedBy + " " + p.Detail
	}
	if r, p := verify(); r.Code != 0 || !strings.HasPrefix(p, "verified skoala e2e (test key) <e2e@skoala.invalid>") {
		t.Errorf("signed chart: exit %d, provenance %q; want 0 and verified by the test key\n%s", r.Code, p, r)
	}
	archive := filepath.Join(serve, "skoala-0.28.1.tgz")
	b, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(archive, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if r, p := verify(); r.Code != 3 || !strings.HasPrefix(p, "failed") || !strings.Contains(p, "sha256 sum does not match") {
		t.Errorf("one byte changed: exit %d, provenance %q; want 3 and failed on the digest\n%s", r.Code, p, r)
	}
	if err := os.Remove(archive + ".prov"); err != nil {
		t.Fatal(err)
	}
	if r, p := verify(); r.Code != 0 || !strings.HasPrefix(p, "unsigned") {
		t.Errorf("no .prov: exit %d, provenance %q; want 0 and unsigned\n%s", r.Code, p, r)
	}
}

// TestVerifyTagPushedAgain pushes skoala 0.57.2's images with 'images push' (which records their digests),
// installs the chart from that registry, then pushes other content under the same tags from elsewhere
// (another push record, as another operator's machine): verify reports each moved tag against the recorded
// digest, reading the registry with the docker config's credentials and the fleet registry's CA.
func TestVerifyTagPushedAgain(t *testing.T) {
	reg := fleetRegistry(t)
	target := reg.Host + "/" + runPrefix(t, "verify")
	record := filepath.Join(t.TempDir(), "pushed.json")
	env := append(reg.dockerConfig(t, reg.Password), "SKOALA_PUSH_RECORD="+record)
	if r := SkoalaEnv(t, env, "images", "push", "--registry", target, "--ca-file", reg.CAFile, "--bundle", reg.bundle("amd64", "skoala", "0.57.2")); r.Code != 0 {
		t.Fatalf("images push: %s", r)
	}
	ns := Namespace(t, "verifytag")
	InstallChart(t, "global", ns, "skoala", "skoala", "0.57.2", "--set", "global.imageRegistry="+target)
	verify := func() (Result, map[string]string) {
		r := SkoalaEnv(t, env, "verify", "-n", ns, "--registry-ca-file", reg.CAFile, "-o", "json")
		var v struct {
			Clusters []struct {
				Releases []struct {
					Images []struct{ Workload, Container, State, PushedDigest, RegistryDigest string } `json:"images"`
				} `json:"releases"`
			} `json:"clusters"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil || len(v.Clusters) != 1 {
			t.Fatalf("verify: %v\n%s", err, r)
		}
		states := map[string]string{}
		for _, im := range v.Clusters[0].Releases[0].Images {
			states[im.Workload+"/"+im.Container] = im.State
		}
		return r, states
	}
	if r, st := verify(); r.Code != 0 || st["Deployment/hive/hive"] != "same" {
		t.Fatalf("as pushed: exit %d, hive %q; want 0 and same\n%s", r.Code, st["Deployment/hive/hive"], r)
	}
	other := t.TempDir()
	if r := Run(t, nil, 5*time.Minute, reg.Tool, "bundles", "-charts", filepath.Join(fleet.Dir, "charts"), "-out", other, "-versions", "0.57.2", "-platforms", "amd64", "-salt", "verify"); r.Code != 0 {
		t.Fatalf("hack/offline bundles: %s", r)
	}
	elsewhere := append(reg.dockerConfig(t, reg.Password), "SKOALA_PUSH_RECORD="+filepath.Join(t.TempDir(), "other.json"))
	if r := SkoalaEnv(t, elsewhere, "images", "push", "--overwrite", "--registry", target, "--ca-file", reg.CAFile, "--bundle", filepath.Join(other, "amd64", "skoala_0.57.2.bundle.tar")); r.Code != 0 {
		t.Fatalf("push again: %s", r)
	}
	r, st := verify()
	if r.Code != 3 || st["Deployment/hive/hive"] != "tag-moved" {
		t.Errorf("pushed again: exit %d, hive %q; want 3 and tag-moved\n%s", r.Code, st["Deployment/hive/hive"], r)
	}
	if strings.Contains(r.Stdout+r.Stderr, reg.Password) {
		t.Errorf("the registry password was printed\n%s", r)
	}
}

// TestUpgradeDryRunPredictsTheRecordSize: a release whose own record (not a padded Secret) is near the 1 MiB
// limit, because its user values carry 0.9 MiB that does not compress, is warned about by verify, and
// 'upgrade --dry-run' to the newer chart predicts the record it would write (the values come along) and warns.
func TestUpgradeDryRunPredictsTheRecordSize(t *testing.T) {
	ns := Namespace(t, "recordsize")
	raw := make([]byte, 720<<10)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	pad := filepath.Join(t.TempDir(), "pad.txt")
	// base64 of random bytes: gzip keeps ~6 of every 8 bits, Helm's base64 of the gzip adds them back, so the
	// record grows by about the file's length (960 KiB: over 92% of the limit with the chart).
	if err := os.WriteFile(pad, []byte(base64.StdEncoding.EncodeToString(raw)), 0o600); err != nil {
		t.Fatal(err)
	}
	InstallChart(t, "global", ns, "skoala", "skoala", "0.28.1", "--set-file", "e2e.pad="+pad)

	r := Skoala(t, "verify", "-n", ns, "--no-images", "-o", "json")
	v := parseVerify(t, r)
	size := v.Clusters[0].Releases[0].Size
	if size == nil || size.Percent < 90 || !size.Warning {
		t.Fatalf("verify: want the record at 90%% or more with a warning\n%s", r)
	}
	r = Skoala(t, "upgrade", "-n", ns, "--version", "0.33.2", "--dry-run", "--color", "never", "--backup-dir", t.TempDir())
	if r.Code != 0 || !strings.Contains(r.Stdout+r.Stderr, "of the API server's 1 MiB limit") || !strings.Contains(r.Stdout+r.Stderr, "skoala 0.33.2 would be") {
		t.Fatalf("upgrade --dry-run: want exit 0 and the predicted record size warned about\n%s", r)
	}
	if h := MustHelm(t, "history", "skoala", "--kube-context", "global", "-n", ns, "-o", "json"); strings.Count(h.Stdout, `"revision"`) != 1 {
		t.Errorf("the dry run changed the release:\n%s", h.Stdout)
	}
}
