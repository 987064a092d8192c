package helmsdk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/downloader"
	"helm.sh/helm/v4/pkg/getter"
	"helm.sh/helm/v4/pkg/registry"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/skoala-dev/kubectl-skoala/pkg/product"
	"github.com/skoala-dev/kubectl-skoala/pkg/redact"
)

// Charts from OCI registries (issue 11): Harbor 2.8 and later keep charts as OCI artifacts, so --repo
// oci://HOST/PATH names a registry path under which the charts skoala and skoala-init are repositories
// (HOST/PATH/skoala, as 'helm push skoala-0.57.2.tgz oci://HOST/PATH' makes them), each tag a chart version.
// Everything goes through the Helm SDK: its registry client for the tag lists (credentials from helm's
// registry config, HELM_REGISTRY_CONFIG, as 'helm registry login' writes it, with docker's as fallback) and
// its chart downloader for the charts. The registry's certificate is verified against the system roots
// (SSL_CERT_FILE and SSL_CERT_DIR are honoured, as by helm itself).

// IsOCI reports whether a --repo value is an OCI registry reference (oci://HOST/PATH).
func IsOCI(repo string) bool { return registry.IsOCI(strings.TrimSpace(repo)) }

// ociRepo is the registry side of a Repository named oci://HOST/PATH.
type ociRepo struct {
	// base is HOST/PATH (no scheme, no trailing slash).
	base           string
	registryConfig string
}

// OCI reports whether the repository is an OCI registry path.
func (r *Repository) OCI() bool { return r != nil && r.oci != nil }

// ociTagsError says the tag list of a chart could not be read.
type ociTagsError struct {
	ref string
	err error
}

func (e *ociTagsError) Error() string {
	return fmt.Sprintf("listing the tags of %s: %s", e.ref, ociMessage(e.err))
}
func (e *ociTagsError) Unwrap() error { return e.err }

// OCIHint is what to do about an error of an OCI repository ("" when there is nothing specific).
func OCIHint(repo string, err error) string {
	host := strings.SplitN(strings.TrimPrefix(strings.TrimSpace(repo), "oci://"), "/", 2)[0]
	var ec *errcode.ErrorResponse
	if errors.Is(err, auth.ErrBasicCredentialNotFound) || errors.As(err, &ec) && (ec.StatusCode == http.StatusUnauthorized || ec.StatusCode == http.StatusForbidden) {
		return fmt.Sprintf("log in with 'helm registry login %s' (the credentials are read from HELM_REGISTRY_CONFIG)", host)
	}
	if strings.Contains(err.Error(), "x509:") || strings.Contains(err.Error(), "certificate") {
		return fmt.Sprintf("trust the CA of %s (SSL_CERT_FILE=ca.crt, or add it to the system roots)", host)
	}
	return ""
}

// ociMessage is an error of the registry client on one line, without credentials.
func ociMessage(err error) string {
	if errors.Is(err, auth.ErrBasicCredentialNotFound) {
		return "the registry wants credentials and the registry config holds none for it"
	}
	var ec *errcode.ErrorResponse
	if errors.As(err, &ec) {
		switch ec.StatusCode {
		case http.StatusUnauthorized:
			return "the registry refused the credentials (HTTP 401)"
		case http.StatusForbidden:
			return "the registry denied access (HTTP 403)"
		}
	}
	return firstLine(redact.String(err.Error()))
}

// newRegistryClient is Helm's registry client with helm's registry config and a bound on every request.
func newRegistryClient(registryConfig string, timeout time.Duration) (*registry.Client, error) {
	opts := []registry.ClientOption{
		registry.ClientOptHTTPClient(&http.Client{Transport: ociTransport(), Timeout: timeout}),
		registry.ClientOptEnableCache(true),
	}
	if registryConfig != "" {
		opts = append(opts, registry.ClientOptCredentialsFile(registryConfig))
	}
	return registry.NewClient(opts...)
}

// ociTransport is the registry client's transport (tests swap it for their TLS server's).
var ociTransport = func() http.RoundTripper { return http.DefaultTransport.(*http.Transport).Clone() }

// bounded runs f (a registry call that takes no context) and gives up when ctx ends.
func bounded[T any](ctx context.Context, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	select {
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	case r := <-ch:
		return r.v, r.err
	}
}

