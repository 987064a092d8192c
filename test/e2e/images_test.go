package e2e

// Offline sites (issue 11) against the fleet's real CNCF distribution registry (TLS from its own CA,
// htpasswd basic auth) and the bundles hack/offline wrote from the fixture charts.

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// offlineRegistry is the fleet's registry as the tests use it.
type offlineRegistry struct {
	Host, CAFile, User, Password string
	BundlesDir, Tool             string
}

func fleetRegistry(t *testing.T) offlineRegistry {
	t.Helper()
	r := offlineRegistry{Host: fleet.Env["SKOALA_REGISTRY"], CAFile: fleet.Env["SKOALA_REGISTRY_CA_FILE"],
		User: fleet.Env["SKOALA_REGISTRY_USERNAME"], Password: fleet.Env["SKOALA_REGISTRY_PASSWORD"],
		BundlesDir: fleet.Env["SKOALA_BUNDLES_DIR"], Tool: fleet.Env["SKOALA_OFFLINE_TOOL"]}
	if r.Host == "" || r.Password == "" || r.BundlesDir == "" {
		t.Fatalf("the fleet has no image registry (SKOALA_REGISTRY* in %s/env): restart it with 'hack/fleet.sh down && hack/fleet.sh up'", fleet.Dir)
	}
	return r
}

// dockerConfig writes a docker config.json holding the registry's credentials; it returns the env.
func (r offlineRegistry) dockerConfig(t *testing.T, password string) []string {
	t.Helper()
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(r.User + ":" + password))
	cfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, r.Host, auth)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"DOCKER_CONFIG=" + dir}
}

func (r offlineRegistry) bundle(arch, chart, version string) string {
	return filepath.Join(r.BundlesDir, arch, chart+"_"+version+".bundle.tar")
}

// head asks the registry for a manifest and returns its digest ("" when it is not there).
func (r offlineRegistry) head(t *testing.T, image string) string {
	t.Helper()
	rest := strings.TrimPrefix(image, r.Host+"/")
	if rest == image {
		t.Fatalf("%s is not on %s", image, r.Host)
	}
	i := strings.LastIndexByte(rest, ':')
	repo, tag := rest[:i], rest[i+1:]
	pem, err := os.ReadFile(r.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, _ := http.NewRequest(http.MethodHead, "https://"+r.Host+"/v2/"+repo+"/manifests/"+tag, nil)
	req.SetBasicAuth(r.User, r.Password)
	req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("HEAD %s: %v", image, err)
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return resp.Header.Get("Docker-Content-Digest")
	case http.StatusNotFound:
		return ""
	}
	t.Fatalf("HEAD %s: HTTP %d", image, resp.StatusCode)
	return ""
}

// runPrefix is a registry path of this run: every run starts from images that are not there.
func runPrefix(t *testing.T, what string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return what + "-" + hex.EncodeToString(b)
}

