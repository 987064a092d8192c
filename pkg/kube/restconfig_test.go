package kube

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"
)

const twoContexts = `apiVersion: v1
kind: Config
clusters:
- name: a
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: ZmFrZS1jYQ==
    tls-server-name: kubernetes
- name: b
  cluster:
    server: https://10.1.2.3:6443
    insecure-skip-tls-verify: true
    proxy-url: http://127.0.0.1:3128
users:
- name: a-admin
  user:
    token: token-a
- name: b-admin
  user:
    username: bob
    password: secret
    as: someone
contexts:
- name: ctx-a
  context: {cluster: a, user: a-admin, namespace: ns-a}
- name: ctx-b
  context: {cluster: b, user: b-admin}
current-context: ctx-a
`

func strp(s string) *string { return &s }

// TestRESTConfigForIsWhatConfigFlagsGives: the config built from the kubeconfig loaded once equals what
// cli-runtime's ConfigFlags builds by loading it again, for every context and the flags that override it.
func TestRESTConfigForIsWhatConfigFlagsGives(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(twoContexts), 0o600); err != nil {
		t.Fatal(err)
	}
	yes := true
	flagSets := map[string]func(f *genericclioptions.ConfigFlags){
		"no flags":   func(f *genericclioptions.ConfigFlags) {},
		"--token":    func(f *genericclioptions.ConfigFlags) { f.BearerToken = strp("other-token") },
		"--server":   func(f *genericclioptions.ConfigFlags) { f.APIServer = strp("https://127.0.0.2:1234") },
		"--insecure": func(f *genericclioptions.ConfigFlags) { f.Insecure = &yes },
		"--as and groups": func(f *genericclioptions.ConfigFlags) {
			f.Impersonate = strp("alice")
			f.ImpersonateGroup = &[]string{"g1", "g2"}
		},
		"--as-user-extra":   func(f *genericclioptions.ConfigFlags) { f.ImpersonateUserExtra = &[]string{"k=v1", "k=v2", "bad"} },
		"--request-timeout": func(f *genericclioptions.ConfigFlags) { f.Timeout = strp("7s") },
		"--tls-server-name": func(f *genericclioptions.ConfigFlags) { f.TLSServerName = strp("example") },
		"--cluster and --user": func(f *genericclioptions.ConfigFlags) {
			f.ClusterName = strp("b")
			f.AuthInfoName = strp("a-admin")
		},
		"--context (the control plane's)": func(f *genericclioptions.ConfigFlags) { f.Context = strp("ctx-b") },
		"WrapConfigFn": func(f *genericclioptions.ConfigFlags) {
			f.WrapConfigFn = func(c *rest.Config) *rest.Config { c.UserAgent = "wrapped"; return c }
		},
	}
	for name, set := range flagSets {
		for _, ctx := range []string{"ctx-a", "ctx-b"} {
			t.Run(name+" "+ctx, func(t *testing.T) {
				flags := genericclioptions.NewConfigFlags(true)
				flags.KubeConfig = strp(path)
				set(flags)
				got, ok := NewFactory(flags).restConfigFor(ctx)
				ref := genericclioptions.NewConfigFlags(false)
				ref.KubeConfig = strp(path)
				set(ref)
				ref.Context = strp(ctx)
				want, err := ref.ToRESTConfig()
				if err != nil {
					// an invalid combination: the fast path steps aside, ConfigFlags says what is wrong
					if ok {
						t.Errorf("the fast path applied where ConfigFlags fails with %v", err)
					}
					return
				}
				if !ok {
					t.Fatal("the fast path did not apply")
				}
				if !reflect.DeepEqual(stripFuncs(got), stripFuncs(want)) {
					t.Errorf("restConfigFor:\n%#v\nConfigFlags:\n%#v", got, want)
				}
			})
		}
	}
}

// stripFuncs clears what DeepEqual cannot compare (functions) after checking both are set or unset alike.
func stripFuncs(c *rest.Config) rest.Config {
	cp := *rest.CopyConfig(c)
	cp.WrapTransport, cp.Dial, cp.Proxy, cp.AuthConfigPersister = nil, nil, nil, nil
	cp.ExecProvider, cp.AuthProvider = nil, nil
	return cp
}

func TestRESTConfigForFallsBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(twoContexts), 0o600); err != nil {
		t.Fatal(err)
	}
	flags := genericclioptions.NewConfigFlags(true)
	flags.KubeConfig = strp(path)
	f := NewFactory(flags)
	for _, ctx := range []string{"", "missing"} {
		if _, ok := f.restConfigFor(ctx); ok {
			t.Errorf("context %q: the fast path applied", ctx)
		}
	}
	flags.Password = strp("x")
	if _, ok := f.restConfigFor("ctx-a"); ok {
		t.Error("--password (an interactive prompt): the fast path applied")
	}
	// Through Cluster, a missing context stays the user's error.
	flags.Password = nil
	if _, err := f.Cluster("missing"); !IsConfigError(err) {
		t.Errorf("Cluster(missing): %v", err)
	}
	c, err := f.Cluster("ctx-b")
	if err != nil || c.Config.Host != "https://10.1.2.3:6443" || c.Config.QPS != 100 || c.Config.Impersonate.UserName != "someone" {
		t.Errorf("Cluster(ctx-b): %v %+v", err, c)
	}
}
