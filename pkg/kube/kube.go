// Package kube builds Kubernetes clients for the contexts of a kubeconfig from kubectl's standard flags
// (k8s.io/cli-runtime ConfigFlags), one client and one transport per cluster, and explains API errors in one
// line with a hint.
package kube

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	_ "k8s.io/client-go/plugin/pkg/client/auth" // exec, oidc, ... credential plugins, as kubectl has
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/transport"
)

// Cluster is one kubeconfig context with its clients.
type Cluster struct {
	// Context is the kubeconfig context name.
	Context string
	// Getter builds further clients (Helm's action.Configuration takes it); its context is pinned.
	Getter genericclioptions.RESTClientGetter
	// Config is the REST config of the context (with the request timeout and rates set).
	Config *rest.Config
	// Client is the typed clientset.
	Client kubernetes.Interface
	// Dynamic, when set, reads custom resources (tests set a fake; else one is built from Config).
	Dynamic dynamic.Interface
}

// WrapTransport, when set, wraps every cluster's HTTP transport (request counting for benchmarks).
var WrapTransport func(context string) transport.WrapperFunc

// DefaultRequestTimeout bounds every single API request when --request-timeout is not given: a server
// that accepts connections and never answers (a black hole) cannot hold a verb forever.
const DefaultRequestTimeout = 30 * time.Second

// Factory creates Clusters from the user's kubeconfig flags.
type Factory struct {
	Flags *genericclioptions.ConfigFlags
	// DefaultContext is used when --context was not given (helm passes HELM_KUBECONTEXT).
	DefaultContext string
	// QPS and Burst, when above 0, are the client-side rate limits of every cluster (helm passes
	// HELM_QPS and HELM_BURST_LIMIT); else 100 and 200.
	QPS   float32
	Burst int

	mu       sync.Mutex
	raw      *clientcmdapi.Config
	rawErr   error
	clusters map[string]*Cluster
}

// NewFactory returns a factory over flags.
func NewFactory(flags *genericclioptions.ConfigFlags) *Factory {
	return &Factory{Flags: flags, clusters: map[string]*Cluster{}}
}

// RawConfig loads the merged kubeconfig once.
func (f *Factory) RawConfig() (*clientcmdapi.Config, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.raw == nil && f.rawErr == nil {
		cfg, err := f.Flags.ToRawKubeConfigLoader().RawConfig()
		if err != nil {
			f.rawErr = &ConfigError{Err: err}
		} else {
			f.raw = &cfg
		}
	}
	return f.raw, f.rawErr
}

// CurrentContext is --context, else the helm-provided default, else the kubeconfig's current-context.
func (f *Factory) CurrentContext() (string, error) {
	if f.Flags.Context != nil && *f.Flags.Context != "" {
		return *f.Flags.Context, nil
	}
	if f.DefaultContext != "" {
		return f.DefaultContext, nil
	}
	raw, err := f.RawConfig()
	if err != nil {
		return "", err
	}
	if raw.CurrentContext == "" {
		if f.Flags.APIServer != nil && *f.Flags.APIServer != "" {
			return "", nil // --server without a kubeconfig context
		}
		return "", &ConfigError{Err: fmt.Errorf("no current context in the kubeconfig")}
	}
	return raw.CurrentContext, nil
}

// Contexts lists the kubeconfig's context names, sorted.
func (f *Factory) Contexts() ([]string, error) {
	raw, err := f.RawConfig()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(raw.Contexts))
	for name := range raw.Contexts {
		out = append(out, name)
	}
	sort.Strings(out)
	return out, nil
}