func podImages(t *testing.T, kubeContext, ns string) []string {
	t.Helper()
	r := MustKubectl(t, "--context", kubeContext, "-n", ns, "get", "pods", "-o", "json")
	var pods struct {
		Items []struct {
			Spec struct {
				Containers     []struct{ Image string } `json:"containers"`
				InitContainers []struct{ Image string } `json:"initContainers"`
			} `json:"spec"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &pods); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range pods.Items {
		for _, c := range append(p.Spec.Containers, p.Spec.InitContainers...) {
			out = append(out, c.Image)
		}
	}
	return out
}

// TestImagesOfflineUpgrade: before the push, images check, doctor and upgrade --bundle refuse naming the
// missing images; after pushing the skoala and skoala-init bundles (amd64 and arm64) the check passes, the
// upgrade moves the fleet and every pod's image resolves in the registry by manifest HEAD.
func TestImagesOfflineUpgrade(t *testing.T) {
	reg := fleetRegistry(t)
	ns := freshNamespace(t, "imgoff")
	installUpgradeFleet(t, ns, "0.57.0", []string{"workspace-1"})
	target := reg.Host + "/" + runPrefix(t, "offline")
	env := reg.dockerConfig(t, reg.Password)
	const version = "0.57.2"
	amd := []string{"--bundle", reg.bundle("amd64", "skoala", version), "--bundle", reg.bundle("amd64", "skoala-init", version)}
	arm := []string{"--bundle", reg.bundle("arm64", "skoala", version), "--bundle", reg.bundle("arm64", "skoala-init", version)}
	check := append([]string{"images", "check", "-n", ns, "-w", "workspace-1", "--image-registry", target, "--ca-file", reg.CAFile}, amd...)

	t.Run("before the push images check fails naming each missing image and the push command", func(t *testing.T) {
		r := SkoalaEnv(t, env, check...)
		if r.Code != 3 {
			t.Fatalf("exit %d, want 3\n%s", r.Code, r)
		}
		for _, im := range []string{target + "/skoala/hive:v" + version, target + "/skoala/skoala-agent:v" + version, target + "/istio/proxyv2:1.20.0"} {
			if !strings.Contains(r.Stdout, "missing "+im) {
				t.Errorf("%s is not named missing:\n%s", im, r.Stdout)
			}
		}
		if !strings.Contains(r.Stdout, "fix: kubectl skoala images push --bundle "+reg.bundle("amd64", "skoala", version)+" --registry "+target) {
			t.Errorf("no push command:\n%s", r.Stdout)
		}
	})
	t.Run("before the push doctor --to fails naming the missing images", func(t *testing.T) {
		r := SkoalaEnv(t, env, "doctor", "-n", ns, "-w", "workspace-1", "--to", version, "--image-registry", target,
			"--registry-ca-file", reg.CAFile, "-o", "json")
		if r.Code != 3 {
			t.Fatalf("exit %d, want 3\n%s", r.Code, r)
		}
		d := parseDoctor(t, r)
		c := d.check(t, "repository.images", "")
		wantStatus(t, c, "fail", target+"/skoala/hive:v"+version+" (missing)", "images push --bundle")
	})
	t.Run("before the push upgrade --bundle refuses before any change", func(t *testing.T) {
		before := releaseRevisions(t, "global", ns, "skoala")
		args := append([]string{"upgrade", "-n", ns, "-w", "workspace-1", "--image-registry", target, "--registry-ca-file", reg.CAFile,
			"--backup-dir", t.TempDir(), "--yes"}, amd...)
		r := SkoalaEnv(t, env, args...)
		if r.Code != 3 || !strings.Contains(r.Stderr, "the registry lacks") || !strings.Contains(r.Stderr, "nothing was changed") {
			t.Fatalf("exit %d, want 3 naming the missing images\n%s", r.Code, r)
		}
		if after := releaseRevisions(t, "global", ns, "skoala"); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("the release changed: %v -> %v", before, after)
		}
		// -o json: the same refusal, and stdout is the check's report as JSON (it was a table whatever -o said).
		r = SkoalaEnv(t, env, append(args, "-o", "json")...)
		var rep struct {
			Missing int `json:"missing"`
			Images  []struct {
				Image  string `json:"image"`
				Result string `json:"result"`
			} `json:"images"`
		}
		if r.Code != 3 {
			t.Fatalf("-o json: exit %d, want 3\n%s", r.Code, r)
		}
		if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
			t.Fatalf("-o json: stdout is not the check's JSON report: %v\n%s", err, r.Stdout)
		}
		missing := map[string]bool{}
		for _, im := range rep.Images {
			missing[im.Image] = im.Result != "present"
		}
		if rep.Missing == 0 || !missing[target+"/skoala/hive:v"+version] {
			t.Errorf("-o json: the report does not name %s/skoala/hive:v%s missing:\n%s", target, version, r.Stdout)
		}
		if after := releaseRevisions(t, "global", ns, "skoala"); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("-o json: the release changed: %v -> %v", before, after)
		}
	})
	t.Run("push of both bundles for amd64 and arm64, then the check passes", func(t *testing.T) {
		args := append(append([]string{"images", "push", "--registry", target, "--ca-file", reg.CAFile, "-o", "json"}, amd...), arm...)
		r := SkoalaEnv(t, env, args...)
		if r.Code != 0 {
			t.Fatalf("exit %d\n%s", r.Code, r)
		}
		var rep struct {
			Images []struct{ Source, Target, Digest, Result string } `json:"images"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
			t.Fatalf("%v\n%s", err, r)
		}
		if len(rep.Images) < 11 {
			t.Fatalf("only %d images pushed\n%s", len(rep.Images), r)
		}
		for _, im := range rep.Images {
			if im.Result != "pushed" {
				t.Errorf("%s: %s", im.Target, im.Result)
			}
			if got := reg.head(t, im.Target); got != im.Digest {
				t.Errorf("%s: the registry has %q, the push reported %s", im.Target, got, im.Digest)
			}
		}
		again := SkoalaEnv(t, env, append(append([]string{"images", "push", "--registry", target, "--ca-file", reg.CAFile}, amd...), arm...)...)
		if again.Code != 0 || !strings.Contains(again.Stdout, "0 pushed, "+fmt.Sprint(len(rep.Images))+" already present") {
			t.Errorf("a second push is not all present:\n%s", again)
		}
		if c := SkoalaEnv(t, env, check...); c.Code != 0 {
			t.Fatalf("check after the push: exit %d\n%s", c.Code, c)
		}
		r = SkoalaEnv(t, env, "doctor", "-n", ns, "-w", "workspace-1", "--to", version, "--image-registry", target,
			"--registry-ca-file", reg.CAFile, "-o", "json")
		wantStatus(t, parseDoctor(t, r).check(t, "repository.images", ""), "ok", "are in "+target)
	})
	t.Run("upgrade --bundle moves the fleet and every pod's image resolves in the registry", func(t *testing.T) {
		args := append([]string{"upgrade", "-n", ns, "-w", "workspace-1", "--image-registry", target, "--registry-ca-file", reg.CAFile,
			"--backup-dir", t.TempDir(), "--timeout", "2m", "--yes"}, amd...)
		r := SkoalaEnv(t, env, args...)
		if r.Code != 0 {
			t.Fatalf("exit %d\n%s", r.Code, r)
		}
		n := 0
		for _, c := range []string{"global", "workspace-1"} {
			for _, im := range podImages(t, c, ns) {
				if !strings.HasPrefix(im, target+"/") {
					if strings.Contains(im, "mysql") {
						continue // common-mysql is not part of the bundles
					}
					t.Errorf("%s: pod image %s is not on %s", c, im, target)
					continue
				}
				n++
				if reg.head(t, im) == "" {
					t.Errorf("%s: pod image %s does not resolve in the registry", c, im)
				}
			}
		}
		if n < 8 {
			t.Errorf("only %d pod images on the registry", n)
		}
	})
}

