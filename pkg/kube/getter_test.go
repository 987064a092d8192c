package kube

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// countingProxy is a loopback HTTP proxy that answers discovery itself (one core group with Pods) and
// records every request it saw, with its impersonation headers.
type countingProxy struct {
	mu       sync.Mutex
	requests []string
	extra    []string
}

func (p *countingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.requests = append(p.requests, r.URL.String())
	p.extra = append(p.extra, r.Header.Get("Impersonate-Extra-Team"))
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/api":
		fmt.Fprint(w, `{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"127.0.0.1:1"}]}`)
	case "/apis":
		fmt.Fprint(w, `{"kind":"APIGroupList","apiVersion":"v1","groups":[]}`)
	case "/api/v1":
		fmt.Fprint(w, `{"kind":"APIResourceList","groupVersion":"v1","resources":[{"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod","verbs":["get","list"],"shortNames":["po"]}]}`)
	default:
		http.NotFound(w, r)
	}
}

func (p *countingProxy) seen() (int, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.requests), append([]string(nil), p.extra...)
}

// TestGetterSendsDiscoveryThroughTheProxy: Helm's discovery and REST mapper (the cluster's Getter) use
// --proxy-url and --as-user-extra: the server (a closed port) is reached only through the proxy.
func TestGetterSendsDiscoveryThroughTheProxy(t *testing.T) {
	proxy := &countingProxy{}
	srv := httptest.NewServer(proxy)
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "config")
	kc := `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "http://127.0.0.1:1"}
users:
- name: u
  user: {token: t0k3n-value}
contexts:
- name: ctx
  context: {cluster: c, user: u}
current-context: ctx
`
	if err := os.WriteFile(path, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, ctx := range []string{"ctx", ""} {
		t.Run("context "+ctx, func(t *testing.T) {
			flags := genericclioptions.NewConfigFlags(true)
			flags.KubeConfig = strp(path)
			flags.ProxyURL = strp(srv.URL)
			flags.Impersonate = strp("alice")
			flags.ImpersonateUserExtra = &[]string{"team=blue"}
			before, _ := proxy.seen()
			c, err := NewFactory(flags).Cluster(ctx)
			if err != nil {
				t.Fatal(err)
			}
			mapper, err := c.Getter.ToRESTMapper()
			if err != nil {
				t.Fatal(err)
			}
			m, err := mapper.RESTMapping(schema.GroupKind{Kind: "Pod"}, "v1")
			if err != nil {
				t.Fatalf("REST mapping through the proxy: %v", err)
			}
			if m.Resource.Resource != "pods" {
				t.Fatalf("mapping: %+v", m.Resource)
			}
			n, extra := proxy.seen()
			if n <= before {
				t.Fatal("discovery did not go through --proxy-url")
			}
			for _, e := range extra[before:] {
				if e != "blue" {
					t.Fatalf("a discovery request without --as-user-extra: %q", extra[before:])
				}
			}
			rc, _ := c.Getter.ToRESTConfig()
			if rc.Proxy == nil || rc.Impersonate.Extra["team"][0] != "blue" {
				t.Fatalf("the getter's REST config lost --proxy-url or --as-user-extra: %+v", rc.Impersonate)
			}
		})
	}
}

// TestEveryRequestHasADeadline: without --request-timeout every cluster's requests time out after
// DefaultRequestTimeout (kubectl's default "0" included); the flag overrides it; HELM_QPS/HELM_BURST_LIMIT
// (the factory's QPS and Burst) override the rates.
func TestEveryRequestHasADeadline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(twoContexts), 0o600); err != nil {
		t.Fatal(err)
	}
	for flag, want := range map[string]time.Duration{"": DefaultRequestTimeout, "7s": 7 * time.Second, "0": DefaultRequestTimeout} {
		flags := genericclioptions.NewConfigFlags(true)
		flags.KubeConfig = strp(path)
		if flag != "" {
			flags.Timeout = strp(flag)
		}
		f := NewFactory(flags)
		f.QPS, f.Burst = 7, 9
		c, err := f.Cluster("ctx-b")
		if err != nil {
			t.Fatal(err)
		}
		g, _ := c.Getter.ToRESTConfig()
		if c.Config.Timeout != want || g.Timeout != want {
			t.Errorf("--request-timeout %q: timeout %v (getter %v), want %v", flag, c.Config.Timeout, g.Timeout, want)
		}
		if c.Config.QPS != 7 || c.Config.Burst != 9 {
			t.Errorf("QPS %v burst %d, want 7 and 9", c.Config.QPS, c.Config.Burst)
		}
	}
}