// LoadOCIRepository reads the versions of skoala and skoala-init under oci://HOST/PATH from the registry's
// tag lists (Helm's registry client; tags that are not semver are left out, '_' reads as '+') and returns
// them as an Index. A chart whose repository does not exist has no versions; an unreachable registry or
// refused credentials are an error.
func LoadOCIRepository(ctx context.Context, env Env, ref string, timeout time.Duration) (*Repository, *Index, error) {
	base := strings.TrimRight(strings.TrimPrefix(strings.TrimSpace(ref), registry.OCIScheme+"://"), "/")
	ref = registry.OCIScheme + "://" + base
	last := base[strings.LastIndexByte(base, '/')+1:]
	if base == "" || strings.Contains(base, "@") || (strings.Contains(base, "/") && strings.Contains(last, ":")) {
		return nil, nil, fmt.Errorf("--repo %s: want oci://HOST[:PORT]/PATH, the registry path above the charts (no chart name, tag or digest)", redact.String(ref))
	}
	r := &Repository{Name: redact.String(base), URL: redact.String(ref), FoundBy: "flag", oci: &ociRepo{base: base, registryConfig: env.RegistryConfig}}
	client, err := newRegistryClient(env.RegistryConfig, timeout)
	if err != nil {
		return r, nil, fmt.Errorf("preparing the registry client: %w", err)
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	charts := []string{product.ChartSkoala, product.ChartInit}
	tags := make([][]string, len(charts))
	errs := make([]error, len(charts))
	var wg sync.WaitGroup
	for i, name := range charts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tags[i], errs[i] = bounded(ctx, func() ([]string, error) { return client.Tags(base + "/" + name) })
		}()
	}
	wg.Wait()
	idx := &Index{Path: r.URL, ModTime: time.Now().UTC(), Entries: map[string][]ChartVersion{}}
	for i, name := range charts {
		if err := errs[i]; err != nil {
			var ec *errcode.ErrorResponse
			if errors.As(err, &ec) && ec.StatusCode == http.StatusNotFound {
				continue // no such chart under this path
			}
			return r, nil, &ociTagsError{ref: redact.String(registry.OCIScheme + "://" + base + "/" + name), err: err}
		}
		for _, v := range tags[i] {
			idx.Entries[name] = append(idx.Entries[name], ChartVersion{Name: name, Version: v,
				URLs: []string{registry.OCIScheme + "://" + base + "/" + name}})
		}
	}
	return r, idx, nil
}

// downloadOCIChart downloads cv from the OCI registry with Helm's chart downloader (its OCI getter and
// registry client) and loads it.
func downloadOCIChart(ctx context.Context, r *Repository, cv ChartVersion, timeout time.Duration) (*Chart, error) {
	ref := registry.OCIScheme + "://" + r.oci.base + "/" + cv.Name
	shown := redact.String(ref) + ":" + cv.Version
	client, err := newRegistryClient(r.oci.registryConfig, timeout)
	if err != nil {
		return nil, fmt.Errorf("preparing the registry client: %w", err)
	}
	dir, err := os.MkdirTemp("", "skoala-oci-chart-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	dl := downloader.ChartDownloader{
		Out:            io.Discard,
		Verify:         downloader.VerifyNever,
		Getters:        getter.Providers{{Schemes: []string{registry.OCIScheme}, New: getter.NewOCIGetter}},
		Options:        []getter.Option{getter.WithRegistryClient(client), getter.WithTimeout(timeout)},
		RegistryClient: client,
		// Helm 4's downloader keeps what it downloads in a content cache: a throwaway one, so that the
		// plugin writes nothing into the user's helm cache (as with Helm 3).
		ContentCache: filepath.Join(dir, "cache"),
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	file, err := bounded(ctx, func() (string, error) {
		f, _, err := dl.DownloadTo(ref, cv.Version, dir)
		return f, err
	})
	if err != nil {
		return nil, fmt.Errorf("downloading %s: %s", shown, ociMessage(err))
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if len(data) > maxChartSize {
		return nil, fmt.Errorf("%s is larger than %d MiB", shown, maxChartSize>>20)
	}
	loaded, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", shown, err)
	}
	c := fromChart(loaded, shown)
	c.reload = func() (*chart.Chart, error) { return loader.LoadArchive(bytes.NewReader(data)) }
	if c.Name != cv.Name {
		return nil, &ChartNameError{Path: shown, Got: c.Name, Want: cv.Name}
	}
	if c.Version != cv.Version {
		return nil, fmt.Errorf("%s holds %s %s", shown, c.Name, c.Version)
	}
	return c, nil
}

// loadOCIStatus is LoadRepository for --repo oci://HOST/PATH: the versions come straight from the registry
// on every call (there is no cached index to refresh).
func loadOCIStatus(ctx context.Context, env Env, want string, timeout time.Duration) (*RepoStatus, *Index, []string) {
	r, idx, err := LoadOCIRepository(ctx, env, want, timeout)
	if err != nil {
		st := &RepoStatus{Error: err.Error(), Hint: OCIHint(want, err)}
		if r != nil {
			st.Name, st.URL = r.Name, r.URL
		}
		return st, nil, nil
	}
	out := &RepoStatus{Name: r.Name, URL: r.URL, Index: r.URL, IndexTime: idx.ModTime, Refreshed: true}
	if len(idx.Versions(product.ChartSkoala)) == 0 && len(idx.Versions(product.ChartInit)) == 0 {
		out.Error = fmt.Sprintf("%s holds no skoala or skoala-init chart", r.URL)
		out.Hint = fmt.Sprintf("push them with 'helm push skoala-<version>.tgz %s'", r.URL)
		return out, nil, nil
	}
	return out, idx, nil
}
