package images

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"sigs.k8s.io/yaml"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
)

// bundleName is charts-syncer's file name pattern of an offline bundle (pkg/util/chartutil).
var bundleName = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9+-]*)_([a-zA-Z0-9][a-zA-Z0-9+-.]*)\.bundle\.tar$`)

// The parts of a bundle.
const (
	partHints  = "hints.yaml"
	partChart  = "original-chart/"
	partImages = "images.tar"
)

// The bounds of what OpenBundle reads into memory. A bundle past one of them is refused, never cut: a
// chart file read in part would be rendered as if it were whole. (Helm's own chart loader allows 100 MiB
// per chart; images.tar is read from the file, never into memory.)
var (
	maxHintsSize     int64 = 1 << 20
	maxChartFileSize int64 = 64 << 20
	maxChartSize     int64 = 128 << 20
	maxChartFiles          = 10000
)

// readWhole reads all of r, or fails when it holds more than limit bytes.
func readWhole(r io.Reader, name string, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %s", name, mib(limit))
	}
	return data, nil
}

func mib(n int64) string { return fmt.Sprintf("%d MiB", n>>20) }

// Bundle is an opened offline bundle. Its images are read straight out of the bundle file.
type Bundle struct {
	Path string
	// Chart and Version are read from the file name.
	Chart   string
	Version string
	Hints   []string

	files      []helmsdk.ChartFile
	imagesOff  int64
	imagesSize int64
	manifest   tarball.Manifest
}

// BundleError says a file is not a usable bundle.
type BundleError struct {
	Path   string
	Reason string
}

func (e *BundleError) Error() string {
	return fmt.Sprintf("%s is not an offline bundle: %s", e.Path, e.Reason)
}

// Hint says what a bundle looks like.
func (e *BundleError) Hint() string {
	return "a bundle is <chart>_<version>.bundle.tar as charts-syncer writes it: hints.yaml, original-chart/ and images.tar"
}

// OpenBundle opens and verifies a bundle: its name is <chart>_<version>.bundle.tar, and hints.yaml,
// original-chart/Chart.yaml, original-chart/values.yaml and images.tar (with a manifest.json) are present.
func OpenBundle(path string) (*Bundle, error) {
	base := filepath.Base(path)
	m := bundleName.FindStringSubmatch(base)
	if m == nil {
		return nil, &BundleError{Path: path, Reason: "its name is not <chart>_<version>.bundle.tar"}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading bundle: %w", err)
	}
	defer f.Close()
	b := &Bundle{Path: path, Chart: m[1], Version: m[2], imagesOff: -1}
	tr := tar.NewReader(f)
	var hints []byte
	var chartBytes int64
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &BundleError{Path: path, Reason: "not a tar archive: " + err.Error()}
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		n := strings.TrimPrefix(h.Name, "./")
		switch {
		case n == partHints:
			if hints, err = readWhole(tr, n, maxHintsSize); err != nil {
				return nil, &BundleError{Path: path, Reason: err.Error()}
			}
		case strings.HasPrefix(n, partChart):
			if len(b.files) >= maxChartFiles {
				return nil, &BundleError{Path: path, Reason: fmt.Sprintf("%s holds more than %d files", partChart, maxChartFiles)}
			}
			data, err := readWhole(tr, n, maxChartFileSize)
			if err != nil {
				return nil, &BundleError{Path: path, Reason: err.Error()}
			}
			if chartBytes += int64(len(data)); chartBytes > maxChartSize {
				return nil, &BundleError{Path: path, Reason: fmt.Sprintf("%s holds more than %s", partChart, mib(maxChartSize))}
			}
			b.files = append(b.files, helmsdk.ChartFile{Name: strings.TrimPrefix(n, partChart), Data: data})
		case n == partImages:
			// archive/tar reads no further than the header: the file offset is where the data starts.
			off, err := f.Seek(0, io.SeekCurrent)
			if err != nil {
				return nil, fmt.Errorf("reading bundle %s: %w", path, err)
			}
			b.imagesOff, b.imagesSize = off, h.Size
		}
	}
	var missing []string
	if hints == nil {
		missing = append(missing, partHints)
	}
	for _, want := range []string{"Chart.yaml", "values.yaml"} {
		found := false
		for _, cf := range b.files {
			if cf.Name == want {
				found = true
			}
		}
		if !found {
			missing = append(missing, partChart+want)
		}
	}
	if b.imagesOff < 0 {
		missing = append(missing, partImages)
	}
	if len(missing) > 0 {
		return nil, &BundleError{Path: path, Reason: "missing " + strings.Join(missing, ", ")}
	}
	if err := yaml.Unmarshal(hints, &b.Hints); err != nil {
		return nil, &BundleError{Path: path, Reason: "hints.yaml is not a YAML list: " + firstLine(err.Error())}
	}
	man, err := tarball.LoadManifest(b.opener())
	if err != nil {
		return nil, &BundleError{Path: path, Reason: "images.tar has no readable manifest.json: " + firstLine(err.Error())}
	}
	b.manifest = man
	return b, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

type sectionFile struct {
	*io.SectionReader
	f *os.File
}

func (s sectionFile) Close() error { return s.f.Close() }

// opener opens images.tar inside the bundle.
func (b *Bundle) opener() tarball.Opener {
	return func() (io.ReadCloser, error) {
		f, err := os.Open(b.Path)
		if err != nil {
			return nil, err
		}
		return sectionFile{SectionReader: io.NewSectionReader(f, b.imagesOff, b.imagesSize), f: f}, nil
	}
}

// LoadChart loads original-chart/ and checks that it is the chart and version the file name says.
func (b *Bundle) LoadChart() (*helmsdk.Chart, error) {
	ch, err := helmsdk.LoadChartFiles(b.Path+":original-chart", b.files)
	if err != nil {
		return nil, &BundleError{Path: b.Path, Reason: "original-chart/ does not load: " + firstLine(err.Error())}
	}
	if ch.Name != b.Chart || ch.Version != b.Version {
		return nil, &BundleError{Path: b.Path, Reason: fmt.Sprintf("original-chart/ is %s %s, the file name says %s %s", ch.Name, ch.Version, b.Chart, b.Version)}
	}
	return ch, nil
}

// BundleImage is one image of a bundle.
type BundleImage struct {
	// Source is the reference the bundle holds it under (a RepoTag of manifest.json).
	Source   string
	Platform string
	Digest   string
	Size     int64
	Image    v1.Image
	Bundle   string
}

// Images lists the images of the bundle, one per RepoTag, in manifest order.
func (b *Bundle) Images() ([]BundleImage, error) {
	var out []BundleImage
	for _, d := range b.manifest {
		for _, t := range d.RepoTags {
			tag, err := name.NewTag(t, name.WeakValidation)
			if err != nil {
				return nil, &BundleError{Path: b.Path, Reason: fmt.Sprintf("images.tar names %q: %v", t, err)}
			}
			img, err := tarball.Image(b.opener(), &tag)
			if err != nil {
				return nil, &BundleError{Path: b.Path, Reason: fmt.Sprintf("images.tar: %s: %s", t, firstLine(err.Error()))}
			}
			cf, err := img.ConfigFile()
			if err != nil {
				return nil, &BundleError{Path: b.Path, Reason: fmt.Sprintf("images.tar: %s: config: %s", t, firstLine(err.Error()))}
			}
			dg, err := img.Digest()
			if err != nil {
				return nil, &BundleError{Path: b.Path, Reason: fmt.Sprintf("images.tar: %s: %s", t, firstLine(err.Error()))}
			}
			var size int64
			if layers, err := img.Layers(); err == nil {
				for _, l := range layers {
					if s, err := l.Size(); err == nil {
						size += s
					}
				}
			}
			out = append(out, BundleImage{Source: t, Platform: platformString(cf.OS, cf.Architecture, cf.Variant), Digest: dg.String(), Size: size, Image: img, Bundle: b.Path})
		}
	}
	return out, nil
}

// Sources lists the image references the bundle holds, sorted.
func (b *Bundle) Sources() []string {
	var out []string
	for _, d := range b.manifest {
		out = append(out, d.RepoTags...)
	}
	sort.Strings(out)
	return out
}

func platformString(os, arch, variant string) string {
	s := os + "/" + arch
	if variant != "" {
		s += "/" + variant
	}
	return s
}

// BundleFileName is the file name of a chart's bundle.
func BundleFileName(chart, version string) string { return chart + "_" + version + ".bundle.tar" }
