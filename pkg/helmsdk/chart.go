package helmsdk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/repo"
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

// DownloadChart downloads one chart version listed in the repository's index (its first URL, resolved
// against the repository URL, with the repository's credentials and TLS settings), bounded by ctx and
// timeout, checks the archive's digest when the index has one, and loads it. The chart must be named
// cv.Name.
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
	u, err := repo.ResolveReferenceURL(e.URL, cv.URLs[0])
	if err != nil {
		return nil, fmt.Errorf("resolving the URL of %s %s: %s", cv.Name, cv.Version, redactURL(err.Error()))
	}
	b, err := r.download(ctx, u, timeout)
	if err != nil {
		return nil, err
	}
	data := b.Bytes()
	if len(data) > maxChartSize {
		return nil, fmt.Errorf("%s is larger than %d MiB", redactURL(u), maxChartSize>>20)
	}
	if cv.Digest != "" {
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, cv.Digest) {
			return nil, fmt.Errorf("%s has digest sha256:%s, the index says %s: refusing it", redactURL(u), got, cv.Digest)
		}
	}
	loaded, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", redactURL(u), err)
	}
	c := fromChart(loaded, redactURL(u))
	c.reload = func() (*chart.Chart, error) { return loader.LoadArchive(bytes.NewReader(data)) }
	if c.Name != cv.Name {
		return nil, &ChartNameError{Path: redactURL(u), Got: c.Name, Want: cv.Name}
	}
	if c.Version != cv.Version {
		return nil, fmt.Errorf("%s holds %s %s, the index says %s", redactURL(u), c.Name, c.Version, cv.Version)
	}
	return c, nil
}
