package images

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/skoala-dev/kubectl-skoala/pkg/redact"
)

// RegistryOptions say how to talk to a registry.
type RegistryOptions struct {
	// Username and Password, when Username is set, are used instead of the docker config for Host, the
	// registry they were given for (HOST[:PORT]), and never sent to any other registry: the others get the
	// docker config's credentials or none (Helm's CVE-2021-32690). The password never appears in any message.
	Username string
	Password string
	Host     string
	// CAFile adds a CA bundle to the system roots; InsecureSkipTLSVerify skips verification; PlainHTTP
	// talks HTTP. Without PlainHTTP no request goes out over plain HTTP, although go-containerregistry
	// falls back to it for loopback, private-range and .local registries: such a registry is a
	// *PlainHTTPError.
	CAFile                string
	InsecureSkipTLSVerify bool
	PlainHTTP             bool
	// Keychain resolves credentials when Username is empty (default: the docker config, DOCKER_CONFIG or
	// ~/.docker/config.json).
	Keychain authn.Keychain
	// Jobs is the number of blobs moved at once per image (default 4).
	Jobs int
	// Transport, when set, is used instead of the default one (tests); the plain-HTTP guard still applies.
	Transport http.RoundTripper

	refused *refusedHosts
}

func (o RegistryOptions) transport() (http.RoundTripper, error) {
	if o.Transport != nil {
		return o.guard(o.Transport), nil
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading --ca-file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca-file %s holds no PEM certificate", o.CAFile)
		}
		tc.RootCAs = pool
	}
	tc.InsecureSkipVerify = o.InsecureSkipTLSVerify //nolint:gosec // the operator asked for it
	tr.TLSClientConfig = tc
	return o.guard(tr), nil
}

func (o RegistryOptions) nameOptions() []name.Option {
	opts := []name.Option{name.WeakValidation}
	if o.PlainHTTP {
		opts = append(opts, name.Insecure)
	}
	return opts
}

func (o RegistryOptions) authOption() remote.Option { return remote.WithAuthFromKeychain(o.keychain()) }

// keychain resolves the credentials of a registry: Username and Password for Host only, the docker
// config (or Keychain) for every other registry, and for Host too when no Username is given.
func (o RegistryOptions) keychain() authn.Keychain {
	kc := o.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	if o.Username == "" {
		return kc
	}
	return hostKeychain{host: o.Host, basic: &authn.Basic{Username: o.Username, Password: o.Password}, others: kc}
}

type hostKeychain struct {
	host   string
	basic  authn.Authenticator
	others authn.Keychain
}

func (k hostKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if SameRegistry(r.RegistryStr(), k.host) {
		return k.basic, nil
	}
	return k.others.Resolve(r)
}

// SameRegistry reports whether two registry hosts (HOST[:PORT], a path after them ignored) name one
// registry, as go-containerregistry normalises them (docker.io is index.docker.io, case is ignored).
func SameRegistry(a, b string) bool {
	ra, err1 := name.NewRegistry(RegistryHost(a), name.WeakValidation)
	rb, err2 := name.NewRegistry(RegistryHost(b), name.WeakValidation)
	if err1 != nil || err2 != nil || b == "" {
		return false
	}
	return strings.EqualFold(ra.RegistryStr(), rb.RegistryStr())
}

// RegistryHost is the HOST[:PORT] of a registry given as HOST[:PORT][/PATH].
func RegistryHost(registry string) string {
	h, _, _ := strings.Cut(strings.Trim(registry, "/"), "/")
	return h
}

// PlainHTTPError says a registry was reached only over plain HTTP, which was not asked for.
type PlainHTTPError struct{ Registry string }

func (e *PlainHTTPError) Error() string {
	return fmt.Sprintf("registry %s does not answer over HTTPS, and plain HTTP (which would carry the credentials in clear) was not asked for", e.Registry)
}

// Hint says what to do about it.
func (e *PlainHTTPError) Hint() string {
	return "check the registry's address and that it serves HTTPS (--ca-file for its CA); pass --plain-http only if it is a plain-HTTP registry on purpose"
}

// guard refuses every plain-HTTP request unless PlainHTTP says so, and remembers the registries it
// refused (plainRefused), so that the error a call returns can name the cause.
func (o RegistryOptions) guard(tr http.RoundTripper) http.RoundTripper {
	if o.PlainHTTP {
		return tr
	}
	return &httpsOnly{next: tr, refused: o.refused}
}

type httpsOnly struct {
	next    http.RoundTripper
	refused *refusedHosts
}

var errPlainHTTP = errors.New("plain HTTP refused (no --plain-http)")

func (t *httpsOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.EqualFold(req.URL.Scheme, "https") {
		if req.Body != nil {
			req.Body.Close()
		}
		t.refused.add(req.URL.Host)
		return nil, errPlainHTTP
	}
	return t.next.RoundTrip(req)
}

// refusedHosts are the hosts a guard refused to talk plain HTTP to.
type refusedHosts struct {
	mu    sync.Mutex
	hosts map[string]bool
}

func (r *refusedHosts) add(h string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hosts == nil {
		r.hosts = map[string]bool{}
	}
	r.hosts[strings.ToLower(h)] = true
}

func (r *refusedHosts) has(h string) bool {
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hosts[strings.ToLower(h)]
}

