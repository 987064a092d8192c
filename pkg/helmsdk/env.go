package helmsdk

import (
	"os"
	"strconv"

	"helm.sh/helm/v4/pkg/cli"
	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// Env is the part of Helm's environment the plugin honours. When helm runs the binary as a plugin it passes
// its own flags (--kube-context, -n, --kubeconfig, --repository-config, ...) as environment variables; a
// user may also set them for kubectl-skoala directly. Helm's cli.EnvSettings reads them, with Helm's defaults.
type Env struct {
	// PluginMode is true when helm started the binary as a plugin (HELM_PLUGIN_NAME is set).
	PluginMode bool
	// Namespace is HELM_NAMESPACE. Helm always sets it (to "default" when the user gave no -n).
	Namespace string
	// KubeContext is HELM_KUBECONTEXT.
	KubeContext string
	// RepositoryConfig is the path of repositories.yaml.
	RepositoryConfig string
	// RepositoryCache is the directory of the cached repository indexes.
	RepositoryCache string
	// RegistryConfig is the path of the OCI registry config.
	RegistryConfig string
	// Driver is HELM_DRIVER: the release storage driver ("secret" when empty).
	Driver string
	// Debug is HELM_DEBUG.
	Debug bool
	// MaxHistory is HELM_MAX_HISTORY (0 means Helm's default of unlimited for the SDK).
	MaxHistory int

	// The connection settings helm passes to plugins (helm --kube-apiserver, --kube-token, ...), applied
	// by ApplyConnection as helm's own commands apply them.
	KubeAPIServer     string   // HELM_KUBEAPISERVER
	KubeToken         string   // HELM_KUBETOKEN
	KubeAsUser        string   // HELM_KUBEASUSER
	KubeAsGroups      []string // HELM_KUBEASGROUPS (comma-separated)
	KubeCAFile        string   // HELM_KUBECAFILE
	KubeInsecure      bool     // HELM_KUBEINSECURE_SKIP_TLS_VERIFY
	KubeTLSServerName string   // HELM_KUBETLS_SERVER_NAME
	// BurstLimit is HELM_BURST_LIMIT and QPS is HELM_QPS; 0 when unset (the plugin's own rates apply).
	BurstLimit int
	QPS        float32
}

// LoadEnv reads Helm's environment.
func LoadEnv() Env {
	s := cli.New()
	debug, _ := strconv.ParseBool(os.Getenv("HELM_DEBUG"))
	return Env{
		PluginMode:       os.Getenv("HELM_PLUGIN_NAME") != "",
		Namespace:        os.Getenv("HELM_NAMESPACE"),
		KubeContext:      os.Getenv("HELM_KUBECONTEXT"),
		RepositoryConfig: s.RepositoryConfig,
		RepositoryCache:  s.RepositoryCache,
		RegistryConfig:   s.RegistryConfig,
		Driver:           os.Getenv("HELM_DRIVER"),
		Debug:            debug || s.Debug,
		MaxHistory:       s.MaxHistory,

		KubeAPIServer:     s.KubeAPIServer,
		KubeToken:         s.KubeToken,
		KubeAsUser:        s.KubeAsUser,
		KubeAsGroups:      s.KubeAsGroups,
		KubeCAFile:        s.KubeCaFile,
		KubeInsecure:      s.KubeInsecureSkipTLSVerify,
		KubeTLSServerName: s.KubeTLSServerName,
		BurstLimit:        ifSet("HELM_BURST_LIMIT", s.BurstLimit),
		QPS:               ifSet("HELM_QPS", s.QPS),
	}
}

// ifSet is v when the variable is set, else 0 (Helm's defaults are not the plugin's).
func ifSet[T int | float32](name string, v T) T {
	if _, ok := os.LookupEnv(name); !ok {
		return 0
	}
	return v
}

// ApplyConnection sets each kubectl flag of f that the user left empty from helm's connection settings
// (helm --kube-apiserver URL --kube-token T skoala ... reaches URL with T, as helm's own commands do); a
// flag given to the plugin itself wins.
func (e Env) ApplyConnection(f *genericclioptions.ConfigFlags) {
	str := func(p **string, v string) {
		if v != "" && (*p == nil || **p == "") {
			*p = &v
		}
	}
	str(&f.APIServer, e.KubeAPIServer)
	str(&f.BearerToken, e.KubeToken)
	str(&f.Impersonate, e.KubeAsUser)
	str(&f.CAFile, e.KubeCAFile)
	str(&f.TLSServerName, e.KubeTLSServerName)
	if len(e.KubeAsGroups) > 0 && (f.ImpersonateGroup == nil || len(*f.ImpersonateGroup) == 0) {
		g := append([]string(nil), e.KubeAsGroups...)
		f.ImpersonateGroup = &g
	}
	if e.KubeInsecure && (f.Insecure == nil || !*f.Insecure) {
		yes := true
		f.Insecure = &yes
	}
}
