package helmsdk

import (
	"io"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
	kubefake "helm.sh/helm/v3/pkg/kube/fake"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
	"k8s.io/client-go/kubernetes"
)

// NewFakeClient returns a client whose release records are the Secrets of namespace in client, read and
// written by Helm's own Secrets storage driver as on a cluster, and whose Kubernetes operations (apply,
// wait, delete) change nothing (Helm's fake kube client). The packages above pkg/helmsdk run real Helm
// actions with it in their tests over a fake clientset (k8s.io/client-go/kubernetes/fake), without a
// cluster and without importing the Helm SDK.
func NewFakeClient(client kubernetes.Interface, namespace string) *Client {
	d := driver.NewSecrets(client.CoreV1().Secrets(namespace))
	cfg := &action.Configuration{
		Releases:     storage.Init(d),
		KubeClient:   &kubefake.PrintingKubeClient{Out: io.Discard, LogOutput: io.Discard},
		Capabilities: chartutil.DefaultCapabilities,
		Log:          func(string, ...any) {},
	}
	return &Client{Namespace: namespace, cfg: cfg, driver: "secret"}
}
