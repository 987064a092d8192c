package images

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/skoala-dev/kubectl-skoala/pkg/golden"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/images/imagestest"
)

const (
	testUser     = "pusher"
	testPassword = "Unit-Regi5try-Secret"
)

// testRegistry is go-containerregistry's in-memory registry behind TLS and basic auth.
func testRegistry(t *testing.T) (host string, opts RegistryOptions) {
	t.Helper()
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != testUser || p != testPassword {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	host = strings.TrimPrefix(srv.URL, "https://")
	return host, RegistryOptions{Username: testUser, Password: testPassword, Host: host, CAFile: ca}
}

func chartFiles(t *testing.T, chart, version string) []helmsdk.ChartFile {
	t.Helper()
	files, err := imagestest.ChartDirFiles(filepath.Join("..", "..", "test", "charts", chart), version)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// makeBundle writes <dir>/<chart>_<version>.bundle.tar for arch with the images the chart renders.
func makeBundle(t *testing.T, dir, chart, version, arch, salt string) string {
	t.Helper()
	files := chartFiles(t, chart, version)
	ch, err := helmsdk.LoadChartFiles(chart, files)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := helmsdk.RenderImages(ch, nil, chart, "skoala-system")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var refs []string
	for _, w := range ws {
		if !seen[w.Image] {
			seen[w.Image] = true
			refs = append(refs, w.Image)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, BundleFileName(chart, version))
	if err := imagestest.WriteBundle(p, refs, files, arch, salt, 256); err != nil {
		t.Fatal(err)
	}
	return p
}

func openBundles(t *testing.T, paths ...string) []*Bundle {
	t.Helper()
	var out []*Bundle
	for _, p := range paths {
		b, err := OpenBundle(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func TestTarget(t *testing.T) {
	for _, tc := range []struct{ src, reg, repo, want string }{
		{"release.daocloud.io/skoala/hive:v0.57.2", "127.0.0.1:5000", "", "127.0.0.1:5000/skoala/hive:v0.57.2"},
		{"release.daocloud.io/istio/proxyv2:1.20.0", "reg.local", "", "reg.local/istio/proxyv2:1.20.0"},
		{"release.daocloud.io/skoala/hive:v1", "reg.local:8443", "mirror/dce", "reg.local:8443/mirror/dce/hive:v1"},
		{"busybox:1", "reg.local", "", "reg.local/library/busybox:1"},
		{"release.daocloud.io/skoala/hive:v1", "reg.local:8443/dce", "", "reg.local:8443/dce/skoala/hive:v1"},
	} {
		got, err := Target(tc.src, tc.reg, tc.repo)
		if err != nil || got != tc.want {
			t.Errorf("Target(%q, %q, %q) = %q, %v; want %q", tc.src, tc.reg, tc.repo, got, err, tc.want)
		}
	}
}

func TestOpenBundle(t *testing.T) {
	dir := t.TempDir()
	good := makeBundle(t, dir, "skoala", "0.57.2", "amd64", "")
	t.Run("reads a bundle charts-syncer wrote", func(t *testing.T) {
		b, err := OpenBundle(good)
		if err != nil {
			t.Fatal(err)
		}
		if b.Chart != "skoala" || b.Version != "0.57.2" || len(b.Hints) == 0 {
			t.Fatalf("bundle %+v", b)
		}
		ch, err := b.LoadChart()
		if err != nil || ch.Name != "skoala" || ch.Version != "0.57.2" {
			t.Fatalf("chart %v %v", ch, err)
		}
		imgs, err := b.Images()
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"release.daocloud.io/istio/proxyv2:1.20.0", "release.daocloud.io/skoala/hive:v0.57.2",
			"release.daocloud.io/skoala/sesame:v0.57.2", "release.daocloud.io/skoala/skoala-ui:v0.57.2"}
		if got := b.Sources(); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("sources %v, want %v", got, want)
		}
		for _, im := range imgs {
			if im.Platform != "linux/amd64" {
				t.Errorf("%s platform %s", im.Source, im.Platform)
			}
		}
	})
	t.Run("refuses a file whose name is not chart_version.bundle.tar", func(t *testing.T) {
		p := filepath.Join(dir, "skoala-0.57.2.tar")
		_ = os.Link(good, p)
		_, err := OpenBundle(p)
		if err == nil || !strings.Contains(err.Error(), "its name is not <chart>_<version>.bundle.tar") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("refuses a bundle whose chart is not the one its name says", func(t *testing.T) {
		p := filepath.Join(dir, "skoala_0.58.0.bundle.tar")
		_ = os.Link(good, p)
		b, err := OpenBundle(p)
		if err != nil {
			t.Fatal(err)
		}
		_, err = b.LoadChart()
		if err == nil || !strings.Contains(err.Error(), "original-chart/ is skoala 0.57.2, the file name says skoala 0.58.0") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("names each missing part", func(t *testing.T) {
		p := filepath.Join(dir, "x", "skoala_0.57.2.bundle.tar")
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		if err := imagestest.WriteTar(p, map[string][]byte{"original-chart/Chart.yaml": []byte("name: skoala\n")}); err != nil {
			t.Fatal(err)
		}
		_, err := OpenBundle(p)
		if err == nil || !strings.Contains(err.Error(), "missing hints.yaml, original-chart/values.yaml, images.tar") {
			t.Fatalf("err %v", err)
		}
	})
}

func TestPushAndCheck(t *testing.T) {
	host, opts := testRegistry(t)
	ctx := context.Background()
	dir := t.TempDir()
	amd := makeBundle(t, filepath.Join(dir, "amd64"), "skoala", "0.57.2", "amd64", "")
	arm := makeBundle(t, filepath.Join(dir, "arm64"), "skoala", "0.57.2", "arm64", "")
	initAmd := makeBundle(t, filepath.Join(dir, "amd64"), "skoala-init", "0.57.2", "amd64", "")

	need := func(b string) []Need {
		var out []Need
		for _, s := range openBundles(t, b)[0].Sources() {
			tgt, _ := Target(s, host, "")
			out = append(out, Need{Image: tgt, Chart: "skoala", Version: "0.57.2", Fix: "push it"})
		}
		return out
	}

	t.Run("before the push every image is missing, with the command that pushes it", func(t *testing.T) {
		rep, err := Check(ctx, CheckConfig{Needs: need(amd), Architectures: []string{"amd64"}, Options: opts})
		if err != nil {
			t.Fatal(err)
		}
		if rep.OK() || rep.Missing != 4 || len(rep.Fixes) != 1 || rep.Fixes[0] != "push it" {
			t.Fatalf("report %+v", rep)
		}
	})
	var progress []Progress
	t.Run("pushes both platforms of a reference as one index", func(t *testing.T) {
		rep, err := Push(ctx, PushConfig{Bundles: openBundles(t, amd, arm, initAmd), Registry: host, Options: opts,
			Progress: func(p Progress) { progress = append(progress, p) }})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Pushed != len(rep.Images) || rep.Problems() {
			t.Fatalf("report %+v", rep)
		}
		for _, im := range rep.Images {
			if !strings.Contains(im.Source, "hive") && !strings.Contains(im.Source, "sesame") && !strings.Contains(im.Source, "skoala-ui") && !strings.Contains(im.Source, "proxyv2") {
				if strings.Join(im.Platforms, ",") != "linux/amd64" {
					t.Errorf("%s platforms %v", im.Source, im.Platforms)
				}
				continue
			}
			if strings.Join(im.Platforms, ",") != "linux/amd64,linux/arm64" {
				t.Errorf("%s platforms %v", im.Source, im.Platforms)
			}
		}
		last := progress[len(progress)-1]
		if last.ImagesDone != last.ImagesTotal || last.BytesDone == 0 {
			t.Errorf("last progress %+v", last)
		}
	})
	t.Run("a second push finds every image present", func(t *testing.T) {
		rep, err := Push(ctx, PushConfig{Bundles: openBundles(t, amd, arm), Registry: host, Options: opts})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Present != 4 || rep.Pushed != 0 {
			t.Fatalf("report %+v", rep)
		}
	})
	t.Run("an image of one platform that the pushed index lists is present", func(t *testing.T) {
		rep, err := Push(ctx, PushConfig{Bundles: openBundles(t, arm), Registry: host, Options: opts})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Present != 4 {
			t.Fatalf("report %+v", rep)
		}
	})
	t.Run("after the push the check finds every image for amd64 and arm64 nodes", func(t *testing.T) {
		rep, err := Check(ctx, CheckConfig{Needs: need(amd), Architectures: []string{"arm64", "amd64"}, Options: opts})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() || rep.Present != 4 {
			t.Fatalf("report %+v", rep)
		}
	})
	t.Run("an image of one platform is missing for the other architecture", func(t *testing.T) {
		n := []Need{{Image: host + "/skoala/skoala-agent:v0.57.2", Chart: "skoala-init", Version: "0.57.2"}}
		rep, err := Check(ctx, CheckConfig{Needs: n, Architectures: []string{"amd64", "arm64"}, Options: opts})
		if err != nil {
			t.Fatal(err)
		}
		if rep.OK() || rep.Images[0].Result != CheckMissingPlatform || strings.Join(rep.Images[0].MissingArchitectures, ",") != "arm64" {
			t.Fatalf("report %+v", rep.Images)
		}
	})
	t.Run("a tag holding another digest is a conflict and left as it is", func(t *testing.T) {
		other := makeBundle(t, filepath.Join(dir, "other"), "skoala", "0.57.2", "amd64", "other")
		rep, err := Push(ctx, PushConfig{Bundles: openBundles(t, other), Registry: host, Options: opts})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Conflict != 4 || !rep.Problems() {
			t.Fatalf("report %+v", rep)
		}
		again, err := Push(ctx, PushConfig{Bundles: openBundles(t, amd, arm), Registry: host, Options: opts})
		if err != nil || again.Present != 4 {
			t.Fatalf("the registry changed: %+v %v", again, err)
		}
		over, err := Push(ctx, PushConfig{Bundles: openBundles(t, other), Registry: host, Options: opts, Overwrite: true})
		if err != nil || over.Pushed != 4 || !strings.HasPrefix(over.Images[0].Message, "overwrote sha256:") {
			t.Fatalf("overwrite: %+v %v", over, err)
		}
	})
	t.Run("a wrong password stops the push with one line naming the user, not the password", func(t *testing.T) {
		bad := opts
		bad.Password = "Wr0ng-" + testPassword
		_, err := Push(ctx, PushConfig{Bundles: openBundles(t, amd), Registry: host, Options: bad})
		var ae *AuthError
		if !errors.As(err, &ae) {
			t.Fatalf("err %v", err)
		}
		if strings.Contains(err.Error(), bad.Password) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), `user "pusher"`) {
			t.Fatalf("message %q", err)
		}
		_, err = Check(ctx, CheckConfig{Needs: need(amd), Architectures: []string{"amd64"}, Options: bad})
		if !errors.As(err, &ae) {
			t.Fatalf("check err %v", err)
		}
	})
}

func TestList(t *testing.T) {
	ch, err := helmsdk.LoadChartFiles("skoala", chartFiles(t, "skoala", "0.57.2"))
	if err != nil {
		t.Fatal(err)
	}
	rels := []ReleaseValues{{Context: "global", Role: "control-plane", Release: "skoala", Namespace: "skoala-system", Chart: "skoala",
		Installed: "0.57.0", Values: map[string]any{"hive": map[string]any{"image": map[string]any{"tag": "v0.57.2-hotfix"}}}}}
	rep, err := List(map[string]*helmsdk.Chart{"skoala": ch}, rels, "127.0.0.1:5000", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"127.0.0.1:5000/istio/proxyv2:1.20.0", "127.0.0.1:5000/skoala/hive:v0.57.2-hotfix",
		"127.0.0.1:5000/skoala/sesame:v0.57.2", "127.0.0.1:5000/skoala/skoala-ui:v0.57.2"}
	if strings.Join(rep.Images, " ") != strings.Join(want, " ") {
		t.Fatalf("images %v, want %v", rep.Images, want)
	}
	// The images command's test (pkg/cmd/images) renders every view of it.
	golden.AssertModel(t, "../cmd/images/testdata/list.json", rep)
}

func TestLoadConfig(t *testing.T) {
	c, err := NewLoadConfig(LoadConfigInput{BundleDir: "/data/bundles", Registry: "reg.local:8443", Repository: "skoala",
		RegistryUser: "pusher", RepoKind: "oci", RepoURL: "oci://reg.local:8443/charts", RepoUser: "charts"})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := c.Write(&b, "kubectl skoala"); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "load-image.yaml", b.Bytes())
	if _, err := NewLoadConfig(LoadConfigInput{RepoKind: "s3"}); err == nil || !strings.Contains(err.Error(), `unknown chart repository kind "s3"`) {
		t.Fatalf("err %v", err)
	}
}
