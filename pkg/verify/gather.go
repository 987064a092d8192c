package verify

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

// Helm's ownership metadata on every object it installs.
const (
	releaseNameAnnotation      = "meta.helm.sh/release-name"
	releaseNamespaceAnnotation = "meta.helm.sh/release-namespace"
	managedByHelm              = "app.kubernetes.io/managed-by=Helm"
)

// Config is what Gather needs, with no flags in sight.
type Config struct {
	Namespace string
	Targets   []fleet.Target
	// Driver is the Helm storage driver (HELM_DRIVER).
	Driver         string
	ClusterTimeout time.Duration
	MaxConcurrency int
	// Ignore are the fields drift leaves out besides DefaultIgnores and the replicas an HPA owns.
	Ignore []Ignore
	// Name is how the tool was invoked, for hints.
	Name string
	// Readers builds a cluster's Reader (nil: NewReader).
	Readers func(kc *kube.Cluster) (Reader, error)
	// Chart gives the archive of an installed chart version, for its CRD files (subcharts included) and
	// its provenance; nil, or an error, compares the CRDs the release record keeps.
	Chart func(ctx context.Context, chart, version string) (*helmsdk.Chart, error)
	// Images compares the images (nil: not compared).
	Images *ImageConfig
	// Provenance verifies a chart version's .prov with the keyring (nil: not checked).
	Provenance func(ctx context.Context, chart, version string) Provenance
}

// Gather reads every target concurrently, each bounded by its own timeout, and compares. It changes
// nothing. An unreachable cluster is one entry with the reason; it never stops the others.
func Gather(ctx context.Context, src fleet.ClusterSource, cfg Config) *Report {
	rep := &Report{Schema: SchemaVersion, Namespace: cfg.Namespace, Clusters: make([]Cluster, len(cfg.Targets))}
	kube.ForEach(ctx, cfg.Targets, cfg.MaxConcurrency, cfg.ClusterTimeout, func(ctx context.Context, i int, t fleet.Target) {
		rep.Clusters[i] = gatherCluster(ctx, src, cfg, t)
	})
	for _, c := range rep.Clusters {
		if !c.Reachable {
			rep.Differences++
		}
		for _, r := range c.Releases {
			rep.Differences += r.Differences()
		}
	}
	return rep
}

func gatherCluster(ctx context.Context, src fleet.ClusterSource, cfg Config, t fleet.Target) Cluster {
	c := Cluster{Context: t.Context, Role: t.Role, Releases: []Release{}}
	kc, err := src.Cluster(t.Context)
	if err != nil {
		c.Error, c.Hint = kube.Explain(err, "", "")
		return c
	}
	rel := Release{Name: t.Release, Namespace: cfg.Namespace, Drift: []ObjectDrift{}, Missing: []ObjectRef{},
		NotInManifest: []ObjectRef{}, CRDs: []CRD{}, Images: []Image{}, Skipped: []Skipped{}}
	hr, err := helmsdk.GetCurrent(ctx, kc.Client, cfg.Namespace, t.Release, cfg.Driver)
	var nf *helmsdk.NotFoundError
	switch {
	case err == nil:
	case errors.As(err, &nf):
		c.Reachable = true
		rel.Error = nf.Error()
		rel.Hint = "there is nothing to verify: install it first"
		c.Releases = append(c.Releases, rel)
		return c
	case apierrors.IsForbidden(errors.Unwrap(err)) || apierrors.IsForbidden(err):
		c.Reachable = true
		res := "secrets"
		if d, _ := helmsdk.NormalizeDriver(cfg.Driver); d == helmsdk.DriverConfigMap {
			res = "configmaps"
		}
		rel.Error, rel.Hint = kube.Explain(err, "list", res+" in namespace "+cfg.Namespace)
		rel.Hint += "; the release record holds the manifest verify compares with"
		c.Releases = append(c.Releases, rel)
		return c
	default:
		c.Error, c.Hint = kube.Explain(err, "list", "secrets in namespace "+cfg.Namespace)
		return c
	}
	c.Reachable = true
	rel.Installed = true
	rel.Chart, rel.Version, rel.Revision = hr.Chart, hr.ChartVersion, hr.Revision

	newReader := cfg.Readers
	if newReader == nil {
		newReader = NewReader
	}
	rd, err := newReader(kc)
	if err != nil {
		rel.Error, rel.Hint = kube.Explain(err, "", "")
		c.Releases = append(c.Releases, rel)
		return c
	}
	v := &releaseVerify{cfg: cfg, kc: kc, rd: rd, rel: &rel, hr: hr}
	v.drift(ctx)
	v.size(ctx)
	v.crds(ctx)
	v.images(ctx)
	if cfg.Provenance != nil {
		p := cfg.Provenance(ctx, hr.Chart, hr.ChartVersion)
		rel.Provenance = &p
	}
	c.Releases = append(c.Releases, rel)
	return c
}