// plainHTTPError turns the error of a call to registry into a *PlainHTTPError when the guard refused to
// reach it over plain HTTP (and the call failed: a registry that also answers HTTPS is used over HTTPS).
func (o RegistryOptions) plainHTTPError(registry string, err error) error {
	if err == nil || o.PlainHTTP {
		return err
	}
	if errors.Is(err, errPlainHTTP) || (o.refused.has(registry) && strings.Contains(err.Error(), errPlainHTTP.Error())) {
		return &PlainHTTPError{Registry: registry}
	}
	return err
}

// withGuard returns o with a fresh record of refused hosts (the options are passed by value).
func (o RegistryOptions) withGuard() RegistryOptions {
	if o.refused == nil {
		o.refused = &refusedHosts{}
	}
	return o
}

func (o RegistryOptions) remoteOptions(ctx context.Context) ([]remote.Option, error) {
	tr, err := o.transport()
	if err != nil {
		return nil, err
	}
	jobs := o.Jobs
	if jobs <= 0 {
		jobs = 4
	}
	return []remote.Option{remote.WithContext(ctx), remote.WithTransport(tr), o.authOption(), remote.WithJobs(jobs),
		remote.WithUserAgent("kubectl-skoala")}, nil
}

// ParseRef parses an image reference the way the registry options ask (plain HTTP or not).
func (o RegistryOptions) ParseRef(s string) (name.Reference, error) {
	return name.ParseReference(s, o.nameOptions()...)
}

// AuthError says the registry refused the credentials.
type AuthError struct {
	Registry string
	User     string
	Status   int
}

func (e *AuthError) Error() string {
	who := "anonymous access"
	if e.User != "" {
		who = fmt.Sprintf("the credentials of user %q", e.User)
	}
	return fmt.Sprintf("registry %s refused %s (HTTP %d)", e.Registry, who, e.Status)
}

// Hint says what to do about it.
func (e *AuthError) Hint() string {
	return "check the user and password (--registry-username, --registry-password-stdin) or 'docker login " + e.Registry + "'"
}

// isStatus reports whether err is a registry answer with one of the status codes.
func isStatus(err error, codes ...int) (int, bool) {
	var te *transport.Error
	if errors.As(err, &te) {
		for _, c := range codes {
			if te.StatusCode == c {
				return c, true
			}
		}
	}
	return 0, false
}

// isNotFound reports whether err says the manifest is not there.
func isNotFound(err error) bool {
	if _, ok := isStatus(err, http.StatusNotFound); ok {
		return true
	}
	var te *transport.Error
	if errors.As(err, &te) {
		for _, d := range te.Errors {
			if d.Code == transport.ManifestUnknownErrorCode || d.Code == transport.NameUnknownErrorCode {
				return true
			}
		}
	}
	return false
}

// userOf names the user the options authenticate as, for messages ("" when it comes from the keychain
// and cannot be told).
func (o RegistryOptions) userOf(reg name.Registry) string {
	a, err := o.keychain().Resolve(reg)
	if err != nil || a == authn.Anonymous {
		return ""
	}
	cfg, err := a.Authorization()
	if err != nil || cfg == nil {
		return ""
	}
	return cfg.Username
}

// Login checks that the registry accepts the credentials: GET /v2/ through the authenticating transport.
// A refusal is an *AuthError.
func (o RegistryOptions) Login(ctx context.Context, registry string) error {
	reg, err := name.NewRegistry(registry, o.nameOptions()...)
	if err != nil {
		return fmt.Errorf("registry %q: %w", registry, err)
	}
	tr, err := o.transport()
	if err != nil {
		return err
	}
	var auth authn.Authenticator = authn.Anonymous
	if a, err := o.keychain().Resolve(reg); err == nil {
		auth = a
	}
	rt, err := transport.NewWithContext(ctx, reg, auth, tr, []string{reg.Scope(transport.PullScope)})
	if err != nil {
		if c, ok := isStatus(err, http.StatusUnauthorized, http.StatusForbidden); ok {
			return &AuthError{Registry: registry, User: o.userOf(reg), Status: c}
		}
		if pe := o.plainHTTPError(reg.RegistryStr(), err); pe != err {
			return pe
		}
		return fmt.Errorf("reaching registry %s: %s", registry, o.scrub(err.Error()))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, reg.Scheme()+"://"+reg.RegistryStr()+"/v2/", nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		if pe := o.plainHTTPError(reg.RegistryStr(), err); pe != err {
			return pe
		}
		return fmt.Errorf("reaching registry %s: %s", registry, o.scrub(err.Error()))
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return nil
	case http.StatusUnauthorized, http.StatusForbidden:
		return &AuthError{Registry: registry, User: o.userOf(reg), Status: resp.StatusCode}
	}
	return fmt.Errorf("registry %s answered GET /v2/ with HTTP %d", registry, resp.StatusCode)
}

// scrub removes the password from s, and keeps its first line.
func (o RegistryOptions) scrub(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if o.Password == "" {
		return s
	}
	return redact.Scrub(s, []string{o.Password})
}

// errLine is err's message on one line without the password.
func (o RegistryOptions) errLine(err error) string {
	if err == nil {
		return ""
	}
	return o.scrub(err.Error())
}
