package images

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
)

// recorder is a registry stand-in that records the Authorization header of every request, asks for Basic
// credentials when none come, and holds no image (HEAD of a manifest: 404).
type recorder struct {
	mu    sync.Mutex
	auths []string
	reqs  int
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	rc.reqs++
	if a := r.Header.Get("Authorization"); a != "" {
		rc.auths = append(rc.auths, a)
	}
	rc.mu.Unlock()
	if r.Header.Get("Authorization") == "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="recorder"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.URL.Path == "/v2/" {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.WriteHeader(http.StatusNotFound)
}

func (rc *recorder) seen() ([]string, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.auths...), rc.reqs
}

type staticKeychain map[string]authn.Authenticator

func (k staticKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if a, ok := k[r.RegistryStr()]; ok {
		return a, nil
	}
	return authn.Anonymous, nil
}

// The credentials given for one registry go to that registry only: an image of another registry in the
// same check is asked for with the docker config's credentials of that registry (or none).
func TestCheckSendsTheCredentialsOnlyToTheirRegistry(t *testing.T) {
	var given, other recorder
	a := httptest.NewTLSServer(&given)
	defer a.Close()
	b := httptest.NewTLSServer(&other)
	defer b.Close()
	hostA, hostB := strings.TrimPrefix(a.URL, "https://"), strings.TrimPrefix(b.URL, "https://")
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // test servers
	opts := RegistryOptions{Username: "robot", Password: "Given-pw-1", Host: hostA, Transport: tr,
		Keychain: staticKeychain{hostB: &authn.Basic{Username: "docker", Password: "docker-cfg-pw"}}}
	rep, err := Check(context.Background(), CheckConfig{Options: opts, Architectures: []string{"amd64"}, Needs: []Need{
		{Image: hostA + "/skoala/hive:v1"}, {Image: hostB + "/library/mysql:8"}}})
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	if rep.Missing != 2 {
		t.Fatalf("want both images missing, got %+v", rep)
	}
	basic := "Basic " + b64("robot:Given-pw-1")
	ga, _ := given.seen()
	oa, _ := other.seen()
	if len(ga) == 0 || ga[0] != basic {
		t.Errorf("the given registry saw %q, want the given credentials", ga)
	}
	for _, h := range oa {
		if h == basic {
			t.Errorf("the other registry %s received the credentials given for %s", hostB, hostA)
		}
		if h != "Basic "+b64("docker:docker-cfg-pw") {
			t.Errorf("the other registry saw %q, want its own docker config credentials", h)
		}
	}
}

// A registry that answers only plain HTTP (go-containerregistry falls back to it for loopback, private
// ranges and .local) is an error with a hint unless --plain-http: no request, and so no credential, goes
// out over plain HTTP. With PlainHTTP it is used.
func TestNoPlainHTTPWithoutPlainHTTP(t *testing.T) {
	var rec recorder
	srv := httptest.NewServer(&rec)
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	opts := RegistryOptions{Username: "robot", Password: "Given-pw-1", Host: host}
	_, err := Check(context.Background(), CheckConfig{Options: opts, Needs: []Need{{Image: host + "/skoala/hive:v1"}}})
	var pe *PlainHTTPError
	if !errors.As(err, &pe) || pe.Registry != host || pe.Hint() == "" || !strings.Contains(pe.Hint(), "--plain-http") {
		t.Fatalf("check of a plain-HTTP registry without --plain-http: err %v, want a *PlainHTTPError naming %s", err, host)
	}
	if auths, n := rec.seen(); n != 0 {
		t.Fatalf("%d plain-HTTP requests went out (Authorization %q)", n, auths)
	}
	if err := opts.withGuard().Login(context.Background(), host); !errors.As(err, &pe) {
		t.Fatalf("login: err %v, want a *PlainHTTPError", err)
	}
	if auths, n := rec.seen(); n != 0 {
		t.Fatalf("login: %d plain-HTTP requests went out (Authorization %q)", n, auths)
	}

	opts.PlainHTTP = true
	rep, err := Check(context.Background(), CheckConfig{Options: opts, Needs: []Need{{Image: host + "/skoala/hive:v1"}}})
	if err != nil || rep.Missing != 1 {
		t.Fatalf("with --plain-http: %+v, %v", rep, err)
	}
	if auths, _ := rec.seen(); len(auths) == 0 {
		t.Fatal("with --plain-http the registry saw no credentials")
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
