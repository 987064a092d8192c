package helmsdk

import (
	"io"
	"log/slog"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	helmkube "helm.sh/helm/v4/pkg/kube"
	kubefake "helm.sh/helm/v4/pkg/kube/fake"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/client-go/kubernetes"
)

// NewFakeClient returns a client whose release records are the Secrets of namespace in client, read and
// written by Helm's own Secrets storage driver as on a cluster, and whose Kubernetes operations (apply,
// wait, delete) change nothing (Helm's fake kube client). The packages above pkg/helmsdk run real Helm
// actions with it in their tests over a fake clientset (k8s.io/client-go/kubernetes/fake), without a
// cluster and without importing the Helm SDK.
func NewFakeClient(client kubernetes.Interface, namespace string) *Client {
	return newFakeClient(client, namespace, &kubefake.FailingKubeClient{PrintingKubeClient: kubefake.PrintingKubeClient{Out: io.Discard, LogOutput: io.Discard}})
}

// newFakeClient is NewFakeClient over the given fake kube client (its tests read what it recorded).
func newFakeClient(client kubernetes.Interface, namespace string, kc helmkube.Interface) *Client {
	d := driver.NewSecrets(client.CoreV1().Secrets(namespace))
	d.SetLogger(slog.DiscardHandler)
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(slog.DiscardHandler))
	cfg.Releases = storage.Init(d)
	cfg.KubeClient = kc
	cfg.Capabilities = common.DefaultCapabilities
	return &Client{Namespace: namespace, cfg: cfg, driver: "secret"}
}
