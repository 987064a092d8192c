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

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/skoala-dev/kubectl-skoala/pkg/redact"
)

// RegistryOptions say how to talk to a registry.
type RegistryOptions struct {
	// Username and Password, when Username is set, are used instead of the docker config. The password
	// never appears in any message.
	Username string
	Password string
	// CAFile adds a CA bundle to the system roots; InsecureSkipTLSVerify skips verification; PlainHTTP
	// talks HTTP.
	CAFile                string
	InsecureSkipTLSVerify bool
	PlainHTTP             bool
	// Keychain resolves credentials when Username is empty (default: the docker config, DOCKER_CONFIG or
	// ~/.docker/config.json).
	Keychain authn.Keychain
	// Jobs is the number of blobs moved at once per image (default 4).
	Jobs int
	// Transport, when set, is used as is (tests).
	Transport http.RoundTripper
}

func (o RegistryOptions) transport() (http.RoundTripper, error) {
	if o.Transport != nil {
		return o.Transport, nil
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
	return tr, nil
}

func (o RegistryOptions) nameOptions() []name.Option {
	opts := []name.Option{name.WeakValidation}
	if o.PlainHTTP {
		opts = append(opts, name.Insecure)
	}
	return opts
}

func (o RegistryOptions) authOption() remote.Option {
	if o.Username != "" {
		return remote.WithAuth(&authn.Basic{Username: o.Username, Password: o.Password})
	}
	kc := o.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	return remote.WithAuthFromKeychain(kc)
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
	if o.Username != "" {
		return o.Username
	}
	kc := o.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	a, err := kc.Resolve(reg)
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
	if o.Username != "" {
		auth = &authn.Basic{Username: o.Username, Password: o.Password}
	} else {
		kc := o.Keychain
		if kc == nil {
			kc = authn.DefaultKeychain
		}
		if a, err := kc.Resolve(reg); err == nil {
			auth = a
		}
	}
	rt, err := transport.NewWithContext(ctx, reg, auth, tr, []string{reg.Scope(transport.PullScope)})
	if err != nil {
		if c, ok := isStatus(err, http.StatusUnauthorized, http.StatusForbidden); ok {
			return &AuthError{Registry: registry, User: o.userOf(reg), Status: c}
		}
		return fmt.Errorf("reaching registry %s: %s", registry, o.scrub(err.Error()))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, reg.Scheme()+"://"+reg.RegistryStr()+"/v2/", nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
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