// Cluster returns the clients for a context, building them once.
func (f *Factory) Cluster(name string) (*Cluster, error) {
	f.mu.Lock()
	if c, ok := f.clusters[name]; ok {
		f.mu.Unlock()
		return c, nil
	}
	f.mu.Unlock()
	if name != "" {
		raw, err := f.RawConfig()
		if err != nil {
			return nil, err
		}
		if _, ok := raw.Contexts[name]; !ok {
			return nil, &UnknownContextError{Context: name}
		}
	}
	loader := f.loader(name)
	cfg, ok := f.restConfigFor(name) // from the kubeconfig loaded once (restconfig.go)
	if !ok {
		var err error
		if cfg, err = loader.ClientConfig(); err != nil {
			return nil, &ConfigError{Context: name, Err: err}
		}
		if f.Flags.WrapConfigFn != nil {
			cfg = f.Flags.WrapConfigFn(cfg)
		}
	}
	c, err := f.finish(name, cfg, loader)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if prev, ok := f.clusters[name]; ok {
		// Built twice at once (a speculative read beside discovery): one client per context, so that
		// both share its connections.
		return prev, nil
	}
	f.clusters[name] = c
	return c, nil
}

// FromKubeconfig builds the clients of a kubeconfig held in memory (the kpanda API's), with the same rates,
// deadline and transport wrapper as a context's; name is what the cluster is called in the reports. The
// kubeconfig is never written anywhere, and an error never holds it.
func (f *Factory) FromKubeconfig(name string, kubeconfig []byte) (*Cluster, error) {
	loader, err := clientcmd.NewClientConfigFromBytes(kubeconfig)
	if err != nil {
		return nil, &ConfigError{Context: name, Err: fmt.Errorf("the kubeconfig cannot be parsed")}
	}
	cfg, err := loader.ClientConfig()
	if err != nil {
		return nil, &ConfigError{Context: name, Err: fmt.Errorf("the kubeconfig cannot be used")}
	}
	return f.finish(name, cfg, loader)
}

// finish tunes a cluster's REST config and builds its clients.
func (f *Factory) finish(name string, cfg *rest.Config, loader clientcmd.ClientConfig) (*Cluster, error) {
	cfg = rest.CopyConfig(cfg)
	// One client per cluster, no client-side throttling worth the name: the plugin makes few requests,
	// and the default 5 QPS turns a concurrent doctor into a queue. HELM_QPS and HELM_BURST_LIMIT
	// (QPS, Burst) override it, as they do for helm's own commands.
	cfg.QPS, cfg.Burst = 100, 200
	if f.QPS > 0 {
		cfg.QPS = f.QPS
	}
	if f.Burst > 0 {
		cfg.Burst = f.Burst
	}
	// Every request has a deadline: --request-timeout when given, else DefaultRequestTimeout (kubectl's
	// default "0", no deadline, included: a verb must end on a server that never answers).
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultRequestTimeout
	}
	cfg.UserAgent = "kubectl-skoala"
	if WrapTransport != nil {
		cfg.Wrap(WrapTransport(name))
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, &ConfigError{Context: name, Err: err}
	}
	return &Cluster{Context: name, Getter: &restGetter{cfg: cfg, loader: loader}, Config: cfg, Client: client}, nil
}

// RequestTimeout returns the --request-timeout given, or 0.
func (f *Factory) RequestTimeout() time.Duration {
	if f.Flags.Timeout == nil || *f.Flags.Timeout == "" || *f.Flags.Timeout == "0" {
		return 0
	}
	d, err := time.ParseDuration(*f.Flags.Timeout)
	if err != nil {
		return 0
	}
	return d
}

// ForEach runs fn for every item concurrently, at most limit at a time, each with its own timeout, and
// waits for all. fn must record its own results; ForEach never fails as a whole.
func ForEach[T any](ctx context.Context, items []T, limit int, timeout time.Duration, fn func(ctx context.Context, i int, item T)) {
	if limit <= 0 {
		limit = 16
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i, it := range items {
		wg.Add(1)
		go func(i int, it T) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			cctx := ctx
			if timeout > 0 {
				var cancel context.CancelFunc
				cctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			fn(cctx, i, it)
		}(i, it)
	}
	wg.Wait()
}

// IsConfigError reports whether err is a kubeconfig problem (not a cluster problem).
func IsConfigError(err error) bool {
	switch err.(type) {
	case *ConfigError, *UnknownContextError:
		return true
	}
	return false
}
