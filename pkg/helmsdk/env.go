package helmsdk

import (
	"os"
	"strconv"

	"helm.sh/helm/v3/pkg/cli"
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
	}
}
