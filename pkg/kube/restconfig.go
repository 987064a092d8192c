package kube

import (
	"strings"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// restConfigFor builds the REST config of a context from the kubeconfig the factory loaded once
// (RawConfig), with the overrides kubectl's flags make. A pinned ConfigFlags per context would read and
// parse the kubeconfig files again for every context: with 21 contexts that was a quarter of a fleet
// status's CPU, spent before the first request. ok is false when this path does not apply (no context name,
// a context the kubeconfig lacks, an interactive password prompt, any error): the caller then asks the
// pinned ConfigFlags, which gives the same config, or the same error, the slow way.
func (f *Factory) restConfigFor(name string) (cfg *rest.Config, ok bool) {
	if name == "" || f.Flags.Password != nil {
		return nil, false
	}
	raw, err := f.RawConfig()
	if err != nil {
		return nil, false
	}
	if _, found := raw.Contexts[name]; !found {
		return nil, false
	}
	overrides := configOverrides(f.Flags)
	overrides.CurrentContext = name
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.DefaultClientConfig = &clientcmd.DefaultClientConfig
	if f.Flags.KubeConfig != nil {
		rules.ExplicitPath = *f.Flags.KubeConfig
	}
	cfg, err = clientcmd.NewNonInteractiveClientConfig(*raw, name, overrides, rules).ClientConfig()
	if err != nil || cfg == nil {
		return nil, false
	}
	if f.Flags.WrapConfigFn != nil {
		cfg = f.Flags.WrapConfigFn(cfg)
	}
	return cfg, true
}

// configOverrides are the kubeconfig overrides of kubectl's flags, as cli-runtime's ConfigFlags makes them
// (toRawKubeConfigLoader), but for the context.
func configOverrides(f *genericclioptions.ConfigFlags) *clientcmd.ConfigOverrides {
	o := &clientcmd.ConfigOverrides{ClusterDefaults: clientcmd.ClusterDefaults}
	if f.CertFile != nil {
		o.AuthInfo.ClientCertificate = *f.CertFile
		o.AuthInfo.ClientCertificateData = nil
	}
	if f.KeyFile != nil {
		o.AuthInfo.ClientKey = *f.KeyFile
		o.AuthInfo.ClientKeyData = nil
	}
	if f.BearerToken != nil {
		o.AuthInfo.Token = *f.BearerToken
		o.AuthInfo.TokenFile = ""
	}
	if f.Impersonate != nil {
		o.AuthInfo.Impersonate = *f.Impersonate
	}
	if f.ImpersonateUserExtra != nil && len(*f.ImpersonateUserExtra) > 0 {
		extras := map[string][]string{}
		for _, e := range *f.ImpersonateUserExtra {
			k, v, found := strings.Cut(e, "=")
			if !found {
				continue
			}
			extras[k] = append(extras[k], v)
		}
		o.AuthInfo.ImpersonateUserExtra = extras
	}
	if f.ImpersonateUID != nil {
		o.AuthInfo.ImpersonateUID = *f.ImpersonateUID
	}
	if f.ImpersonateGroup != nil {
		o.AuthInfo.ImpersonateGroups = *f.ImpersonateGroup
	}
	if f.Username != nil {
		o.AuthInfo.Username = *f.Username
	}
	if f.APIServer != nil {
		o.ClusterInfo.Server = *f.APIServer
	}
	if f.TLSServerName != nil {
		o.ClusterInfo.TLSServerName = *f.TLSServerName
	}
	if f.CAFile != nil {
		o.ClusterInfo.CertificateAuthority = *f.CAFile
	}
	if f.Insecure != nil {
		o.ClusterInfo.InsecureSkipTLSVerify = *f.Insecure
	}
	if f.DisableCompression != nil {
		o.ClusterInfo.DisableCompression = *f.DisableCompression
	}
	if f.ProxyURL != nil {
		o.ClusterInfo.ProxyURL = *f.ProxyURL
	}
	if f.ClusterName != nil {
		o.Context.Cluster = *f.ClusterName
	}
	if f.AuthInfoName != nil {
		o.Context.AuthInfo = *f.AuthInfoName
	}
	if f.Namespace != nil {
		o.Context.Namespace = *f.Namespace
	}
	if f.Timeout != nil {
		o.Timeout = *f.Timeout
	}
	return o
}
