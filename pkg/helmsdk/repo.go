package helmsdk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/skoala-dev/kubectl-skoala/pkg/product"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/getter"
	"helm.sh/helm/v4/pkg/helmpath"
	repo "helm.sh/helm/v4/pkg/repo/v1"
	"sigs.k8s.io/yaml"

	"github.com/skoala-dev/kubectl-skoala/pkg/redact"
)

// OfficialRepoURL is the product's chart repository. The docs add it as `skoala-release` in some places and
// as `skoala` in others, so the plugin finds the repository by URL first.
const OfficialRepoURL = "https://release.daocloud.io/chartrepo/skoala"

// DefaultRepoName is the name the product guide adds the repository under.
const DefaultRepoName = product.RepoName

// RepoName is the name hints give the repository: the one in effect (found or named with --repo), else
// DefaultRepoName.
func RepoName(found *Repository, want string) string {
	switch {
	case found != nil && found.Name != "":
		return found.Name
	case want != "" && !strings.Contains(want, "://"):
		return want
	}
	return DefaultRepoName
}

// AddRepoCommand is the command that adds the product's repository under the name want was given with
// (--repo), else DefaultRepoName.
func AddRepoCommand(want string) string {
	return "helm repo add " + RepoName(nil, want) + " " + OfficialRepoURL
}

// Repository is one entry of the user's repositories.yaml. Credentials are never copied out of the file:
// URL is the entry's URL with any password in it masked (http://user:******@host/...), for output; the
// downloads use the entry itself.
type Repository struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	// IndexPath is where Helm caches the repository's index.
	IndexPath string `json:"indexPath"`
	// FoundBy says how the repository was chosen: "flag", "url" or "name".
	FoundBy string `json:"foundBy"`

	entry *repo.Entry
	// config and cache are the repositories.yaml and the cache directory it was loaded from (Helm's chart
	// downloader resolves "<repository>/<chart>" through them).
	config, cache string
	oci           *ociRepo // an oci:// registry path instead of an entry (oci.go)
}

// RepoConfigError says repositories.yaml could not be read.
type RepoConfigError struct {
	Path string
	Err  error
}

func (e *RepoConfigError) Error() string {
	return fmt.Sprintf("reading helm repositories file %s: %v", e.Path, e.Err)
}
func (e *RepoConfigError) Unwrap() error { return e.Err }

// ErrNoRepository says no skoala repository is configured.
var ErrNoRepository = errors.New("no skoala chart repository configured")

// LoadRepositories reads the repositories.yaml at path.
func LoadRepositories(path, cacheDir string) ([]Repository, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &RepoConfigError{Path: path, Err: errors.New("file does not exist")}
		}
		return nil, &RepoConfigError{Path: path, Err: err}
	}
	var f repo.File
	if err := yaml.Unmarshal(b, &f); err != nil {
		return nil, &RepoConfigError{Path: path, Err: fmt.Errorf("not valid YAML: %v", firstLine(err.Error()))}
	}
	out := make([]Repository, 0, len(f.Repositories))
	for _, e := range f.Repositories {
		if e == nil || e.Name == "" {
			continue
		}
		out = append(out, Repository{
			Name:      e.Name,
			URL:       redact.String(e.URL),
			IndexPath: filepath.Join(cacheDir, helmpath.CacheIndexFile(e.Name)),
			entry:     e,
			config:    path,
			cache:     cacheDir,
		})
	}
	return out, nil
}

func normURL(u string) string {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil {
		return strings.TrimRight(strings.ToLower(u), "/")
	}
	return strings.ToLower(p.Host) + strings.TrimRight(p.Path, "/")
}

// FindRepository picks the skoala repository: the one named (or whose URL is) want when want is set;
// otherwise the one whose URL is the official repository, then one named skoala-release or skoala, then one
// whose URL ends in /chartrepo/skoala (an offline Harbor mirror).
func FindRepository(repos []Repository, want string) (*Repository, error) {
	pick := func(r Repository, by string) (*Repository, error) {
		r.FoundBy = by
		return &r, nil
	}
	if want != "" {
		for _, r := range repos {
			if r.Name == want {
				return pick(r, "flag")
			}
		}
		for _, r := range repos {
			if normURL(r.URL) == normURL(want) {
				return pick(r, "flag")
			}
		}
		return nil, fmt.Errorf("%w: no repository named %q", ErrNoRepository, want)
	}
	for _, r := range repos {
		if normURL(r.URL) == normURL(OfficialRepoURL) {
			return pick(r, "url")
		}
	}
	for _, name := range []string{DefaultRepoName, "skoala"} {
		for _, r := range repos {
			if r.Name == name {
				return pick(r, "name")
			}
		}
	}
	for _, r := range repos {
		if strings.HasSuffix(normURL(r.URL), "/chartrepo/skoala") {
			return pick(r, "url")
		}
	}
	return nil, ErrNoRepository
}

// ChartVersion is one version of a chart in a repository index.
type ChartVersion struct {
	Name        string    `json:"name"`
	Version     string    `json:"version"`
	AppVersion  string    `json:"appVersion"`
	Description string    `json:"description,omitempty"`
	Created     time.Time `json:"created"`
	Deprecated  bool      `json:"deprecated,omitempty"`
	URLs        []string  `json:"-"`
	Digest      string    `json:"-"`
}

// Index is a repository index as the plugin uses it.
type Index struct {
	Path      string
	ModTime   time.Time
	Generated time.Time
	Entries   map[string][]ChartVersion
}

// IndexError says a cached index is missing or unreadable.
type IndexError struct {
	Path    string
	Missing bool
	Err     error
}

