package cmd

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	authv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/golden"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk/helmtest"
	"github.com/skoala-dev/kubectl-skoala/pkg/images/imagestest"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

// manifestOfComponents is the manifest the test charts (testdata/charts) render for components at tag.
func manifestOfComponents(chart, tag string, components ...string) string {
	var out string
	for _, c := range components {
		out += "---\n# Source: " + chart + "/templates/deployments.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " + c +
			"\nspec:\n  replicas: 0\n  selector:\n    matchLabels: {app: " + c + "}\n  template:\n    metadata:\n      labels: {app: " + c +
			"}\n    spec:\n      containers:\n      - name: " + c + "\n        image: release.daocloud.io/skoala/" + c + ":" + tag + "\n"
	}
	return out
}

// chartRelease is revision 1 of a release of a test chart at version, deployed, every component at its tag.
func chartRelease(name, chart, version string, components ...string) *kube.Cluster {
	values := map[string]any{}
	for _, c := range components {
		values[c] = map[string]any{"image": map[string]any{"tag": "v" + version}}
	}
	c := cluster(name, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		helmtest.Secret(helmtest.Spec{Name: chart, Namespace: ns, Revision: 1, Status: "deployed", Chart: chart, Version: version,
			Values: values, Manifest: manifestOfComponents(chart, "v"+version, components...)}))
	allowAll(c.Client.(*fake.Clientset))
	return c
}

// allowAll answers every SelfSubjectRulesReview and SelfSubjectAccessReview with "allowed", so that the
// pre-upgrade checks over the fakes do not depend on which denied permission doctor meets first.
func allowAll(c *fake.Clientset) {
	c.PrependReactor("create", "selfsubjectrulesreviews", func(a k8stesting.Action) (bool, k8sruntime.Object, error) {
		rev := a.(k8stesting.CreateAction).GetObject().(*authv1.SelfSubjectRulesReview)
		rev.Status.ResourceRules = []authv1.ResourceRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}}
		return true, rev, nil
	})
	c.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, k8sruntime.Object, error) {
		rev := a.(k8stesting.CreateAction).GetObject().(*authv1.SelfSubjectAccessReview)
		rev.Status.Allowed = true
		return true, rev, nil
	})
}

// chartFleet is a control plane and a workspace at 0.57.1, of the test charts of testdata/charts.
func chartFleet() *fakeClusters {
	return &fakeClusters{current: "global", clusters: map[string]*kube.Cluster{
		"global":      chartRelease("global", "skoala", "0.57.1", "hive", "sesame"),
		"workspace-1": chartRelease("workspace-1", "skoala-init", "0.57.1", "skoala-agent", "nacos-operator", "sentinel-operator", "seata-operator"),
	}}
}

var testCharts = []string{"--chart", "testdata/charts/skoala", "--chart", "testdata/charts/skoala-init"}

func TestUpgradeVerb(t *testing.T) {
	args := func(a ...string) []string {
		return append(append([]string{"upgrade", "-w", "workspace-1", "--backup-dir", "/backups"}, testCharts...), a...)
	}
	var cases []cmdTestCase
	for _, o := range []string{"table", "json", "yaml"} {
		cases = append(cases, cmdTestCase{name: "upgrade --dry-run -o " + o, args: args("--dry-run", "-o", o), golden: "upgrade-dry-run-" + o, clusters: chartFleet()})
	}
	cases = append(cases,
		cmdTestCase{name: "upgrade without a terminal and without --yes changes nothing (--force: past the checks the fakes fail)", args: args("--force"), golden: "upgrade-no-terminal", code: 1, clusters: chartFleet()},
	)
	runCmdTests(t, cases)
}

