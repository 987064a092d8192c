// Package krewmanifest reads and validates krew plugin manifests (kind Plugin of
// krew.googlecontainertools.github.com/v1alpha2), the format of krew/skoala.yaml and of the dist/skoala.yaml
// that `make dist` writes.
//
// It applies the rules krew v0.4.3 applies itself, taken from its source:
//   - internal/index/validation.ValidatePlugin, run by `kubectl krew install` on every manifest: apiVersion,
//     kind, a safe plugin name (IsSafePluginName) equal to metadata.name, a one-line shortDescription, at
//     least one platform, a semver version with a leading v (k8s.io/apimachinery ParseSemantic, as krew's
//     semver package), and per platform: uri, a 64-hex sha256, bin, well-formed files and an os/arch
//     selector;
//   - cmd/validate-krew-manifest, run on every krew-index pull request: the file is <name>.yaml, every
//     platform's selector matches a platform krew supports, and no supported platform is matched twice;
//   - internal/installation: a file operation's `to` is a clean path and every `from` matches a file of the
//     archive (VerifyArchives).
//
// It adds rules of this project: no unknown fields (krew ignores them, so a typo such as `sha265` passes
// krew and breaks the install), shortDescription at most 50 characters (krew search cuts it there), an
// https uri, and a windows bin ending in .exe.
package krewmanifest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/version"
	"sigs.k8s.io/yaml"
)

// The manifest type this package reads.
const (
	APIVersion = "krew.googlecontainertools.github.com/v1alpha2"
	Kind       = "Plugin"
	// MaxShortDescription is the length `kubectl krew search` shows of a short description.
	MaxShortDescription = 50
)

// Plugin is a krew plugin manifest (krew's pkg/index.Plugin).
type Plugin struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec PluginSpec `json:"spec"`
}

// PluginSpec is the spec of a Plugin.
type PluginSpec struct {
	Version          string     `json:"version,omitempty"`
	ShortDescription string     `json:"shortDescription,omitempty"`
	Description      string     `json:"description,omitempty"`
	Caveats          string     `json:"caveats,omitempty"`
	Homepage         string     `json:"homepage,omitempty"`
	Platforms        []Platform `json:"platforms,omitempty"`
}

// Platform is the archive of one os/arch and how to install it.
type Platform struct {
	URI      string                `json:"uri,omitempty"`
	Sha256   string                `json:"sha256,omitempty"`
	Selector *metav1.LabelSelector `json:"selector,omitempty"`
	Files    []FileOperation       `json:"files"`
	// Bin is the executable, relative to the installation folder, after the file operations.
	Bin string `json:"bin"`
}

// FileOperation copies From (a file or a glob of the archive) to To.
type FileOperation struct {
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

// OSArch is a platform krew supports (validate-krew-manifest's allPlatforms).
type OSArch struct{ OS, Arch string }

func (p OSArch) String() string { return p.OS + "/" + p.Arch }

// SupportedPlatforms are the os/arch pairs krew knows, in krew's order.
var SupportedPlatforms = []OSArch{
	{"windows", "386"}, {"windows", "amd64"}, {"windows", "arm64"},
	{"linux", "386"}, {"linux", "amd64"}, {"linux", "arm"}, {"linux", "arm64"},
	{"darwin", "386"}, {"darwin", "amd64"}, {"darwin", "arm64"},
}

var (
	safePluginName = regexp.MustCompile(`^[\w-]+$`)
	validSHA256    = regexp.MustCompile(`^[a-f0-9]{64}$`)
	// windowsForbidden are names Windows reserves for devices.
	windowsForbidden = []string{"CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6",
		"COM7", "COM8", "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9"}
)

// IsSafePluginName is krew's rule for plugin names: word characters and dashes, and no Windows device name.
func IsSafePluginName(name string) bool {
	if !safePluginName.MatchString(name) {
		return false
	}
	for _, f := range windowsForbidden {
		if strings.EqualFold(f, name) {
			return false
		}
	}
	return true
}

// ParseVersion parses a plugin version as krew does: semver with a leading v.
func ParseVersion(s string) (*version.Version, error) {
	if !strings.HasPrefix(s, "v") {
		return nil, fmt.Errorf("version string %q not starting with 'v'", s)
	}
	return version.ParseSemantic(s)
}

// Parse decodes a manifest strictly: an unknown field is an error.
func Parse(data []byte) (*Plugin, error) {
	var p Plugin
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		return nil, fmt.Errorf("while decoding the plugin manifest: %w", err)
	}
	return &p, nil
}

