package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	// The Secret's data is base64 (Kubernetes) of base64 (Helm) of gzip of JSON.
	helmB64, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		t.Fatal(err)
	}
	gz, err := base64.StdEncoding.DecodeString(string(helmB64))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	js, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var rel map[string]any
	if err := json.Unmarshal(js, &rel); err != nil {
		t.Fatal(err)
	}
	var docs []string
	for i := 2; i < revisions; i++ {
		rel["version"] = i
		info := rel["info"].(map[string]any)
		info["status"] = "superseded"
		info["description"] = "Upgrade complete"
		b, _ := json.Marshal(rel)
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		_, _ = w.Write(b)
		_ = w.Close()
		data := base64.StdEncoding.EncodeToString([]byte(base64.StdEncoding.EncodeToString(buf.Bytes())))
		docs = append(docs, fmt.Sprintf(`{"apiVersion":"v1","kind":"Secret","type":"helm.sh/release.v1","metadata":{"name":"sh.helm.release.v1.%s.v%d","namespace":%q,"labels":{"owner":"helm","name":%q,"status":"superseded","version":"%d"}},"data":{"release":%q}}`,
			release, i, ns, release, i, data))
	}
	f := filepath.Join(t.TempDir(), "history.json")
	list := `{"apiVersion":"v1","kind":"List","items":[` + strings.Join(docs, ",") + `]}`
	if err := os.WriteFile(f, []byte(list), 0o600); err != nil {
		t.Fatal(err)
	}
	MustKubectl(t, "--context", kubeContext, "create", "-f", f)
	MustHelm(t, "upgrade", release, "skoala-release/"+chart, "--version", version, "--kube-context", kubeContext, "-n", ns,
		"--history-max", "0", "--reuse-values", "--wait", "--timeout", "3m")
}
