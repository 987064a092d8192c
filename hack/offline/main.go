// Command offline makes the offline-site fixtures of the local test fleet (hack/fleet.sh). It is a test
// fixture, not a product component.
//
//	offline htpasswd USER          reads a password on stdin, prints USER:<bcrypt hash> (registry htpasswd)
//	offline bundles -charts DIR|-src DIR -out DIR [-versions 0.57.2,...] [-platforms amd64,arm64] [-salt S] [-layer-size N]
//	                               writes OUT/<platform>/<chart>_<version>.bundle.tar for skoala and
//	                               skoala-init: hints.yaml, original-chart/ (the packaged chart's files) and
//	                               images.tar (go-containerregistry's tarball format, RepoTags = the images
//	                               the chart renders with its default values), one small image per reference,
//	                               its content derived from reference, platform and salt (same inputs, same
//	                               digest; another -salt gives the same tags other digests)
package main

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/images"
	"github.com/skoala-dev/kubectl-skoala/pkg/images/imagestest"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: offline htpasswd USER | offline bundles -charts DIR -out DIR [...]")
	}
	switch os.Args[1] {
	case "htpasswd":
		if len(os.Args) != 3 {
			fail("usage: offline htpasswd USER (password on stdin)")
		}
		pw, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			fail("reading the password: %v", err)
		}
		h, err := bcrypt.GenerateFromPassword([]byte(strings.TrimRight(pw, "\r\n")), bcrypt.DefaultCost)
		if err != nil {
			fail("%v", err)
		}
		fmt.Printf("%s:%s\n", os.Args[2], h)
	case "bundles":
		bundles(os.Args[2:])
	default:
		fail("unknown subcommand %q", os.Args[1])
	}
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "offline: "+format+"\n", a...)
	os.Exit(1)
}

func bundles(args []string) {
	fs := flag.NewFlagSet("bundles", flag.ExitOnError)
	charts := fs.String("charts", "", "directory of packaged charts (<chart>-<version>.tgz)")
	src := fs.String("src", "", "or: the fixture chart sources (test/charts), stamped with each version")
	out := fs.String("out", "", "output directory")
	versions := fs.String("versions", "0.57.2", "chart versions, comma-separated")
	platforms := fs.String("platforms", "amd64,arm64", "architectures (linux), comma-separated")
	salt := fs.String("salt", "", "changes every image's content (same tags, other digests)")
	layerSize := fs.Int("layer-size", 4096, "bytes of each image's layer file")
	_ = fs.Parse(args)
	if (*charts == "") == (*src == "") || *out == "" {
		fail("bundles needs -charts or -src, and -out")
	}
	for _, v := range strings.Split(*versions, ",") {
		for _, c := range []string{"skoala", "skoala-init"} {
			var files []helmsdk.ChartFile
			var err error
			if *src != "" {
				files, err = imagestest.ChartDirFiles(filepath.Join(*src, c), v)
			} else {
				files, err = chartFiles(filepath.Join(*charts, c+"-"+v+".tgz"))
			}
			if err != nil {
				fail("%v", err)
			}
			ch, err := helmsdk.LoadChartFiles(c+" "+v, files)
			if err != nil {
				fail("%v", err)
			}
			ws, err := helmsdk.RenderImages(ch, nil, c, "skoala-system")
			if err != nil {
				fail("%v", err)
			}
			refs := map[string]bool{}
			for _, w := range ws {
				refs[w.Image] = true
			}
			var list []string
			for r := range refs {
				list = append(list, r)
			}
			sort.Strings(list)
			for _, arch := range strings.Split(*platforms, ",") {
				dir := filepath.Join(*out, arch)
				if err := os.MkdirAll(dir, 0o755); err != nil {
					fail("%v", err)
				}
				path := filepath.Join(dir, images.BundleFileName(c, v))
				if err := imagestest.WriteBundle(path, list, files, arch, *salt, *layerSize); err != nil {
					fail("%s: %v", path, err)
				}
			}
		}
	}
}

// chartFiles reads the files of a packaged chart, without the top folder.
func chartFiles(tgz string) ([]helmsdk.ChartFile, error) {
	f, err := os.Open(tgz)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	var out []helmsdk.ChartFile
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, err
		}
		_, rest, _ := strings.Cut(h.Name, "/")
		out = append(out, helmsdk.ChartFile{Name: rest, Data: b})
	}
	return out, nil
}
