package helmsdk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
)

// chartRepo serves one chart archive (skoala-init 0.57.2) behind basic auth, and writes the
// repositories.yaml and cached index of a repository "skoala-release" pointing at it.
func chartRepo(t *testing.T, digest func(sum string) string) (*Repository, ChartVersion, *httptest.Server) {
	t.Helper()
	dir := t.TempDir()
	ch, err := loader.LoadDir(writeChart(t, dir, "skoala-init"))
	if err != nil {
		t.Fatal(err)
	}
	tgz, err := chartutil.Save(ch, dir)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(tgz)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "me" || p != "s3cret" {
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/slow/skoala-init-0.57.2.tgz" {
			time.Sleep(2 * time.Second)
		}
		_, _ = w.Write(data)
	}))
	t.Cleanup(srv.Close)
	cache := filepath.Join(dir, "cache")
	_ = os.MkdirAll(cache, 0o755)
	cfg := filepath.Join(dir, "repositories.yaml")
	_ = os.WriteFile(cfg, []byte("apiVersion: v1\nrepositories:\n- name: skoala-release\n  url: "+srv.URL+"\n  username: me\n  password: s3cret\n"), 0o644)
	d := digest(hex.EncodeToString(sum[:]))
	idx := "apiVersion: v1\nentries:\n  skoala-init:\n  - name: skoala-init\n    version: 0.57.2\n    apiVersion: v2\n    digest: " + d + "\n    urls: [skoala-init-0.57.2.tgz]\n"
	_ = os.WriteFile(filepath.Join(cache, "skoala-release-index.yaml"), []byte(idx), 0o644)
	repos, err := LoadRepositories(cfg, cache)
	if err != nil {
		t.Fatal(err)
	}
	return &repos[0], ChartVersion{Name: "skoala-init", Version: "0.57.2", Digest: d, URLs: []string{"skoala-init-0.57.2.tgz"}}, srv
}

func TestDownloadChart(t *testing.T) {
	ctx := context.Background()
	t.Run("with the repository's credentials, its digest checked", func(t *testing.T) {
		r, cv, _ := chartRepo(t, func(s string) string { return s })
		c, err := DownloadChart(ctx, r, cv, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if c.Name != "skoala-init" || c.Version != "0.57.2" || len(c.CRDFiles()) != 2 {
			t.Errorf("chart %+v", c)
		}
	})
	t.Run("a digest that does not match is refused", func(t *testing.T) {
		// a hex digest YAML reads as a string: Helm 4's downloader decodes the index's digest itself (all digits read as a number)
		r, cv, _ := chartRepo(t, func(string) string { return strings.Repeat("ab", 32) })
		if _, err := DownloadChart(ctx, r, cv, 10*time.Second); err == nil || !strings.Contains(err.Error(), "refusing it") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("a cancelled context ends the download", func(t *testing.T) {
		r, cv, srv := chartRepo(t, func(s string) string { return s })
		cv.URLs = []string{srv.URL + "/slow/skoala-init-0.57.2.tgz"}
		_ = os.WriteFile(r.IndexPath, []byte("apiVersion: v1\nentries:\n  skoala-init:\n  - name: skoala-init\n    version: 0.57.2\n    apiVersion: v2\n    urls: ["+cv.URLs[0]+"]\n"), 0o644)
		cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		_, err := DownloadChart(cctx, r, cv, 10*time.Second)
		if err == nil || !strings.Contains(err.Error(), "context deadline exceeded") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("errors do not show the repository's password", func(t *testing.T) {
		r, cv, _ := chartRepo(t, func(s string) string { return s })
		r.entry.Password = "wrong"
		_ = os.WriteFile(r.config, []byte("apiVersion: v1\nrepositories:\n- name: skoala-release\n  url: "+r.entry.URL+"\n  username: me\n  password: wrong\n"), 0o644)
		_, err := DownloadChart(ctx, r, cv, 10*time.Second)
		if err == nil || strings.Contains(err.Error(), "wrong") {
			t.Fatalf("err %v", err)
		}
	})
}
