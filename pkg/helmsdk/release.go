package helmsdk

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	rspb "helm.sh/helm/v4/pkg/release/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Release is what kubectl-skoala knows of one revision of a Helm release.
type Release struct {
	Name          string
	Namespace     string
	Revision      int
	Status        string
	Chart         string
	ChartVersion  string
	AppVersion    string
	Description   string
	FirstDeployed time.Time
	LastDeployed  time.Time
	// Manifest is the rendered manifest of the release (YAML documents).
	Manifest string
	// Values are the user-supplied values (what `helm get values` prints).
	Values map[string]any
	// Driver is the storage driver the release was read from ("secret" or "configmap").
	Driver string

	raw *rspb.Release

	objsOnce sync.Once
	objs     []ManifestObject
}

// ComputedValues returns the chart's defaults coalesced with the user-supplied values
// (what `helm get values --all` prints).
func (r *Release) ComputedValues() (map[string]any, error) {
	if r.raw == nil || r.raw.Chart == nil {
		return r.Values, nil
	}
	v, err := chartutil.CoalesceValues(r.raw.Chart, r.raw.Config)
	if err != nil {
		return nil, fmt.Errorf("computing values of release %s: %w", r.Name, err)
	}
	return v.AsMap(), nil
}

// Pending reports whether the release is in one of Helm's pending states, in which Helm refuses a new upgrade.
func (r *Release) Pending() bool { return strings.HasPrefix(r.Status, "pending-") }

// ManifestObject is one object of a release manifest.
type ManifestObject struct {
	APIVersion string
	Kind       string
	Name       string
	Namespace  string
	// Containers are the images of a workload's pod template, by container name (workloads only).
	Containers []Container
}

// Container is a container of a workload's pod template.
type Container struct {
	Name  string `json:"name"`
	Image string `json:"image"`
	Init  bool   `json:"init,omitempty"`
}

// Objects splits the release manifest into its objects, in manifest order. The manifest is parsed once per
// Release (doctor's checks ask for it several times, concurrently); each call returns a copy of the list.
func (r *Release) Objects() []ManifestObject {
	r.objsOnce.Do(func() { r.objs = SplitManifest(r.Manifest) })
	return append([]ManifestObject(nil), r.objs...)
}

// SplitManifest splits a rendered manifest into its objects, in the order Helm installs them (manifest
// order; documents that are not objects are left out).
func SplitManifest(manifest string) []ManifestObject {
	var out []ManifestObject
	for _, d := range SplitDocuments(manifest) {
		if mo, ok := decodeManifestObject(d); ok {
			out = append(out, mo)
		}
	}
	return out
}

// Storage driver names, as HELM_DRIVER spells them.
const (
	DriverSecret    = "secret"
	DriverConfigMap = "configmap"
)

// NormalizeDriver maps HELM_DRIVER spellings onto the two drivers the plugin reads.
func NormalizeDriver(d string) (string, error) {
	switch strings.ToLower(d) {
	case "", "secret", "secrets":
		return DriverSecret, nil
	case "configmap", "configmaps":
		return DriverConfigMap, nil
	default:
		return "", fmt.Errorf("helm storage driver %q is not supported (kubectl-skoala reads releases stored in Secrets or ConfigMaps)", d)
	}
}

// ErrReleaseNotFound is returned (wrapped in *NotFoundError) when a release has no revision in the namespace.
var ErrReleaseNotFound = errors.New("release not found")

// NotFoundError says a release is absent, and whether it was found under the other storage driver.
type NotFoundError struct {
	Name, Namespace string
	// OtherDriver is set when the release exists, stored by the other driver than the one asked for.
	OtherDriver string
}

func (e *NotFoundError) Error() string {
	if e.OtherDriver != "" {
		return fmt.Sprintf("release %q in namespace %q is stored in %ss, not where HELM_DRIVER says", e.Name, e.Namespace, e.OtherDriver)
	}
	return fmt.Sprintf("release %q not found in namespace %q", e.Name, e.Namespace)
}

func (e *NotFoundError) Unwrap() error { return ErrReleaseNotFound }