// releaseVerify is the work on one release.
type releaseVerify struct {
	cfg Config
	kc  *kube.Cluster
	rd  Reader
	rel *Release
	hr  *helmsdk.Release
	// live are the live workloads read by drift, by "Kind/name" (images reads their selectors).
	live map[string]map[string]any
	// objs are the manifest's objects, decoded.
	objs []manifestObject
}

type manifestObject struct {
	ref        ObjectRef
	gvr        schema.GroupVersionResource
	namespaced bool
	obj        map[string]any
}

func (v *releaseVerify) skip(what, verb, resource, ns string, err error) {
	right := fmt.Sprintf("%s %s", verb, resource)
	if ns != "" {
		right += " in namespace " + ns
	}
	if !apierrors.IsForbidden(err) {
		right, _ = kube.Explain(err, verb, resource)
	}
	for _, s := range v.rel.Skipped {
		if s.What == what && s.Right == right {
			return
		}
	}
	v.rel.Skipped = append(v.rel.Skipped, Skipped{What: what, Right: right})
}

// decode parses the manifest into objects, with their resources.
func (v *releaseVerify) decode() {
	ns := v.cfg.Namespace
	for _, doc := range helmsdk.SplitDocuments(v.hr.Manifest) {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc+"\n"), &obj); err != nil || obj == nil {
			continue
		}
		av, _ := obj["apiVersion"].(string)
		kind, _ := obj["kind"].(string)
		md, _ := obj["metadata"].(map[string]any)
		name, _ := md["name"].(string)
		if av == "" || kind == "" || name == "" {
			continue
		}
		ref := ObjectRef{APIVersion: av, Kind: kind, Name: name}
		gvr, namespaced, err := v.rd.Resource(av, kind)
		var notRead *KindNotReadError
		if errors.As(err, &notRead) {
			v.rel.Skipped = append(v.rel.Skipped, Skipped{What: ref.String(), Right: err.Error()})
			continue
		}
		if err != nil {
			v.rel.Missing = append(v.rel.Missing, ref)
			continue
		}
		if namespaced {
			ref.Namespace, _ = md["namespace"].(string)
			if ref.Namespace == "" {
				ref.Namespace = ns
			}
		}
		v.objs = append(v.objs, manifestObject{ref: ref, gvr: gvr, namespaced: namespaced, obj: obj})
	}
}

// hpaTargets lists the objects an HPA of the namespace scales ("Kind/name"): their replicas are the HPA's.
func (v *releaseVerify) hpaTargets(ctx context.Context) ([]string, error) {
	list, err := v.kc.Client.AutoscalingV2().HorizontalPodAutoscalers(v.cfg.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(list.Items))
	for _, h := range list.Items {
		out = append(out, h.Spec.ScaleTargetRef.Kind+"/"+h.Spec.ScaleTargetRef.Name)
	}
	return out, nil
}

func (v *releaseVerify) ignoresFor(ref ObjectRef, hpa map[string]bool) []string {
	out := append([]string(nil), DefaultIgnores...)
	if hpa[ref.Kind+"/"+ref.Name] {
		out = append(out, "/spec/replicas")
	}
	for _, ig := range v.cfg.Ignore {
		if ig.Kind == "" || (strings.EqualFold(ig.Kind, ref.Kind) && ig.Name == ref.Name) {
			out = append(out, ig.Path)
		}
	}
	return out
}

