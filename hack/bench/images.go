package main

import (
	"archive/tar"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// 6. images push (issue 11): `kubectl skoala images push` of the skoala and skoala-init bundles vs crane
// (built by hack/tools.sh crane from the go-containerregistry version of go.mod) pushing the same images.tar,
// image by image, into the fleet's CNCF registry (TLS, htpasswd). Every run of both pushes into a registry
// path of its own (bench-<run>/...), which is an empty registry to the clients: the registry's blob store
// is shared, but a blob is present in a repository only once it was pushed or mounted there. The second
// push, into a path every blob and tag of which is already there (from the warm-up round), is measured too.
const (
	imagesVersion   = fixtureV
	imagesLayerSize = 4 << 20 // bytes of each fixture image's one layer (random: it does not compress)
)

var imagesRunSeq atomic.Int64

type imageFile struct {
	path string // a one-image tarball
	repo string // skoala/hive (the source reference's repository path)
	tag  string
}

func (m *measurer) images(ctx context.Context) error {
	e := m.e
	reg, ca := e.FleetEnv["SKOALA_REGISTRY"], e.FleetEnv["SKOALA_REGISTRY_CA_FILE"]
	user, pw := e.FleetEnv["SKOALA_REGISTRY_USERNAME"], e.FleetEnv["SKOALA_REGISTRY_PASSWORD"]
	tool := e.FleetEnv["SKOALA_OFFLINE_TOOL"]
	crane := filepath.Join(e.Cache, "bin", "crane")
	if reg == "" || pw == "" || tool == "" {
		return fmt.Errorf("the fleet has no image registry (SKOALA_REGISTRY* in its env): restart it (hack/fleet.sh down && up)")
	}
	if _, err := os.Stat(crane); err != nil {
		return fmt.Errorf("%s is missing (hack/tools.sh crane)", crane)
	}
	dir := filepath.Join(e.Cache, "bench", "images")
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if _, err := e.sh(ctx, nil, tool, "bundles", "-charts", filepath.Join(e.State, "charts"), "-out", dir,
		"-versions", imagesVersion, "-platforms", "amd64", "-salt", "bench", "-layer-size", fmt.Sprint(imagesLayerSize)); err != nil {
		return err
	}
	bundles := []string{
		filepath.Join(dir, "amd64", "skoala_"+imagesVersion+".bundle.tar"),
		filepath.Join(dir, "amd64", "skoala-init_"+imagesVersion+".bundle.tar"),
	}
	var files []imageFile
	var bytes int64
	for _, b := range bundles {
		fs, n, err := splitBundle(b, filepath.Join(dir, "split", strings.TrimSuffix(filepath.Base(b), ".bundle.tar")))
		if err != nil {
			return fmt.Errorf("%s: %w", b, err)
		}
		files, bytes = append(files, fs...), bytes+n
	}
	// The credentials in a docker config both read; the registry's CA as the system roots of both.
	dcfg := filepath.Join(dir, "docker")
	if err := os.MkdirAll(dcfg, 0o700); err != nil {
		return err
	}
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pw))
	if err := os.WriteFile(filepath.Join(dcfg, "config.json"), []byte(fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, reg, auth)), 0o600); err != nil {
		return err
	}
	env := append(e.base(m.fleetKC()), "DOCKER_CONFIG="+dcfg, "SSL_CERT_FILE="+ca)
	logf("images: %d images, %.1f MiB of layers, into %s", len(files), float64(bytes)/(1<<20), reg)

	skoala := func(path string) []Cmd {
		args := []string{"images", "push", "--registry", reg + "/" + path}
		for _, b := range bundles {
			args = append(args, "--bundle", b)
		}
		return []Cmd{{Path: e.Plugin, Args: args, Env: env}}
	}
	craneCmds := func(path string) []Cmd {
		var out []Cmd
		for _, f := range files {
			out = append(out, Cmd{Path: crane, Args: []string{"push", f.path, reg + "/" + path + "/" + f.repo + ":" + f.tag}, Env: env})
		}
		return out
	}
	stamp := time.Now().UTC().Format("20060102t150405")
	fresh := func(tool string) string {
		return fmt.Sprintf("bench-%s-%s-%d", stamp, tool, imagesRunSeq.Add(1))
	}
	present := "bench-" + stamp + "-present"
	figs, err := m.rounds(ctx, []Item{
		{ID: "images-push", Label: "images push of 2 bundles, empty registry", Cmds: skoala("bench-<run>"),
			Make: func() []Cmd { return skoala(fresh("skoala")) }},
		{ID: "crane-push", Label: "crane push of the same images, one by one, empty registry", Cmds: craneCmds("bench-<run>"),
			Make: func() []Cmd { return craneCmds(fresh("crane")) }},
		item("images-push-present", "images push again, every blob and tag present", skoala(present)...),
		item("crane-push-present", "crane push again, every blob and tag present", craneCmds(present+"-crane")...),
	})
	if err != nil {
		return err
	}
	n := fmt.Sprintf("%d images, %.0f MiB", len(files), float64(bytes)/(1<<20))
	m.compare("images-push", "`images push` of a bundle vs `crane push` image by image ("+n+"), empty registry",
		figs["images-push"], figs["crane-push"], targetImagesPush)
	m.compare("images-push-present", "`images push` again (every blob present) vs the first push",
		figs["images-push-present"], figs["images-push"], targetImagesPresent)
	m.compare("crane-push-present", "`crane push` again (every blob present) vs its first push",
		figs["crane-push-present"], figs["crane-push"], 0)
	return nil
}

// splitBundle writes each image of a bundle's images.tar as a one-image tarball (what `crane push` takes)
// and returns them with the bytes of their layers.
func splitBundle(bundle, dir string) ([]imageFile, int64, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, 0, err
	}
	imagesTar := filepath.Join(dir, "images.tar")
	if err := extractMember(bundle, "images.tar", imagesTar); err != nil {
		return nil, 0, err
	}
	mf, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(imagesTar) })
	if err != nil {
		return nil, 0, err
	}
	var out []imageFile
	var total int64
	for _, d := range mf {
		for _, rt := range d.RepoTags {
			tag, err := name.NewTag(rt, name.WeakValidation)
			if err != nil {
				return nil, 0, err
			}
			img, err := tarball.ImageFromPath(imagesTar, &tag)
			if err != nil {
				return nil, 0, err
			}
			ls, err := img.Layers()
			if err != nil {
				return nil, 0, err
			}
			for _, l := range ls {
				sz, err := l.Size()
				if err != nil {
					return nil, 0, err
				}
				total += sz
			}
			p := filepath.Join(dir, strings.NewReplacer("/", "_", ":", "_").Replace(tag.RepositoryStr()+":"+tag.TagStr())+".tar")
			if err := tarball.WriteToFile(p, tag, img); err != nil {
				return nil, 0, err
			}
			out = append(out, imageFile{path: p, repo: tag.RepositoryStr(), tag: tag.TagStr()})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out, total, os.Remove(imagesTar)
}

func extractMember(archive, member, dst string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return fmt.Errorf("no %s in %s", member, archive)
		}
		if err != nil {
			return err
		}
		if h.Name != member {
			continue
		}
		out, err := os.Create(dst)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, tr); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	}
}