// CorruptError says a release record exists but cannot be decoded.
type CorruptError struct {
	Object string
	Err    error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("release record %s is corrupt: %v", e.Object, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// GetCurrent reads the current revision of a release: the newest revision that is not superseded (the
// deployed one, or a failed or pending one above it). It asks the API server for those revisions only, by
// label selector, so a release with hundreds of revisions costs what a new one does: Helm's own storage
// decodes every revision of the history to find the deployed one.
func GetCurrent(ctx context.Context, client kubernetes.Interface, namespace, name, driver string) (*Release, error) {
	drv, err := NormalizeDriver(driver)
	if err != nil {
		return nil, err
	}
	sel := fmt.Sprintf("owner=helm,name=%s,status!=superseded", name)
	type record struct {
		object  string
		rev     int
		payload []byte
	}
	var recs []record
	switch drv {
	case DriverSecret:
		list, err := client.CoreV1().Secrets(namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return nil, fmt.Errorf("listing release secrets of %q: %w", name, err)
		}
		for i := range list.Items {
			s := &list.Items[i]
			rev, _ := strconv.Atoi(s.Labels["version"])
			recs = append(recs, record{object: "secret/" + s.Name, rev: rev, payload: s.Data["release"]})
		}
	case DriverConfigMap:
		list, err := client.CoreV1().ConfigMaps(namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return nil, fmt.Errorf("listing release configmaps of %q: %w", name, err)
		}
		for i := range list.Items {
			c := &list.Items[i]
			rev, _ := strconv.Atoi(c.Labels["version"])
			recs = append(recs, record{object: "configmap/" + c.Name, rev: rev, payload: []byte(c.Data["release"])})
		}
	}
	if len(recs) == 0 {
		nf := &NotFoundError{Name: name, Namespace: namespace}
		nf.OtherDriver = otherDriverHas(ctx, client, namespace, name, drv)
		return nil, nf
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].rev > recs[j].rev })
	rel, err := DecodeRelease(recs[0].payload)
	if err != nil {
		return nil, &CorruptError{Object: namespace + "/" + recs[0].object, Err: err}
	}
	rel.Driver = drv
	if rel.Namespace == "" {
		rel.Namespace = namespace
	}
	return rel, nil
}

func otherDriverHas(ctx context.Context, client kubernetes.Interface, namespace, name, drv string) string {
	opts := metav1.ListOptions{LabelSelector: "owner=helm,name=" + name, Limit: 1}
	if drv == DriverSecret {
		if l, err := client.CoreV1().ConfigMaps(namespace).List(ctx, opts); err == nil && len(l.Items) > 0 {
			return DriverConfigMap
		}
		return ""
	}
	if l, err := client.CoreV1().Secrets(namespace).List(ctx, opts); err == nil && len(l.Items) > 0 {
		return DriverSecret
	}
	return ""
}

var gzipMagic = []byte{0x1f, 0x8b, 0x08}

// maxReleaseSize bounds a decompressed release record: a release Secret is at most 1 MiB compressed.
const maxReleaseSize = 64 << 20

// DecodeRelease decodes a release record as Helm stores it: base64 of (usually gzipped) JSON.
func DecodeRelease(data []byte) (*Release, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, errors.New("empty release record")
	}
	b := make([]byte, base64.StdEncoding.DecodedLen(len(data)))
	n, err := base64.StdEncoding.Decode(b, data)
	if err != nil {
		return nil, fmt.Errorf("bad base64: %w", err)
	}
	b = b[:n]
	if bytes.HasPrefix(b, gzipMagic) {
		r, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("bad gzip: %w", err)
		}
		out, err := io.ReadAll(io.LimitReader(r, maxReleaseSize+1))
		if err != nil {
			return nil, fmt.Errorf("bad gzip: %w", err)
		}
		if len(out) > maxReleaseSize {
			return nil, errors.New("release record too large")
		}
		b = out
	}
	var raw rspb.Release
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("bad JSON: %w", err)
	}
	if raw.Name == "" {
		return nil, errors.New("bad JSON: release has no name")
	}
	return fromRaw(&raw), nil
}

func fromRaw(raw *rspb.Release) *Release {
	r := &Release{
		Name:      raw.Name,
		Namespace: raw.Namespace,
		Revision:  raw.Version,
		Manifest:  raw.Manifest,
		Values:    raw.Config,
		raw:       raw,
	}
	if r.Values == nil {
		r.Values = map[string]any{}
	}
	if raw.Info != nil {
		r.Status = raw.Info.Status.String()
		r.Description = raw.Info.Description
		r.FirstDeployed = raw.Info.FirstDeployed
		r.LastDeployed = raw.Info.LastDeployed
	}
	if raw.Chart != nil && raw.Chart.Metadata != nil {
		r.Chart = raw.Chart.Metadata.Name
		r.ChartVersion = raw.Chart.Metadata.Version
		r.AppVersion = raw.Chart.Metadata.AppVersion
	}
	return r
}