func TestImagesVerb(t *testing.T) {
	var cases []cmdTestCase
	for _, o := range []string{"table", "json", "yaml"} {
		cases = append(cases, cmdTestCase{name: "images list --chart -o " + o, golden: "images-list-" + o, clusters: chartFleet(),
			args: append([]string{"images", "list", "-w", "workspace-1", "--image-registry", "registry.site:5000", "-o", o}, testCharts...)})
	}
	cases = append(cases, cmdTestCase{name: "images list of a workspace chart for the control plane alone: no release uses it, exit 1 with a hint",
		golden: "images-list-no-release", code: 1, clusters: chartFleet(), args: []string{"images", "list", "--chart", "testdata/charts/skoala-init"}})
	// images check over go-containerregistry's in-memory registry (plain HTTP): every image of the fleet
	// but seata-operator's is there. (The address masked is 127.0.0.1 and an ephemeral port, always of five
	// digits on Linux: the table's columns stay where the golden has them.)
	host := testRegistry(t, "hive", "sesame", "skoala-agent", "nacos-operator", "sentinel-operator")
	mask := map[string]string{host: "$REGISTRY"}
	checkArgs := func(o string) []string {
		return append([]string{"images", "check", "-w", "workspace-1", "--image-registry", host, "--plain-http", "-o", o}, testCharts...)
	}
	for _, o := range []string{"table", "json", "yaml"} {
		cases = append(cases, cmdTestCase{name: "images check -o " + o + ": a missing image exits 3", golden: "images-check-" + o, code: 3, clusters: chartFleet(), mask: mask, args: checkArgs(o)})
	}
	runCmdTests(t, cases)
}

// TestUpgradeBundleRefusal: upgrade --bundle refuses (exit 3, nothing changed) when the registry lacks an
// image of the bundle's chart, and prints the check's report in the -o format: the missing images are in
// the JSON and YAML too (it was a table whatever -o said).
func TestUpgradeBundleRefusal(t *testing.T) {
	host, caFile := emptyTLSRegistry(t)
	files, err := imagestest.ChartDirFiles("testdata/charts/skoala", "0.57.2")
	if err != nil {
		t.Fatal(err)
	}
	// The command runs in the bundle's folder and names it relatively: the fix command in the output is then
	// as long on every run (YAML folds long lines). The goldens are read from the package's folder.
	pkgDir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	bundleDir := t.TempDir()
	const bundle = "skoala_0.57.2.bundle.tar"
	if err := imagestest.WriteBundle(filepath.Join(bundleDir, bundle), []string{"release.daocloud.io/skoala/hive:v0.57.2"}, files, "s390x", "r22", 16); err != nil {
		t.Fatal(err)
	}
	for _, o := range []string{"table", "json", "yaml"} {
		t.Run("upgrade --bundle -o "+o+": a missing image exits 3, its report in that format", func(t *testing.T) {
			t.Chdir(bundleDir)
			stdout, stderr, code := runCmd(t, context.Background(), cmdTestCase{clusters: chartFleet(), mask: map[string]string{host: "$REGISTRY"},
				args: []string{"upgrade", "-w", "workspace-1", "--backup-dir", "/backups", "--bundle", bundle, "--image-registry", host,
					"--registry-ca-file", caFile, "-o", o}})
			if err := os.Chdir(pkgDir); err != nil {
				t.Fatal(err)
			}
			if code != 3 {
				t.Errorf("exit code %d, want 3\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			golden.Assert(t, "upgrade-bundle-missing-"+o+".out", []byte(stdout))
			golden.Assert(t, "upgrade-bundle-missing-"+o+".err", []byte(stderr))
		})
	}
}

// emptyTLSRegistry serves go-containerregistry's in-memory registry, empty, over TLS on loopback, and returns
// its host:port and the file of its CA (upgrade has no --plain-http).
func emptyTLSRegistry(t *testing.T) (string, string) {
	t.Helper()
	srv := httptest.NewTLSServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(srv.URL, "https://"), caFile
}

// testRegistry serves go-containerregistry's in-memory registry on loopback with an image at
// <host>/skoala/<component>:v0.57.2 for each component, and returns its host:port.
func testRegistry(t *testing.T, components ...string) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, c := range components {
		// An empty linux/s390x image (the fake clusters' platform, not the host's, which runCmd masks): its digest
		// is the same on every run, for the goldens.
		img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{Architecture: "s390x", OS: "linux", RootFS: v1.RootFS{Type: "layers"}})
		if err != nil {
			t.Fatal(err)
		}
		ref, err := name.ParseReference(host+"/skoala/"+c+":v0.57.2", name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(ref, img); err != nil {
			t.Fatal(err)
		}
	}
	return host
}
