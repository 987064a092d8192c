package kube

import (
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
)

// restGetter is the RESTClientGetter Helm's action.Configuration takes for one cluster, built from the
// tuned REST config of the cluster: every client it hands out (Helm's typed clients, its discovery and
// its REST mapper) sees every kubectl flag (--proxy-url, --as-user-extra, --request-timeout and the
// default deadline included), the rates and the transport wrapper, because they all come from that one
// config. Its kubeconfig loader applies the same flags, for the namespace and the raw config.
type restGetter struct {
	cfg    *rest.Config
	loader clientcmd.ClientConfig

	once   sync.Once
	disc   discovery.CachedDiscoveryInterface
	mapper meta.RESTMapper
	err    error
}

func (g *restGetter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.cfg), nil }

func (g *restGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig { return g.loader }

func (g *restGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	g.build()
	return g.disc, g.err
}

func (g *restGetter) ToRESTMapper() (meta.RESTMapper, error) {
	g.build()
	return g.mapper, g.err
}

// build makes the discovery client (in memory: the plugin asks each cluster once per run) and the REST
// mapper over it, as cli-runtime's ConfigFlags does, with discovery's larger burst.
func (g *restGetter) build() {
	g.once.Do(func() {
		cfg := rest.CopyConfig(g.cfg)
		cfg.Burst = max(cfg.Burst, 300)
		dc, err := discovery.NewDiscoveryClientForConfig(cfg)
		if err != nil {
			g.err = &ConfigError{Err: err}
			return
		}
		g.disc = memory.NewMemCacheClient(dc)
		g.mapper = restmapper.NewShortcutExpander(restmapper.NewDeferredDiscoveryRESTMapper(g.disc), g.disc, nil)
	})
}

// loader is the kubeconfig loader of a context with every kubectl flag applied (what ConfigFlags'
// ToRawKubeConfigLoader gives, for the context name; "" keeps --context or the current context).
func (f *Factory) loader(name string) clientcmd.ClientConfig {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.DefaultClientConfig = &clientcmd.DefaultClientConfig
	if f.Flags.KubeConfig != nil {
		rules.ExplicitPath = *f.Flags.KubeConfig
	}
	o := configOverrides(f.Flags)
	if f.Flags.Password != nil {
		o.AuthInfo.Password = *f.Flags.Password
	}
	switch {
	case name != "":
		o.CurrentContext = name
	case f.Flags.Context != nil:
		o.CurrentContext = *f.Flags.Context
	}
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, o)
}
