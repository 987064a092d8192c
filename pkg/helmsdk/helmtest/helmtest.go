// Package helmtest builds Helm release records for unit tests of the packages above pkg/helmsdk, which
// must not import the Helm SDK themselves.
package helmtest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	rspb "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// Spec describes a release revision.
type Spec struct {
	Name, Namespace string
	Revision        int
	Status          string
	Chart, Version  string
	AppVersion      string
	Values          map[string]any
	ChartValues     map[string]any
	Manifest        string
	Deployed        time.Time
	Description     string
}

// Encode returns the record as Helm stores it (base64 of gzipped JSON): Secret's data.release.
func Encode(s Spec) []byte {
	return Secret(s).Data["release"]
}

func raw(s Spec) *rspb.Release {
	if s.AppVersion == "" {
		s.AppVersion = s.Version
	}
	if s.Deployed.IsZero() {
		s.Deployed = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	}
	return &rspb.Release{
		Name:      s.Name,
		Namespace: s.Namespace,
		Version:   s.Revision,
		Config:    s.Values,
		Manifest:  s.Manifest,
		Info: &rspb.Info{
			FirstDeployed: s.Deployed,
			LastDeployed:  s.Deployed,
			Status:        rcommon.Status(s.Status),
			Description:   s.Description,
		},
		Chart: &chart.Chart{
			Metadata: &chart.Metadata{Name: s.Chart, Version: s.Version, AppVersion: s.AppVersion, APIVersion: "v2"},
			Values:   s.ChartValues,
		},
	}
}

// Secret returns the release record as Helm's Secret storage driver writes it: it is written by that
// driver, over a fake clientset.
func Secret(s Spec) *corev1.Secret {
	secrets := fake.NewSimpleClientset().CoreV1().Secrets(s.Namespace)
	key := fmt.Sprintf("sh.helm.release.v1.%s.v%d", s.Name, s.Revision)
	if err := driver.NewSecrets(secrets).Create(key, raw(s)); err != nil {
		panic(err) // only a release Helm cannot encode, which raw does not build
	}
	sec, err := secrets.Get(context.Background(), key, metav1.GetOptions{})
	if err != nil {
		panic(err)
	}
	delete(sec.Labels, "createdAt") // the time of the test run: fixtures stay the same from run to run
	return sec
}

// SupersededCopies turns the record of a release's first revision into a Kubernetes List (JSON) of the
// Secrets of revisions 2 to revisions-1: copies of it, renumbered and marked superseded, encoded as Helm
// encodes them. record is the Secret's data.release as `kubectl get -o jsonpath={.data.release}` prints it
// (base64 of Helm's base64 of gzipped JSON). Helm reads the copies as its own: e2e tests and the benchmark
// make long histories with them in seconds instead of hundreds of real upgrades.
func SupersededCopies(record, ns, name string, revisions int) ([]byte, error) {
	helmB64, err := base64.StdEncoding.DecodeString(record)
	if err != nil {
		return nil, err
	}
	gz, err := base64.StdEncoding.DecodeString(string(helmB64))
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	js, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	var rel map[string]any
	if err := json.Unmarshal(js, &rel); err != nil {
		return nil, err
	}
	info, ok := rel["info"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("release record of %s has no info", name)
	}
	var docs []string
	for i := 2; i < revisions; i++ {
		rel["version"] = i
		info["status"] = "superseded"
		info["description"] = "Upgrade complete"
		b, err := json.Marshal(rel)
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		_, _ = w.Write(b)
		_ = w.Close()
		data := base64.StdEncoding.EncodeToString([]byte(base64.StdEncoding.EncodeToString(buf.Bytes())))
		docs = append(docs, fmt.Sprintf(`{"apiVersion":"v1","kind":"Secret","type":"helm.sh/release.v1","metadata":{"name":"sh.helm.release.v1.%s.v%d","namespace":%q,"labels":{"owner":"helm","name":%q,"status":"superseded","version":"%d"}},"data":{"release":%q}}`,
			name, i, ns, name, i, data))
	}
	return []byte(`{"apiVersion":"v1","kind":"List","items":[` + strings.Join(docs, ",") + `]}`), nil
}
