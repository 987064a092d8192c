// Package imagestest makes offline bundles and images for tests and for the fleet's fixtures
// (hack/offline).
package imagestest

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"sigs.k8s.io/yaml"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
)

// Image is a one-layer linux/<arch> image whose content follows from ref, arch and salt.
func Image(ref, arch, salt string, size int) (v1.Image, error) {
	seed := sha256.Sum256([]byte(ref + "\x00" + arch + "\x00" + salt))
	rng := rand.New(rand.NewChaCha8(seed))
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(rng.Uint32())
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	content := append([]byte(ref+" "+arch+" "+salt+"\n"), payload...)
	if err := tw.WriteHeader(&tar.Header{Name: "skoala-fixture/content", Mode: 0o644, Size: int64(len(content)), ModTime: time.Unix(0, 0)}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(content); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Config.Labels = map[string]string{"skoala.fixture/ref": ref}
	return mutate.ConfigFile(img, cf)
}

// WriteBundle writes an offline bundle at path as charts-syncer does: hints.yaml (the references),
// original-chart/<files> and images.tar (go-containerregistry's tarball format, one Image per reference).
func WriteBundle(path string, refs []string, files []helmsdk.ChartFile, arch, salt string, size int) error {
	m := map[name.Reference]v1.Image{}
	for _, r := range refs {
		tag, err := name.NewTag(r, name.WeakValidation)
		if err != nil {
			return err
		}
		img, err := Image(r, arch, salt, size)
		if err != nil {
			return err
		}
		m[tag] = img
	}
	var imgs bytes.Buffer
	if err := tarball.MultiRefWrite(m, &imgs); err != nil {
		return err
	}
	hints, err := yaml.Marshal(refs)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	add := func(n string, b []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(b)), ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
		_, err := tw.Write(b)
		return err
	}
	// charts-syncer's order: hints.yaml, original-chart/..., images.tar
	if err := add("hints.yaml", hints); err != nil {
		return err
	}
	for _, cf := range files {
		if err := add("original-chart/"+cf.Name, cf.Data); err != nil {
			return err
		}
	}
	if err := add("images.tar", imgs.Bytes()); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ChartDirFiles reads a fixture chart folder (test/charts/<chart>) as hack/charts.sh packages it: every
// 0.0.0 of its and its subcharts' Chart.yaml and CRD files stamped with version.
func ChartDirFiles(dir, version string) ([]helmsdk.ChartFile, error) {
	var out []helmsdk.ChartFile
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if path.Base(rel) == "Chart.yaml" || strings.Contains(rel, "crds/") {
			b = zeroVersion.ReplaceAll(b, []byte(version))
		}
		out = append(out, helmsdk.ChartFile{Name: rel, Data: b})
		return nil
	})
	return out, err
}

var zeroVersion = regexp.MustCompile(`\b0\.0\.0\b`)

// WriteTar writes a tar of the files (sorted by name), for bundles with parts missing.
func WriteTar(path string, files map[string][]byte) error {
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
		if _, err := tw.Write(files[n]); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
