package krewmanifest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// hack/dist.sh runs this package's TestManifestFile with -manifest dist/skoala.yaml -archives dist.
var (
	manifestFlag = flag.String("manifest", "", "validate this manifest file (default: krew/skoala.yaml filled in with test values)")
	archivesFlag = flag.String("archives", "", "also check the manifest's archives in this folder (sha256, files, bin)")
)

const templatePath = "../../krew/skoala.yaml"

var placeholder = regexp.MustCompile(`\$\{(VERSION|SHA256_[A-Z0-9]+_[A-Z0-9]+)\}`)

// fill substitutes the template's placeholders as hack/dist.sh does: the version, and a sha256 per platform.
func fill(t *testing.T, tmpl, version string, sums map[string]string) string {
	t.Helper()
	return placeholder.ReplaceAllStringFunc(tmpl, func(m string) string {
		key := m[2 : len(m)-1]
		if key == "VERSION" {
			return version
		}
		if s, ok := sums[key]; ok {
			return s
		}
		return m
	})
}

func fakeSum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func readTemplate(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// filledTemplate is krew/skoala.yaml with every placeholder replaced.
func filledTemplate(t *testing.T) string {
	t.Helper()
	tmpl := readTemplate(t)
	sums := map[string]string{}
	for _, m := range placeholder.FindAllStringSubmatch(tmpl, -1) {
		if m[1] != "VERSION" {
			sums[m[1]] = fakeSum(m[1])
		}
	}
	out := fill(t, tmpl, "v1.2.3", sums)
	if placeholder.MatchString(out) {
		t.Fatalf("placeholders left after filling: %v", placeholder.FindAllString(out, -1))
	}
	return out
}

func mustParse(t *testing.T, s string) *Plugin {
	t.Helper()
	p, err := Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTemplate(t *testing.T) {
	t.Run("is valid once the version and checksums are filled in", func(t *testing.T) {
		p := mustParse(t, filledTemplate(t))
		if err := Validate("skoala", p); err != nil {
			t.Fatalf("the filled-in template is not valid:\n%v", err)
		}
	})
	t.Run("covers linux, darwin and windows on amd64 and arm64 with the right bin", func(t *testing.T) {
		p := mustParse(t, filledTemplate(t))
		want := []OSArch{{"windows", "amd64"}, {"windows", "arm64"}, {"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "amd64"}, {"darwin", "arm64"}}
		got := p.Platforms()
		if len(got) != len(want) {
			t.Fatalf("platforms %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("platforms %v, want %v", got, want)
			}
		}
		for _, pl := range p.Spec.Platforms {
			os := pl.Selector.MatchLabels["os"]
			arch := pl.Selector.MatchLabels["arch"]
			wantBin := "kubectl-skoala"
			if os == "windows" {
				wantBin += ".exe"
			}
			if pl.Bin != wantBin {
				t.Errorf("%s/%s: bin %q, want %q", os, arch, pl.Bin, wantBin)
			}
			wantArchive := "kubectl-skoala_v1.2.3_" + os + "_" + arch + ".tar.gz"
			if pl.ArchiveName() != wantArchive {
				t.Errorf("%s/%s: archive %q, want %q", os, arch, pl.ArchiveName(), wantArchive)
			}
			if !strings.Contains(pl.URI, "/v1.2.3/") {
				t.Errorf("%s/%s: uri %q does not carry the version", os, arch, pl.URI)
			}
			if pl.Sha256 != fakeSum("SHA256_"+strings.ToUpper(os)+"_"+strings.ToUpper(arch)) {
				t.Errorf("%s/%s: sha256 placeholder of another platform", os, arch)
			}
		}
	})
	t.Run("is rejected while the placeholders are still there", func(t *testing.T) {
		p := mustParse(t, readTemplate(t))
		err := Validate("skoala", p)
		if err == nil {
			t.Fatal("the raw template validated")
		}
		for _, want := range []string{"failed to parse plugin version", "`sha256` value ${SHA256_LINUX_AMD64} is not valid"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %q", err, want)
			}
		}
	})
	t.Run("keeps each platform in one block that hack/dist.sh can cut out", func(t *testing.T) {
		tmpl := readTemplate(t)
		blocks := strings.Split(tmpl[strings.Index(tmpl, "\n  platforms:\n"):], "\n  - selector:\n")[1:]
		if len(blocks) != 6 {
			t.Fatalf("%d platform blocks, want 6", len(blocks))
		}
		for _, b := range blocks {
			if n := len(regexp.MustCompile(`\$\{SHA256_`).FindAllString(b, -1)); n != 1 {
				t.Errorf("a platform block has %d sha256 placeholders, want 1:\n%s", n, b)
			}
		}
	})
}

const good = `apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: skoala
spec:
  version: v0.1.0
  shortDescription: Inspect, check and upgrade the DCE 5.0 skoala
  platforms:
  - selector:
      matchLabels:
        os: linux
        arch: amd64
    uri: https://example.invalid/kubectl-skoala_v0.1.0_linux_amd64.tar.gz
    sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
    files:
    - from: kubectl-skoala
      to: .
    bin: kubectl-skoala
`

func TestValidate(t *testing.T) {
	if err := Validate("skoala", mustParse(t, good)); err != nil {
		t.Fatalf("the base manifest of the table is not valid: %v", err)
	}
	cases := []struct {
		name    string
		plugin  string // the manifest's name; "" = skoala
		replace [2]string
		want    string
	}{
		{name: "wrong apiVersion", replace: [2]string{"krew.googlecontainertools.github.com/v1alpha2", "krew.googlecontainertools.github.com/v1alpha1"}, want: `apiVersion="krew.googlecontainertools.github.com/v1alpha1"`},
		{name: "wrong kind", replace: [2]string{"kind: Plugin", "kind: Index"}, want: `kind="Index"`},
		{name: "unsafe name", plugin: "sko/ala", replace: [2]string{"name: skoala", "name: sko/ala"}, want: `the plugin name "sko/ala" is not allowed`},
		{name: "name with a space", plugin: "sko ala", replace: [2]string{"name: skoala", "name: sko ala"}, want: `the plugin name "sko ala" is not allowed`},
		{name: "windows device name", plugin: "con", replace: [2]string{"name: skoala", "name: con"}, want: `the plugin name "con" is not allowed`},
		{name: "name differs from the file name", replace: [2]string{"name: skoala", "name: skoala2"}, want: `plugin should be named "skoala", not "skoala2"`},
		{name: "no short description", replace: [2]string{"  shortDescription: Inspect, check and upgrade the DCE 5.0 skoala\n", ""}, want: "should have a short description"},
		{name: "short description on two lines", replace: [2]string{"shortDescription: Inspect, check and upgrade the DCE 5.0 skoala", `shortDescription: "Inspect\nand upgrade"`}, want: "should not have line breaks in short description"},
		{name: "short description too long", replace: [2]string{"upgrade the DCE 5.0 skoala", "upgrade the DCE 5.0 Microservice Engine (skoala)"}, want: "short description is 67 characters long, at most 50"},
		{name: "no version", replace: [2]string{"  version: v0.1.0\n", ""}, want: "should have a version specified"},
		{name: "version without v", replace: [2]string{"version: v0.1.0", "version: 0.1.0"}, want: `version string "0.1.0" not starting with 'v'`},
		{name: "version not semver", replace: [2]string{"version: v0.1.0", "version: v0.1"}, want: "failed to parse plugin version"},
		{name: "version from git describe without a tag", replace: [2]string{"version: v0.1.0", "version: 3029e7e-dirty"}, want: "not starting with 'v'"},
		{name: "no platforms", replace: [2]string{good[strings.Index(good, "  platforms:"):], ""}, want: "should have a platform specified"},
		{name: "no uri", replace: [2]string{"    uri: https://example.invalid/kubectl-skoala_v0.1.0_linux_amd64.tar.gz\n", ""}, want: "`uri` has to be set"},
		{name: "http uri", replace: [2]string{"uri: https://", "uri: http://"}, want: "is not an https URL"},
		{name: "no sha256", replace: [2]string{"    sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n", ""}, want: "`sha256` sum has to be set"},
		{name: "upper-case sha256", replace: [2]string{"sha256: 0123456789abcdef", "sha256: 0123456789ABCDEF"}, want: "`sha256` value 0123456789ABCDEF"},
		{name: "short sha256", replace: [2]string{"sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "sha256: 0123456789abcdef"}, want: "is not valid, must match pattern"},
		{name: "no bin", replace: [2]string{"    bin: kubectl-skoala\n", ""}, want: "`bin` has to be set"},
		{name: "empty files", replace: [2]string{"    files:\n    - from: kubectl-skoala\n      to: .\n", "    files: []\n"}, want: "`files` has to be unspecified or non-empty"},
		{name: "file operation without from", replace: [2]string{"    - from: kubectl-skoala\n      to: .", "    - to: ."}, want: "`from` field has to be set"},
		{name: "file operation without to", replace: [2]string{"      to: .\n", ""}, want: "`to` field has to be set"},
		{name: "file operation to an unclean path", replace: [2]string{"      to: .\n", "      to: ./bin/\n"}, want: "the provided path is not clean"},
		{name: "no selector", replace: [2]string{"  - selector:\n      matchLabels:\n        os: linux\n        arch: amd64\n    uri", "  - uri"}, want: "nil selector is not supported"},
		{name: "empty matchLabels", replace: [2]string{"      matchLabels:\n        os: linux\n        arch: amd64\n", "      matchLabels: {}\n"}, want: "`matchLabels` specified but empty"},
		{name: "unsupported selector key", replace: [2]string{"        arch: amd64\n", "        arch: amd64\n        distro: debian\n"}, want: `key "distro" not supported`},
		{name: "selector of no supported platform", replace: [2]string{"os: linux", "os: plan9"}, want: "doesn't match any supported platform"},
		{name: "windows bin without .exe", replace: [2]string{"os: linux", "os: windows"}, want: "is for windows and must end in .exe"},
		{name: "unknown field (a typo krew would ignore)", replace: [2]string{"    sha256:", "    sha265:"}, want: `unknown field "sha265"`},
	}
	for _, tc := range cases {
		t.Run("rejects "+tc.name, func(t *testing.T) {
			if !strings.Contains(good, tc.replace[0]) {
				t.Fatalf("the base manifest has no %q", tc.replace[0])
			}
			src := strings.Replace(good, tc.replace[0], tc.replace[1], 1)
			name := tc.plugin
			if name == "" {
				name = "skoala"
			}
			p, err := Parse([]byte(src))
			if err == nil {
				err = Validate(name, p)
			}
			if err == nil {
				t.Fatalf("accepted:\n%s", src)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}

	t.Run("rejects overlapping selectors", func(t *testing.T) {
		p := mustParse(t, good)
		second := p.Spec.Platforms[0]
		second.Selector = second.Selector.DeepCopy()
		delete(second.Selector.MatchLabels, "arch") // os: linux matches linux/amd64 too
		p.Spec.Platforms = append(p.Spec.Platforms, second)
		err := Validate("skoala", p)
		if err == nil || !strings.Contains(err.Error(), "multiple spec.platforms (at indexes [0 1]) have overlapping selectors that select linux/amd64") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("accepts matchExpressions selectors", func(t *testing.T) {
		src := strings.Replace(good, "      matchLabels:\n        os: linux\n        arch: amd64\n",
			"      matchExpressions:\n      - {key: os, operator: In, values: [linux, darwin]}\n      - {key: arch, operator: In, values: [amd64]}\n", 1)
		p := mustParse(t, src)
		if err := Validate("skoala", p); err != nil {
			t.Fatal(err)
		}
		if got := p.Platforms(); len(got) != 2 || got[0] != (OSArch{"linux", "amd64"}) || got[1] != (OSArch{"darwin", "amd64"}) {
			t.Fatalf("platforms %v", got)
		}
	})
	t.Run("reports every problem at once", func(t *testing.T) {
		src := strings.Replace(strings.Replace(good, "version: v0.1.0", "version: 0.1.0", 1), "    bin: kubectl-skoala\n", "", 1)
		err := Validate("skoala", mustParse(t, src))
		if err == nil || !strings.Contains(err.Error(), "not starting with 'v'") || !strings.Contains(err.Error(), "`bin` has to be set") {
			t.Fatalf("got %v", err)
		}
	})
}

func TestValidateFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("takes the plugin name from the file name", func(t *testing.T) {
		if _, err := ValidateFile(write("skoala.yaml", good)); err != nil {
			t.Fatal(err)
		}
		_, err := ValidateFile(write("other.yaml", good))
		if err == nil || !strings.Contains(err.Error(), `plugin should be named "other", not "skoala"`) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("wants the .yaml extension", func(t *testing.T) {
		_, err := ValidateFile(write("skoala.yml", good))
		if err == nil || !strings.Contains(err.Error(), `expected manifest extension ".yaml" but found ".yml"`) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("reports a YAML error with the file", func(t *testing.T) {
		_, err := ValidateFile(write("skoala.yaml", "spec: [\n"))
		if err == nil || !strings.Contains(err.Error(), "skoala.yaml") {
			t.Fatalf("got %v", err)
		}
	})
}

// tarGz builds a tar.gz of name -> (mode, content).
func tarGz(t *testing.T, files map[string]int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, mode := range files {
		body := []byte("content of " + name)
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestVerifyArchives(t *testing.T) {
	const archive = "kubectl-skoala_v0.1.0_linux_amd64.tar.gz"
	setup := func(t *testing.T, files map[string]int64) (*Plugin, string) {
		dir := t.TempDir()
		b := tarGz(t, files)
		if err := os.WriteFile(filepath.Join(dir, archive), b, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		p := mustParse(t, strings.Replace(good, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", hex.EncodeToString(sum[:]), 1))
		return p, dir
	}
	t.Run("accepts an archive with the executable bin", func(t *testing.T) {
		p, dir := setup(t, map[string]int64{"kubectl-skoala": 0o755, "kubectl_complete-skoala": 0o755})
		if err := VerifyArchives(p, dir); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("accepts the default file operation and a ./ prefix", func(t *testing.T) {
		p, dir := setup(t, map[string]int64{"./kubectl-skoala": 0o755})
		p.Spec.Platforms[0].Files = nil
		if err := VerifyArchives(p, dir); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("rejects a checksum that is not the archive's", func(t *testing.T) {
		p, dir := setup(t, map[string]int64{"kubectl-skoala": 0o755})
		p.Spec.Platforms[0].Sha256 = fakeSum("other")
		err := VerifyArchives(p, dir)
		if err == nil || !strings.Contains(err.Error(), "the manifest says "+fakeSum("other")) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("rejects a file operation that matches nothing", func(t *testing.T) {
		p, dir := setup(t, map[string]int64{"kubectl-skoala": 0o755})
		p.Spec.Platforms[0].Files = append(p.Spec.Platforms[0].Files, FileOperation{From: "LICENSE", To: "."})
		err := VerifyArchives(p, dir)
		if err == nil || !strings.Contains(err.Error(), `matched the file operation from="LICENSE"`) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("rejects an archive without the bin", func(t *testing.T) {
		p, dir := setup(t, map[string]int64{"kubectl-skoala": 0o755})
		p.Spec.Platforms[0].Bin = "kubectl-other"
		err := VerifyArchives(p, dir)
		if err == nil || !strings.Contains(err.Error(), `bin "kubectl-other" is not among the installed files`) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("rejects a bin that is not executable", func(t *testing.T) {
		p, dir := setup(t, map[string]int64{"kubectl-skoala": 0o644})
		err := VerifyArchives(p, dir)
		if err == nil || !strings.Contains(err.Error(), "is not executable") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("rejects a missing archive", func(t *testing.T) {
		p, _ := setup(t, map[string]int64{"kubectl-skoala": 0o755})
		if err := VerifyArchives(p, t.TempDir()); err == nil || !strings.Contains(err.Error(), archive) {
			t.Fatalf("got %v", err)
		}
	})
}

// TestManifestFile validates -manifest (hack/dist.sh passes dist/skoala.yaml and -archives dist), or by
// default the template filled in with test values.
func TestManifestFile(t *testing.T) {
	path := *manifestFlag
	if path == "" {
		path = filepath.Join(t.TempDir(), "skoala.yaml")
		if err := os.WriteFile(path, []byte(filledTemplate(t)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := ValidateFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if *archivesFlag != "" {
		if err := VerifyArchives(p, *archivesFlag); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%s: valid, version %s, platforms %v", path, p.Spec.Version, p.Platforms())
}