// ReadFile parses the manifest at path.
func ReadFile(path string) (*Plugin, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// ValidateFile reads the manifest at path and validates it as validate-krew-manifest does: the plugin name
// is the file name without its .yaml extension.
func ValidateFile(path string) (*Plugin, error) {
	base := filepath.Base(path)
	if ext := filepath.Ext(base); ext != ".yaml" {
		return nil, fmt.Errorf("%s: expected manifest extension \".yaml\" but found %q", path, ext)
	}
	p, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	if err := Validate(strings.TrimSuffix(base, ".yaml"), p); err != nil {
		return p, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Validate checks p, expected to be the plugin called name, and returns every problem found (joined).
func Validate(name string, p *Plugin) error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	if p.APIVersion != APIVersion {
		add("plugin manifest has apiVersion=%q, not supported in this version of krew", p.APIVersion)
	}
	if p.Kind != Kind {
		add("plugin manifest has kind=%q, but only %q is supported", p.Kind, Kind)
	}
	if !IsSafePluginName(name) {
		add("the plugin name %q is not allowed, must match %q", name, safePluginName.String())
	}
	if p.Name != name {
		add("plugin should be named %q, not %q", name, p.Name)
	}
	sd := p.Spec.ShortDescription
	switch {
	case sd == "":
		add("should have a short description")
	case strings.ContainsAny(sd, "\r\n"):
		add("should not have line breaks in short description")
	case len([]rune(sd)) > MaxShortDescription:
		add("short description is %d characters long, at most %d are shown", len([]rune(sd)), MaxShortDescription)
	}
	if p.Spec.Version == "" {
		add("should have a version specified")
	} else if _, err := ParseVersion(p.Spec.Version); err != nil {
		add("failed to parse plugin version: %v", err)
	}
	if len(p.Spec.Platforms) == 0 {
		add("should have a platform specified")
	}
	for i, pl := range p.Spec.Platforms {
		for _, err := range validatePlatform(pl) {
			add("spec.platforms[%d]: %v", i, err)
		}
	}
	if err := validatePlatformCoverage(p.Spec.Platforms); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func validatePlatform(p Platform) []error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if p.URI == "" {
		add("`uri` has to be set")
	} else if u, err := url.Parse(p.URI); err != nil || u.Scheme != "https" || u.Host == "" {
		add("`uri` %q is not an https URL", p.URI)
	}
	if p.Sha256 == "" {
		add("`sha256` sum has to be set")
	} else if !validSHA256.MatchString(p.Sha256) {
		add("`sha256` value %s is not valid, must match pattern %s", p.Sha256, validSHA256.String())
	}
	if p.Bin == "" {
		add("`bin` has to be set")
	}
	if p.Files != nil {
		if len(p.Files) == 0 {
			add("`files` has to be unspecified or non-empty")
		}
		for _, op := range p.Files {
			switch {
			case op.From == "":
				add("`files`: `from` field has to be set")
			case op.To == "":
				add("`files`: `to` field has to be set")
			case filepath.Clean(op.To) != op.To:
				add("`files`: the provided path is not clean, %q should be %q", op.To, filepath.Clean(op.To))
			}
		}
	}
	if err := validateSelector(p.Selector); err != nil {
		add("invalid platform selector: %v", err)
	} else if pairs := matching(p.Selector); len(pairs) == 0 {
		add("selector %s doesn't match any supported platform", metav1.FormatLabelSelector(p.Selector))
	} else if p.Bin != "" {
		for _, pair := range pairs {
			if pair.OS == "windows" && !strings.HasSuffix(p.Bin, ".exe") {
				add("`bin` %q is for windows and must end in .exe", p.Bin)
				break
			}
		}
	}
	return errs
}

// validateSelector is krew's: only os and arch keys, neither nil nor empty.
func validateSelector(sel *metav1.LabelSelector) error {
	if sel == nil {
		return errors.New("nil selector is not supported")
	}
	if sel.MatchLabels == nil && len(sel.MatchExpressions) == 0 {
		return errors.New("empty selector is not supported")
	}
	for k := range sel.MatchLabels {
		if k != "os" && k != "arch" {
			return fmt.Errorf("key %q not supported", k)
		}
	}
	for _, e := range sel.MatchExpressions {
		if e.Key != "os" && e.Key != "arch" {
			return fmt.Errorf("key %q not supported", e.Key)
		}
	}
	if sel.MatchLabels != nil && len(sel.MatchLabels) == 0 {
		return errors.New("`matchLabels` specified but empty")
	}
	if sel.MatchExpressions != nil && len(sel.MatchExpressions) == 0 {
		return errors.New("`matchExpressions` specified but empty")
	}
	if _, err := metav1.LabelSelectorAsSelector(sel); err != nil {
		return err
	}
	return nil
}

// matching returns the supported platforms sel selects.
func matching(sel *metav1.LabelSelector) []OSArch {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return nil
	}
	var out []OSArch
	for _, p := range SupportedPlatforms {
		if s.Matches(labels.Set{"os": p.OS, "arch": p.Arch}) {
			out = append(out, p)
		}
	}
	return out
}

// validatePlatformCoverage is validate-krew-manifest's overlap rule: no supported platform is selected by
// two platform entries.
func validatePlatformCoverage(platforms []Platform) error {
	var errs []error
	for _, env := range SupportedPlatforms {
		var idx []int
		for i, p := range platforms {
			if validateSelector(p.Selector) != nil {
				continue
			}
			for _, m := range matching(p.Selector) {
				if m == env {
					idx = append(idx, i)
				}
			}
		}
		if len(idx) > 1 {
			errs = append(errs, fmt.Errorf("multiple spec.platforms (at indexes %v) have overlapping selectors that select %s", idx, env))
		}
	}
	return errors.Join(errs...)
}

// Platforms returns the supported platforms the manifest installs on, in krew's order.
func (p *Plugin) Platforms() []OSArch {
	var out []OSArch
	for _, env := range SupportedPlatforms {
		for _, pl := range p.Spec.Platforms {
			if validateSelector(pl.Selector) != nil {
				continue
			}
			for _, m := range matching(pl.Selector) {
				if m == env {
					out = append(out, env)
				}
			}
		}
	}
	return out
}

// ArchiveName is the file name of a platform's archive: the last element of its uri.
func (p Platform) ArchiveName() string {
	u, err := url.Parse(p.URI)
	if err != nil {
		return path.Base(p.URI)
	}
	return path.Base(u.Path)
}

// VerifyArchives checks every platform's archive in dir (named after the last element of its uri): its
// sha256 is the manifest's, it is a tar.gz or zip archive, every file operation matches a file in it, and
// bin is among the installed files (executable, unless for windows).
func VerifyArchives(p *Plugin, dir string) error {
	var errs []error
	for i, pl := range p.Spec.Platforms {
		if err := verifyArchive(pl, filepath.Join(dir, pl.ArchiveName())); err != nil {
			errs = append(errs, fmt.Errorf("spec.platforms[%d]: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

// entry is a regular file of an archive.
type entry struct{ exec bool }

func verifyArchive(pl Platform, file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != pl.Sha256 {
		return fmt.Errorf("%s has sha256 %s, the manifest says %s", filepath.Base(file), got, pl.Sha256)
	}
	entries, err := listArchive(b)
	if err != nil {
		return fmt.Errorf("while reading %s: %w", filepath.Base(file), err)
	}
	ops := pl.Files
	if ops == nil {
		ops = []FileOperation{{From: "*", To: "."}} // krew's default
	}
	installed := map[string]entry{}
	for _, op := range ops {
		from := path.Clean(op.From)
		if e, ok := entries[from]; ok { // a single file: To is its new name, "." keeps it
			to := op.To
			if path.Clean(to) == "." {
				to = path.Base(from)
			}
			installed[path.Clean(to)] = e
			continue
		}
		n := 0
		for name, e := range entries {
			if ok, _ := path.Match(from, name); ok {
				installed[path.Join(op.To, path.Base(name))] = e
				n++
			}
		}
		if n == 0 {
			return fmt.Errorf("no files in %s matched the file operation from=%q", filepath.Base(file), op.From)
		}
	}
	e, ok := installed[path.Clean(pl.Bin)]
	if !ok {
		return fmt.Errorf("bin %q is not among the installed files of %s", pl.Bin, filepath.Base(file))
	}
	windows := false
	for _, m := range matching(pl.Selector) {
		windows = windows || m.OS == "windows"
	}
	if !windows && !e.exec {
		return fmt.Errorf("bin %q in %s is not executable", pl.Bin, filepath.Base(file))
	}
	return nil
}

// listArchive returns the regular files of a tar.gz or zip archive by cleaned name.
func listArchive(b []byte) (map[string]entry, error) {
	out := map[string]entry{}
	if bytes.HasPrefix(b, []byte("PK\x03\x04")) {
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return nil, err
		}
		for _, f := range zr.File {
			if f.Mode().IsRegular() {
				out[path.Clean(f.Name)] = entry{exec: f.Mode()&0o111 != 0}
			}
		}
		return out, nil
	}
	gz, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("neither a zip nor a gzip archive: %w", err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeReg {
			out[path.Clean(h.Name)] = entry{exec: h.Mode&0o111 != 0}
		}
	}
	return out, nil
}
