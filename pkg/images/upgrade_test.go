package images

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk/helmtest"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

type fakeClusters map[string]*kube.Cluster

func (f fakeClusters) Cluster(name string) (*kube.Cluster, error) {
	if c, ok := f[name]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("no context %s", name)
}

func fakeCluster(name, arch string, rel helmtest.Spec) *kube.Cluster {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Status: corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{Architecture: arch}}}
	return &kube.Cluster{Context: name, Client: fake.NewSimpleClientset(node, helmtest.Secret(rel))}
}

// upgradeFromBundles is what 'upgrade --bundle' does with the bundles: extract, then check.
func upgradeFromBundles(ctx context.Context, in BundleUpgrade) ([]string, *CheckReport, error) {
	off, err := ExtractBundles(in)
	if err != nil {
		return nil, nil, err
	}
	rep, err := off.Check(ctx, in)
	return off.Paths, rep, err
}

func TestUpgradeFromBundles(t *testing.T) {
	host, opts := testRegistry(t)
	ctx := context.Background()
	dir := t.TempDir()
	sk := makeBundle(t, filepath.Join(dir, "b"), "skoala", "0.57.2", "amd64", "")
	ini := makeBundle(t, filepath.Join(dir, "b"), "skoala-init", "0.57.2", "amd64", "")
	clusters := fakeClusters{
		"global":      fakeCluster("global", "amd64", helmtest.Spec{Name: "skoala", Namespace: "skoala-system", Revision: 1, Status: "deployed", Chart: "skoala", Version: "0.57.0"}),
		"workspace-1": fakeCluster("workspace-1", "arm64", helmtest.Spec{Name: "skoala-init", Namespace: "skoala-system", Revision: 1, Status: "deployed", Chart: "skoala-init", Version: "0.57.0"}),
	}
	in := BundleUpgrade{Bundles: []string{sk, ini}, ImageRegistry: host + "/site", Options: opts, Tool: "kubectl skoala", Dir: t.TempDir(),
		Fleet: FleetConfig{Clusters: clusters, Namespace: "skoala-system", Targets: fleet.Of("global", "workspace-1")}}
	t.Run("refuses while the registry lacks the images, naming them and the push", func(t *testing.T) {
		_, rep, err := upgradeFromBundles(ctx, in)
		var me *MissingImagesError
		if !errors.As(err, &me) || rep.OK() {
			t.Fatalf("err %v", err)
		}
		if !strings.Contains(err.Error(), host+"/site/skoala/hive:v0.57.2 (missing)") || !strings.Contains(me.Hint(), "images push --bundle "+sk+" --registry "+host+"/site") {
			t.Fatalf("message %q hint %q", err, me.Hint())
		}
		if strings.Join(rep.Architectures, ",") != "amd64,arm64" {
			t.Errorf("architectures %v", rep.Architectures)
		}
	})
	t.Run("given the releases the plan read, the check reads no release again (issue 22: one read of the fleet)", func(t *testing.T) {
		for _, c := range clusters {
			c.Client.(*fake.Clientset).ClearActions()
		}
		off, err := ExtractBundles(in)
		if err != nil {
			t.Fatal(err)
		}
		given := in
		given.Releases = []ReleaseValues{{Context: "global", Role: "control-plane", Release: "skoala", Namespace: "skoala-system", Chart: "skoala", Installed: "0.57.0"},
			{Context: "workspace-1", Role: "workspace", Release: "skoala-init", Namespace: "skoala-system", Chart: "skoala-init", Installed: "0.57.0"}}
		rep, err := off.Check(ctx, given)
		var me *MissingImagesError
		if !errors.As(err, &me) || strings.Join(rep.Architectures, ",") != "amd64,arm64" || !strings.Contains(err.Error(), host+"/site/skoala/hive:v0.57.2 (missing)") {
			t.Fatalf("err %v report %+v", err, rep)
		}
		for name, c := range clusters {
			for _, a := range c.Client.(*fake.Clientset).Actions() {
				if a.GetResource().Resource == "secrets" {
					t.Errorf("%s: the check read the releases again (%s secrets)", name, a.GetVerb())
				}
			}
		}
	})
	t.Run("an amd64-only push still lacks the arm64 images of the workspace", func(t *testing.T) {
		if _, err := Push(ctx, PushConfig{Bundles: openBundles(t, sk, ini), Registry: host + "/site", Options: opts}); err != nil {
			t.Fatal(err)
		}
		_, rep, err := upgradeFromBundles(ctx, in)
		var me *MissingImagesError
		if !errors.As(err, &me) || !strings.Contains(err.Error(), "(missing-platform)") {
			t.Fatalf("err %v report %+v", err, rep)
		}
	})
	t.Run("with both platforms pushed it returns the original-chart folders", func(t *testing.T) {
		arm := makeBundle(t, filepath.Join(dir, "arm"), "skoala", "0.57.2", "arm64", "")
		armInit := makeBundle(t, filepath.Join(dir, "arm"), "skoala-init", "0.57.2", "arm64", "")
		if _, err := Push(ctx, PushConfig{Bundles: openBundles(t, sk, ini, arm, armInit), Registry: host + "/site", Options: opts, Overwrite: true}); err != nil {
			t.Fatal(err)
		}
		paths, rep, err := upgradeFromBundles(ctx, in)
		if err != nil || !rep.OK() || len(paths) != 2 {
			t.Fatalf("paths %v err %v", paths, err)
		}
		if _, err := os.Stat(filepath.Join(paths[0], "Chart.yaml")); err != nil {
			t.Error(err)
		}
	})
}