func (e *IndexError) Error() string {
	if e.Missing {
		return fmt.Sprintf("repository index %s is missing", e.Path)
	}
	return fmt.Sprintf("repository index %s is corrupt: %v", e.Path, e.Err)
}
func (e *IndexError) Unwrap() error { return e.Err }

// LoadIndex reads a cached repository index.
func LoadIndex(path string) (*Index, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &IndexError{Path: path, Missing: true, Err: err}
		}
		return nil, &IndexError{Path: path, Err: err}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &IndexError{Path: path, Err: err}
	}
	idx, err := parseIndex(b)
	if err != nil {
		return nil, &IndexError{Path: path, Err: err}
	}
	idx.Path = path
	idx.ModTime = st.ModTime()
	return idx, nil
}

func parseIndex(b []byte) (*Index, error) {
	if idx, ok := parseIndexFast(b); ok { // index.go; an empty file is not ok there
		return idx, nil
	}
	return parseIndexHelm(b)
}

// parseIndexHelm reads an index through Helm's repo.IndexFile (sigs.k8s.io/yaml).
func parseIndexHelm(b []byte) (*Index, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, errors.New("empty file")
	}
	var f repo.IndexFile
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		// Helm itself tolerates unknown fields; only fall back when strictness is the sole complaint.
		if err2 := yaml.Unmarshal(b, &f); err2 != nil {
			return nil, fmt.Errorf("not a valid index: %v", firstLine(err2.Error()))
		}
	}
	if f.APIVersion == "" {
		return nil, errors.New("not a valid index: no apiVersion")
	}
	idx := &Index{Generated: f.Generated, Entries: map[string][]ChartVersion{}}
	for name, versions := range f.Entries {
		for _, v := range versions {
			if v == nil || v.Metadata == nil || v.Version == "" {
				continue
			}
			idx.Entries[name] = append(idx.Entries[name], ChartVersion{
				Name: name, Version: v.Version, AppVersion: v.AppVersion, Description: v.Description,
				Created: v.Created, Deprecated: v.Deprecated, URLs: v.URLs, Digest: v.Digest,
			})
		}
	}
	return idx, nil
}

// Versions returns the versions of chart in the index (in index order; callers sort by semver).
func (i *Index) Versions(chart string) []ChartVersion { return i.Entries[chart] }

// Charts lists the chart names of the index, sorted.
func (i *Index) Charts() []string {
	out := make([]string, 0, len(i.Entries))
	for k := range i.Entries {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// RefreshIndex downloads the repository's index.yaml into Helm's cache, as `helm repo update` does, bounded
// by ctx and timeout. The cache is replaced only by a valid index, atomically.
func RefreshIndex(ctx context.Context, r *Repository, timeout time.Duration) error {
	if r.entry == nil {
		return errors.New("repository has no configuration")
	}
	e := r.entry
	base := strings.TrimSuffix(e.URL, "/")
	indexURL := base + "/index.yaml"
	b, err := r.download(ctx, indexURL, timeout)
	if err != nil {
		return err
	}
	if _, err := parseIndex(b.Bytes()); err != nil {
		return fmt.Errorf("repository %s answered with an invalid index: %w", r.Name, err)
	}
	if err := os.MkdirAll(filepath.Dir(r.IndexPath), 0o755); err != nil {
		return fmt.Errorf("creating the index cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(r.IndexPath), ".index-*.yaml")
	if err != nil {
		return fmt.Errorf("writing the index cache: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("writing the index cache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing the index cache: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), r.IndexPath)
}

// redactURL removes any user:password@ part from URLs inside s.
func redactURL(s string) string {
	for _, scheme := range []string{"http://", "https://"} {
		i := 0
		for {
			j := strings.Index(s[i:], scheme)
			if j < 0 {
				break
			}
			start := i + j + len(scheme)
			end := start
			for end < len(s) && !strings.ContainsRune("/ \"'", rune(s[end])) {
				end++
			}
			if at := strings.LastIndex(s[start:end], "@"); at >= 0 {
				s = s[:start] + "***@" + s[start+at+1:]
				end = start + 4
			}
			i = end
		}
	}
	return s
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// download GETs u with the repository's credentials and TLS settings through Helm's HTTP getter, bounded by
// ctx and timeout. Errors name the URL without any user:password part.
func (r *Repository) download(ctx context.Context, u string, timeout time.Duration) (*bytes.Buffer, error) {
	e := r.entry
	opts := []getter.Option{
		getter.WithURL(e.URL),
		getter.WithTimeout(timeout),
		getter.WithInsecureSkipVerifyTLS(e.InsecureSkipTLSVerify),
		getter.WithTLSClientConfig(e.CertFile, e.KeyFile, e.CAFile),
		getter.WithPassCredentialsAll(e.PassCredentialsAll),
	}
	if e.Username != "" || e.Password != "" {
		opts = append(opts, getter.WithBasicAuth(e.Username, e.Password))
	}
	g, err := getter.NewHTTPGetter(opts...)
	if err != nil {
		return nil, fmt.Errorf("preparing the download of %s: %w", redactURL(u), err)
	}
	type result struct {
		b   *bytes.Buffer
		err error
	}
	ch := make(chan result, 1)
	go func() {
		b, err := g.Get(u, opts...)
		ch <- result{b, err}
	}()
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("downloading %s: %w", redactURL(u), ctx.Err())
	case res := <-ch:
		if res.err != nil {
			return nil, fmt.Errorf("downloading %s: %s", redactURL(u), redactURL(res.err.Error()))
		}
		return res.b, nil
	}
}