// TestImagesConflictAndCredentials: a tag holding another digest is a conflict, reported and left as it
// is; a wrong password gives one error line, exit 1, and the password is in no output.
func TestImagesConflictAndCredentials(t *testing.T) {
	reg := fleetRegistry(t)
	target := reg.Host + "/" + runPrefix(t, "conflict")
	env := reg.dockerConfig(t, reg.Password)
	other := t.TempDir()
	r := Run(t, nil, 5*time.Minute, reg.Tool, "bundles", "-charts", filepath.Join(fleet.Dir, "charts"), "-out", other, "-versions", "0.57.2", "-platforms", "amd64", "-salt", "other")
	if r.Code != 0 {
		t.Fatalf("hack/offline bundles: %s", r)
	}
	otherBundle := filepath.Join(other, "amd64", "skoala_0.57.2.bundle.tar")
	push := func(env []string, extra ...string) Result {
		return SkoalaEnv(t, env, append([]string{"images", "push", "--registry", target, "--ca-file", reg.CAFile}, extra...)...)
	}
	if r := push(env, "--bundle", otherBundle); r.Code != 0 {
		t.Fatalf("first push: %s", r)
	}
	hive := target + "/skoala/hive:v0.57.2"
	before := reg.head(t, hive)
	t.Run("another digest under the same tag is a conflict, left untouched", func(t *testing.T) {
		r := push(env, "--bundle", reg.bundle("amd64", "skoala", "0.57.2"), "-o", "json")
		if r.Code != 3 {
			t.Fatalf("exit %d, want 3\n%s", r.Code, r)
		}
		var rep struct {
			Images []struct{ Target, Result, Existing string } `json:"images"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
			t.Fatal(err)
		}
		for _, im := range rep.Images {
			if im.Result != "conflict" || im.Existing == "" {
				t.Errorf("%s: %s, want conflict", im.Target, im.Result)
			}
		}
		if after := reg.head(t, hive); after != before {
			t.Errorf("the registry's %s changed: %s -> %s", hive, before, after)
		}
	})
	t.Run("a wrong password: one line, exit 1, the password in no output", func(t *testing.T) {
		wrong := "Wr0ng-" + reg.Password
		for _, r := range []Result{
			push(reg.dockerConfig(t, wrong), "--bundle", reg.bundle("amd64", "skoala", "0.57.2")),
			Run(t, append(fleet.BaseEnv(t), "SKOALA_STDIN="+wrong), 2*time.Minute, "sh", "-c",
				`printf '%s\n' "$SKOALA_STDIN" | "$0" images push --bundle "$1" --registry "$2" --ca-file "$3" --registry-username skoala --registry-password-stdin`,
				fleet.Skoala, reg.bundle("amd64", "skoala", "0.57.2"), target, reg.CAFile),
		} {
			if r.Code != 1 {
				t.Errorf("exit %d, want 1\n%s", r.Code, r)
			}
			if n := strings.Count(r.Stderr, "error: "); n != 1 || !strings.Contains(r.Stderr, "refused the credentials of user \"skoala\"") {
				t.Errorf("want one error line naming the user\n%s", r)
			}
			if strings.Contains(r.Stdout+r.Stderr, wrong) || strings.Contains(r.Stdout+r.Stderr, reg.Password) {
				t.Errorf("a password was printed\n%s", r)
			}
		}
	})
}

// chartsSyncerConfig is the part of charts-syncer's config schema (api/config.proto, camelCase JSON) a
// load-image.yaml uses; decoding is strict, so an unknown key fails.
type chartsSyncerConfig struct {
	Source struct {
		IntermediateBundlesPath string `json:"intermediateBundlesPath"`
	} `json:"source"`
	Target struct {
		ContainerRegistry   string `json:"containerRegistry"`
		ContainerRepository string `json:"containerRepository"`
		Repo                *struct {
			Kind string `json:"kind"`
			URL  string `json:"url"`
			Path string `json:"path"`
			Auth *struct {
				Username string `json:"username"`
				Password string `json:"password"`
			} `json:"auth"`
		} `json:"repo"`
		Containers *struct {
			Auth *struct {
				Username string `json:"username"`
				Password string `json:"password"`
			} `json:"auth"`
		} `json:"containers"`
	} `json:"target"`
}

func TestImagesLoadConfig(t *testing.T) {
	reg := fleetRegistry(t)
	out := filepath.Join(t.TempDir(), "load-image.yaml")
	r := Skoala(t, "images", "load-config", "--bundle-dir", filepath.Join(reg.BundlesDir, "amd64"), "--registry", reg.Host,
		"--repository", "skoala", "--registry-username", reg.User, "--chart-repo-kind", "OCI", "--chart-repo-url", "oci://"+reg.Host+"/charts",
		"--chart-repo-username", reg.User, "-f", out)
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s", r.Code, r)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	capture(t, Result{Args: []string{"load-image.yaml"}, Stdout: string(b)})
	var c chartsSyncerConfig
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		t.Fatalf("load-image.yaml does not decode strictly into charts-syncer's schema: %v\n%s", err, b)
	}
	if c.Source.IntermediateBundlesPath != filepath.Join(reg.BundlesDir, "amd64") || c.Target.ContainerRegistry != reg.Host ||
		c.Target.Containers == nil || c.Target.Containers.Auth.Username != reg.User || c.Target.Repo == nil || c.Target.Repo.Kind != "OCI" {
		t.Errorf("unexpected config %+v\n%s", c, b)
	}
	if c.Target.Containers.Auth.Password != "" || c.Target.Repo.Auth.Password != "" || strings.Contains(string(b), reg.Password) {
		t.Errorf("a password is written:\n%s", b)
	}
	if !strings.Contains(string(b), "TARGET_CONTAINERS_AUTH_PASSWORD") {
		t.Errorf("the file does not say where the password comes from:\n%s", b)
	}
}

// TestImagesList: the images the bundles' charts render for this fleet, with the registry override.
func TestImagesList(t *testing.T) {
	reg := fleetRegistry(t)
	ns := freshNamespace(t, "imglist")
	InstallChart(t, "workspace-1", ns, "skoala-init", "skoala-init", "0.57.0", "--set", "contour-provisioner.image.tag=v0.57.0-pinned")
	r := Skoala(t, "images", "list", "-n", ns, "-w", "workspace-1", "--bundle", reg.bundle("amd64", "skoala-init", "0.57.2"),
		"--image-registry", "reg.site:5000", "-o", "json")
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s", r.Code, r)
	}
	var rep struct {
		Images []string `json:"images"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(rep.Images, " ")
	for _, want := range []string{"reg.site:5000/skoala/contour-provisioner:v0.57.0-pinned", "reg.site:5000/skoala/skoala-agent:v0.57.2", "reg.site:5000/skoala/nacos-operator:v0.57.2"} {
		if !strings.Contains(got, want) {
			t.Errorf("%s not listed: %s", want, got)
		}
	}
}
