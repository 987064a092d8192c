package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk/helmtest"
)

// MakeHistory gives a release `revisions` revisions in Helm's Secret storage: the first and the last are
// made by real `helm upgrade --install` runs; the ones between are copies of the first revision's record
// (decoded, renumbered, marked superseded, re-encoded as Helm does). Two hundred real helm upgrades take
// about eight minutes on the CI machine; the copies take seconds and Helm reads them as its own (the final
// real upgrade numbers its revision after them).
func MakeHistory(t *testing.T, kubeContext, ns, release, chart, version string, revisions int) {
	t.Helper()
	InstallChart(t, kubeContext, ns, release, chart, version)
	name := fmt.Sprintf("sh.helm.release.v1.%s.v1", release)
	raw := MustKubectl(t, "--context", kubeContext, "-n", ns, "get", "secret", name, "-o", "jsonpath={.data.release}").Stdout
	list, err := helmtest.SupersededCopies(raw, ns, release, revisions)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "history.json")
	if err := os.WriteFile(f, list, 0o600); err != nil {
		t.Fatal(err)
	}
	MustKubectl(t, "--context", kubeContext, "create", "-f", f)
	MustHelm(t, "upgrade", release, "skoala-release/"+chart, "--version", version, "--kube-context", kubeContext, "-n", ns,
		"--history-max", "0", "--reuse-values", "--wait", "--timeout", "3m")
}
