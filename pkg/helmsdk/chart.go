package helmsdk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/downloader"
	"helm.sh/helm/v4/pkg/getter"
	"helm.sh/helm/v4/pkg/registry"
)

// Chart is a loaded chart, ready to install or upgrade with.
type Chart struct {
	Name       string `json:"name"`
	Version    string `json:"version"`
	AppVersion string `json:"appVersion"`
	// Source says where it was loaded from: a local path, or the URL it was downloaded from (credentials
	// removed).
	Source string `json:"source"`

	raw    *chart.Chart
	reload func() (*chart.Chart, error)
}

// CRDFile is a file of a chart's (or subchart's) crds/ directory.
type CRDFile struct {
	// Path is relative to the chart's root: "crds/x.yaml" or "charts/contour-provisioner/crds/contour.yaml".
	Path string
	Data []byte
}

// CRDFiles lists the crds/ files of the chart and of its subcharts, by chart-relative path, sorted.
func (c *Chart) CRDFiles() []CRDFile {
	if c == nil || c.raw == nil {
		return nil
	}
	var out []CRDFile
	for _, crd := range c.raw.CRDObjects() {
		p := crd.Filename
		// Filename is "<chart>/charts/<sub>/crds/x.yaml": drop the root chart's name.
		if i := strings.IndexByte(p, '/'); i >= 0 {
			p = p[i+1:]
		}
		out = append(out, CRDFile{Path: p, Data: crd.File.Data})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// ChartNameError says a chart is not the one expected.
type ChartNameError struct {
	Path, Got, Want string
}

func (e *ChartNameError) Error() string {
	return fmt.Sprintf("%s is chart %q, not %q", e.Path, e.Got, e.Want)
}

// LoadChartPath loads a chart from a directory (such as the original-chart of an offline bundle) or a
// .tgz archive. When want is set, a chart of another name is refused.
func LoadChartPath(path, want string) (*Chart, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("reading chart %s: %w", path, err)
	}
	ch, err := loader.Load(path)
	if err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", path, err)
	}
	c := fromChart(ch, path)
	c.reload = func() (*chart.Chart, error) { return loader.Load(path) }
	if want != "" && c.Name != want {
		return nil, &ChartNameError{Path: path, Got: c.Name, Want: want}
	}
	return c, nil
}

func fromChart(ch *chart.Chart, source string) *Chart {
	c := &Chart{Source: source, raw: ch}
	if ch.Metadata != nil {
		c.Name = ch.Metadata.Name
		c.Version = ch.Metadata.Version
		c.AppVersion = ch.Metadata.AppVersion
	}
	return c
}

// maxChartSize bounds a downloaded chart archive.
const maxChartSize = 64 << 20

// DownloadChart downloads one chart version listed in the repository's index with Helm's chart
// downloader and getters, as 'helm pull <repository>/<chart> --version' does (the first URL of the
// index entry, resolved against the repository URL, with the repository's credentials and TLS
// settings), bounded by ctx and timeout; it checks the archive's digest when the index has one, and
// loads it. The chart must be named cv.Name.
func DownloadChart(ctx context.Context, r *Repository, cv ChartVersion, timeout time.Duration) (*Chart, error) {
	if r.OCI() {
		return downloadOCIChart(ctx, r, cv, timeout) // oci.go
	}
	if r == nil || r.entry == nil {
		return nil, errors.New("the repository has no configuration")
	}
	if len(cv.URLs) == 0 {
		return nil, fmt.Errorf("the index lists no URL for %s %s", cv.Name, cv.Version)
	}
	e := r.entry
	return fetchChart(ctx, chartFetch{
		Ref: r.Name + "/" + cv.Name, Version: cv.Version, Name: cv.Name, Digest: cv.Digest,
		RepositoryConfig: r.config, RepositoryCache: r.cache,
		// What 'helm pull' adds from its flags; the downloader adds the URL, TLS files and credentials.
		Options: []getter.Option{getter.WithInsecureSkipVerifyTLS(e.InsecureSkipTLSVerify)},
	}, timeout)
}

// chartFetch is one chart for fetchChart to get: a reference as 'helm pull' takes it and what the chart
// must be.
type chartFetch struct {
	// Ref is "<repository>/<chart>" (a repository of RepositoryConfig, its index in RepositoryCache) or
	// a chart URL. An "oci://" reference needs a RegistryClient: OCI repositories add it.
	Ref, Version                      string
	RepositoryConfig, RepositoryCache string
	RegistryClient                    *registry.Client
	// Options are getter options beyond those the downloader takes from the repository's entry.
	Options []getter.Option
	// Name and Digest, when set, are checked: the chart's name and the sha256 of its archive.
	Name, Digest string
}

// fetchChart downloads a chart with Helm's chart downloader and getters, bounded by ctx and timeout,
// checks it and loads it. Errors name URLs without any user:password part.
func fetchChart(ctx context.Context, f chartFetch, timeout time.Duration) (*Chart, error) {
	dir, err := os.MkdirTemp("", "kubectl-skoala-chart-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	dl := &downloader.ChartDownloader{
		Out: io.Discard, Verify: downloader.VerifyNever, Getters: getter.Getters(),
		Options:          append([]getter.Option{getter.WithTimeout(timeout)}, f.Options...),
		RegistryClient:   f.RegistryClient,
		RepositoryConfig: f.RepositoryConfig, RepositoryCache: f.RepositoryCache,
		// Helm 4's downloader keeps what it downloads in a content cache: a throwaway one, so that the
		// plugin writes nothing into the user's helm cache (as with Helm 3).
		ContentCache: filepath.Join(dir, "cache"),
	}
	type result struct {
		path string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		path, _, err := dl.DownloadTo(f.Ref, f.Version, dir)
		ch <- result{path, err}
	}()
	var res result
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("downloading %s %s: %w", f.Ref, f.Version, ctx.Err())
	case res = <-ch:
	}
	if res.err != nil {
		return nil, fmt.Errorf("downloading %s %s: %s", f.Ref, f.Version, redactURL(res.err.Error()))
	}
	data, err := os.ReadFile(res.path)
	if err != nil {
		return nil, err
	}
	return loadFetched(f, data)
}

// loadFetched checks the archive of f (size, digest) and loads it.
func loadFetched(f chartFetch, data []byte) (*Chart, error) {
	src := f.Ref + " " + f.Version
	if len(data) > maxChartSize {
		return nil, fmt.Errorf("%s is larger than %d MiB", src, maxChartSize>>20)
	}
	if f.Digest != "" {
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, f.Digest) {
			return nil, fmt.Errorf("%s has digest sha256:%s, the index says %s: refusing it", src, got, f.Digest)
		}
	}
	loaded, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", src, err)
	}
	c := fromChart(loaded, src)
	c.reload = func() (*chart.Chart, error) { return loader.LoadArchive(bytes.NewReader(data)) }
	if f.Name != "" && c.Name != f.Name {
		return nil, &ChartNameError{Path: src, Got: c.Name, Want: f.Name}
	}
	if c.Version != f.Version {
		return nil, fmt.Errorf("%s holds %s %s", src, c.Name, c.Version)
	}
	return c, nil
}
