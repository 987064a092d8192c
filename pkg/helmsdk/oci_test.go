package helmsdk

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
)

// ociServer is go-containerregistry's in-process registry behind TLS, trusted by the registry client.
func ociServer(t *testing.T) (host string, push func(name, version string)) {
	t.Helper()
	srv := httptest.NewTLSServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	old := ociTransport
	ociTransport = func() http.RoundTripper { return srv.Client().Transport }
	t.Cleanup(func() { ociTransport = old })
	host = strings.TrimPrefix(srv.URL, "https://")
	c, err := newRegistryClient(filepath.Join(t.TempDir(), "config.json"), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	return host, func(name, version string) {
		t.Helper()
		ch := &chart.Chart{Metadata: &chart.Metadata{APIVersion: "v2", Name: name, Version: version, AppVersion: version},
			Templates: nil, Values: map[string]any{}}
		p, err := chartutil.Save(ch, dir)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Push(b, host+"/charts/"+name+":"+strings.ReplaceAll(version, "+", "_")); err != nil {
			t.Fatalf("push %s %s: %v", name, version, err)
		}
	}
}

func TestOCIRepository(t *testing.T) {
	host, push := ociServer(t)
	for _, v := range []string{"0.28.1", "0.34.0", "0.33.3", "0.58.0-rc.1", "0.57.2"} {
		push("skoala", v)
	}
	ctx := context.Background()
	env := Env{RegistryConfig: filepath.Join(t.TempDir(), "config.json")}
	ref := "oci://" + host + "/charts"
	if !IsOCI(ref) || IsOCI("https://"+host) || IsOCI("skoala-release") {
		t.Fatal("IsOCI")
	}
	st, idx, warns := LoadRepository(ctx, env, ref+"/", false, 10*time.Second)
	if idx == nil || len(warns) > 0 {
		t.Fatalf("status %+v warnings %v", st, warns)
	}
	if st.Name != host+"/charts" || st.URL != ref {
		t.Errorf("status %+v", st)
	}
	var got []string
	for _, v := range idx.Versions("skoala") {
		got = append(got, v.Version)
	}
	// Helm's registry client lists the tags in semver order (callers sort again)
	if strings.Join(got, " ") != "0.58.0-rc.1 0.57.2 0.34.0 0.33.3 0.28.1" {
		t.Errorf("versions %v", got)
	}
	if len(idx.Versions("skoala-init")) != 0 {
		t.Errorf("skoala-init has versions: %v", idx.Versions("skoala-init"))
	}
	r, _, err := LoadOCIRepository(ctx, env, ref, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := DownloadChart(ctx, r, idx.Versions("skoala")[1], 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Name != "skoala" || ch.Version != "0.57.2" || ch.Source != ref+"/skoala:0.57.2" {
		t.Errorf("chart %+v", ch)
	}
	if _, err := DownloadChart(ctx, r, ChartVersion{Name: "skoala", Version: "0.99.0"}, 10*time.Second); err == nil {
		t.Error("a missing version downloaded")
	}
	for _, bad := range []string{"oci://" + host + "/charts/skoala:0.57.2", "oci://" + host + "/charts@sha256:00", "oci://"} {
		if _, _, err := LoadOCIRepository(ctx, env, bad, time.Second); err == nil || !strings.Contains(err.Error(), "want oci://HOST[:PORT]/PATH") {
			t.Errorf("%s: %v", bad, err)
		}
	}
	st, idx, _ = LoadRepository(ctx, env, "oci://"+host+"/empty", false, 10*time.Second)
	if idx != nil || !strings.Contains(st.Error, "holds no skoala or skoala-init chart") || !strings.Contains(st.Hint, "helm push") {
		t.Errorf("empty path: %+v", st)
	}
}
