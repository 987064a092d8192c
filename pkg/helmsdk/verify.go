package helmsdk

// What 'verify' (pkg/verify) and upgrade's size prediction need of Helm: the size of a release record as
// Helm's storage writes it, and the CRD files of the chart a release keeps. Kept in one file so that the
// move to the Helm 4 SDK ports it alone.

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/provenance"
	repo "helm.sh/helm/v4/pkg/repo/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// RecordLimit is the largest release record the API server stores: a Secret's (or ConfigMap's) data is at
// most 1 MiB.
const RecordLimit = 1 << 20

// RecordWarnPercent is the share of RecordLimit from which a release record is a warning: the record
// verify reads and the one upgrade predicts (issue 23).
const RecordWarnPercent = 90

// Record is the storage object of one release revision and its size.
type Record struct {
	// Object is "secret/<name>" or "configmap/<name>".
	Object   string `json:"object"`
	Revision int    `json:"revision"`
	// Bytes is the size of the object's data, what the API server holds against RecordLimit.
	Bytes int `json:"bytes"`
}

// NewestRecord finds the newest revision's record of a release (any status) and its size.
func NewestRecord(ctx context.Context, client kubernetes.Interface, namespace, name, driver string) (*Record, error) {
	drv, err := NormalizeDriver(driver)
	if err != nil {
		return nil, err
	}
	opts := metav1.ListOptions{LabelSelector: "owner=helm,name=" + name}
	var out *Record
	consider := func(object string, labels map[string]string, size int) {
		rev, _ := strconv.Atoi(labels["version"])
		if out == nil || rev > out.Revision {
			out = &Record{Object: object, Revision: rev, Bytes: size}
		}
	}
	if drv == DriverSecret {
		list, err := client.CoreV1().Secrets(namespace).List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("listing release secrets of %q: %w", name, err)
		}
		for i := range list.Items {
			s := &list.Items[i]
			n := 0
			for k, v := range s.Data {
				n += len(k) + len(v)
			}
			consider("secret/"+s.Name, s.Labels, n)
		}
	} else {
		list, err := client.CoreV1().ConfigMaps(namespace).List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("listing release configmaps of %q: %w", name, err)
		}
		for i := range list.Items {
			c := &list.Items[i]
			n := 0
			for k, v := range c.Data {
				n += len(k) + len(v)
			}
			consider("configmap/"+c.Name, c.Labels, n)
		}
	}
	if out == nil {
		return nil, &NotFoundError{Name: name, Namespace: namespace}
	}
	return out, nil
}

// RecordSize is the size the record of r would have in storage: Helm's encoding (JSON, gzip, base64)
// under the key "release". It predicts the record of a dry-run upgrade's release.
func (r *Release) RecordSize() (int, error) {
	if r == nil || r.raw == nil {
		return 0, fmt.Errorf("no release to measure")
	}
	b, err := json.Marshal(r.raw)
	if err != nil {
		return 0, err
	}
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := w.Write(b); err != nil {
		return 0, err
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	return len("release") + base64.StdEncoding.EncodedLen(buf.Len()), nil
}

// StoredCRDFiles lists the crds/ files of the chart the release keeps, sorted by path. Helm keeps the
// root chart only, without its subcharts: the CRDs of subcharts are in the chart archive (Chart.CRDFiles).
func (r *Release) StoredCRDFiles() []CRDFile {
	if r == nil || r.raw == nil || r.raw.Chart == nil {
		return nil
	}
	var out []CRDFile
	for _, f := range r.raw.Chart.Files {
		if f != nil && strings.HasPrefix(f.Name, "crds/") {
			out = append(out, CRDFile{Path: f.Name, Data: f.Data})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// ProvenanceResult is what the verification of a chart archive's .prov file found.
type ProvenanceResult struct {
	// Signed is false when the repository has no .prov file for the archive.
	Signed bool
	// SignedBy is the signer's identity, FileHash the archive's digest (both when verified).
	SignedBy string
	FileHash string
	// Error says why the verification failed ("" when it passed).
	Error string
}

// VerifyProvenance downloads a chart version's archive and its .prov file from the skoala repository (want:
// as --repo) and verifies them with the public keyring, with Helm's own verification ('helm verify'): the
// signature, then the archive's digest. A missing .prov file is Signed false, not an error; an error is
// returned when the check could not be made (no repository, no such version, an unreadable keyring).
func VerifyProvenance(ctx context.Context, env Env, want, chart, version, keyring string, timeout time.Duration) (*ProvenanceResult, error) {
	if IsOCI(want) {
		return nil, fmt.Errorf("provenance of charts in an OCI registry is not verified")
	}
	signer, err := provenance.NewFromKeyring(keyring, "")
	if err != nil {
		return nil, fmt.Errorf("reading keyring %s: %w", keyring, err)
	}
	repos, err := LoadRepositories(env.RepositoryConfig, env.RepositoryCache)
	if err != nil {
		return nil, err
	}
	r, err := FindRepository(repos, want)
	if err != nil {
		return nil, fmt.Errorf("%w in %s", err, env.RepositoryConfig)
	}
	idx, err := LoadIndex(r.IndexPath)
	if err != nil {
		return nil, err
	}
	var cv *ChartVersion
	for _, v := range idx.Versions(chart) {
		if v.Version == version && len(v.URLs) > 0 {
			v := v
			cv = &v
		}
	}
	if cv == nil {
		return nil, fmt.Errorf("repository %s has no %s %s", r.Name, chart, version)
	}
	u, err := repo.ResolveReferenceURL(r.entry.URL, cv.URLs[0])
	if err != nil {
		return nil, fmt.Errorf("resolving the URL of %s %s: %w", chart, version, err)
	}
	prov, err := r.download(ctx, u+".prov", timeout)
	if err != nil {
		if strings.Contains(err.Error(), "404") {
			return &ProvenanceResult{}, nil
		}
		return nil, err
	}
	archive, err := r.download(ctx, u, timeout)
	if err != nil {
		return nil, err
	}
	base := path.Base(u)
	if i := strings.IndexAny(base, "?#"); i >= 0 {
		base = base[:i]
	}
	out := &ProvenanceResult{Signed: true}
	v, err := signer.Verify(archive.Bytes(), prov.Bytes(), base)
	if err != nil {
		out.Error = err.Error()
		return out, nil
	}
	out.FileHash = strings.TrimPrefix(v.FileHash, "sha256:")
	if v.SignedBy != nil {
		for id := range v.SignedBy.Identities {
			if out.SignedBy == "" || id < out.SignedBy {
				out.SignedBy = id
			}
		}
	}
	return out, nil
}