// drift compares each object of the manifest with the live one, and lists the objects the release owns
// that its manifest lacks. Every read goes out in one round (at most maxReads at a time): an object's GET,
// the HPAs of the namespace and the owned objects of each kind, then the answers are compared in the
// manifest's order.
func (v *releaseVerify) drift(ctx context.Context) {
	v.decode()
	v.live = map[string]map[string]any{}
	inManifest := map[string]bool{}
	type listKey struct {
		gvr schema.GroupVersionResource
		ns  string
	}
	lists := map[listKey]ObjectRef{}
	var order []listKey
	for _, o := range v.objs {
		inManifest[o.gvr.String()+"/"+o.ref.Namespace+"/"+o.ref.Name] = true
		if o.namespaced {
			k := listKey{o.gvr, o.ref.Namespace}
			if _, ok := lists[k]; !ok {
				lists[k] = o.ref
				order = append(order, k)
			}
		}
	}
	type got struct {
		obj   map[string]any
		items []map[string]any
		err   error
	}
	gets, listed := make([]got, len(v.objs)), make([]got, len(order))
	var hpas []string
	var hpaErr error
	eachAtMost(len(v.objs)+len(order)+1, maxReads, func(i int) {
		switch {
		case i < len(v.objs):
			o := v.objs[i]
			gets[i].obj, gets[i].err = v.rd.Get(ctx, o.gvr, o.ref.Namespace, o.ref.Name)
		case i < len(v.objs)+len(order):
			k := order[i-len(v.objs)]
			listed[i-len(v.objs)].items, listed[i-len(v.objs)].err = v.rd.List(ctx, k.gvr, k.ns, managedByHelm)
		default:
			hpas, hpaErr = v.hpaTargets(ctx)
		}
	})
	hpa := map[string]bool{}
	if hpaErr != nil {
		v.skip("replicas under an HPA", "list", "horizontalpodautoscalers.autoscaling", v.cfg.Namespace, hpaErr)
	}
	for _, h := range hpas {
		hpa[h] = true
	}
	for i, o := range v.objs {
		live, err := gets[i].obj, gets[i].err
		switch {
		case apierrors.IsNotFound(err):
			v.rel.Missing = append(v.rel.Missing, o.ref)
			continue
		case err != nil:
			v.skip(o.ref.String(), "get", o.gvr.GroupResource().String(), o.ref.Namespace, err)
			continue
		}
		v.rel.Objects++
		v.live[o.ref.String()] = live
		if f := diffObject(o.obj, live, v.ignoresFor(o.ref, hpa)); len(f) > 0 {
			v.rel.Drift = append(v.rel.Drift, ObjectDrift{ObjectRef: o.ref, Fields: f})
		}
	}
	for i, k := range order {
		items, err := listed[i].items, listed[i].err
		if err != nil {
			v.skip("objects owned by the release ("+k.gvr.GroupResource().String()+")", "list", k.gvr.GroupResource().String(), k.ns, err)
			continue
		}
		for _, it := range items {
			md, _ := it["metadata"].(map[string]any)
			ann, _ := md["annotations"].(map[string]any)
			name, _ := md["name"].(string)
			if ann[releaseNameAnnotation] != v.rel.Name || ann[releaseNamespaceAnnotation] != v.rel.Namespace {
				continue
			}
			if inManifest[k.gvr.String()+"/"+k.ns+"/"+name] {
				continue
			}
			ref := lists[k]
			v.rel.NotInManifest = append(v.rel.NotInManifest, ObjectRef{APIVersion: ref.APIVersion, Kind: ref.Kind, Namespace: k.ns, Name: name})
		}
	}
	sort.Slice(v.rel.NotInManifest, func(i, j int) bool {
		return v.rel.NotInManifest[i].String() < v.rel.NotInManifest[j].String()
	})
}

// maxReads is how many of a release's reads verify has in flight at once (client-go's burst is higher:
// pkg/kube sets it to at least 300).
const maxReads = 16

// eachAtMost runs f(0..n-1), at most limit at a time, and returns when all have returned.
func eachAtMost(n, limit int, f func(i int)) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f(i)
		}()
	}
	wg.Wait()
}

// size measures the newest release record against the limit (a warning from 90%).
func (v *releaseVerify) size(ctx context.Context) {
	rec, err := helmsdk.NewestRecord(ctx, v.kc.Client, v.cfg.Namespace, v.rel.Name, v.cfg.Driver)
	if err != nil {
		v.skip("release record size", "list", "secrets", v.cfg.Namespace, err)
		return
	}
	v.rel.Size = SizeOf(rec.Object, rec.Revision, rec.Bytes)
}

// SizeWarnPercent is the share of the limit from which a release record's size is a warning.
const SizeWarnPercent = helmsdk.RecordWarnPercent

// SizeOf is a record's size against helmsdk.RecordLimit.
func SizeOf(object string, revision, bytes int) *Size {
	pct := float64(bytes) * 100 / float64(helmsdk.RecordLimit)
	pct = float64(int(pct*10)) / 10
	return &Size{Object: object, Revision: revision, Bytes: bytes, Limit: helmsdk.RecordLimit, Percent: pct, Warning: pct >= SizeWarnPercent}
}
