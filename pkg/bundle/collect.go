package bundle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/skoala-dev/kubectl-skoala/pkg/change"
	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

// collector gathers the files of one cluster.
type collector struct {
	cfg     *Config
	t       fleet.Target
	dir     string
	kc      *kube.Cluster
	dyn     dynamic.Interface
	mu      sync.Mutex
	files   []*File
	skips   []Skip
	secrets []string
	onFile  func(n int64)
	pods    []corev1.Pod
	// cuts are the logs cut while they were read; spoolDir holds them; logStream opens one (nil: GetLogs).
	cuts      []Cut
	spoolDir  string
	logStream func(ctx context.Context, kc *kube.Cluster, namespace, pod string, opts *corev1.PodLogOptions) (io.ReadCloser, error)
}

func (c *collector) add(path string, data []byte, log bool) {
	c.mu.Lock()
	c.files = append(c.files, &File{Path: c.dir + "/" + path, Data: data, Log: log})
	c.mu.Unlock()
	if c.onFile != nil {
		c.onFile(int64(len(data)))
	}
}

func (c *collector) addJSON(path string, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		c.skip(path, err)
		return
	}
	c.add(path, append(b, '\n'), false)
}

func (c *collector) addYAML(path string, v any) {
	b, err := yaml.Marshal(v)
	if err != nil {
		c.skip(path, err)
		return
	}
	c.add(path, b, false)
}

func (c *collector) absent(part, detail string) {
	c.mu.Lock()
	c.skips = append(c.skips, Skip{Cluster: c.t.Context, Part: part, Reason: ReasonNotPresent, Detail: detail})
	c.mu.Unlock()
}

// skip records a part that could not be collected, classified by its error.
func (c *collector) skip(part string, err error) {
	reason := Classify(err)
	msg, _ := kube.Explain(err, "", "")
	if apierrors.IsForbidden(err) {
		var se *apierrors.StatusError
		if errors.As(err, &se) {
			msg = "forbidden (403): " + se.ErrStatus.Message
		}
	}
	c.mu.Lock()
	c.skips = append(c.skips, Skip{Cluster: c.t.Context, Part: part, Reason: reason, Detail: redactText(msg, nil)})
	c.mu.Unlock()
}

// Classify maps an error to the reason a part is missing.
func Classify(err error) string {
	switch {
	case err == nil:
		return ""
	case apierrors.IsNotFound(err) || errors.Is(err, helmsdk.ErrReleaseNotFound):
		return ReasonNotPresent
	case apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err):
		return ReasonForbidden
	case errors.Is(err, context.DeadlineExceeded) || apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err):
		return ReasonTimedOut
	}
	msg, _ := kube.Explain(err, "", "")
	switch {
	case strings.HasPrefix(msg, "timed out"):
		return ReasonTimedOut
	case strings.HasPrefix(msg, "connection refused"), strings.HasPrefix(msg, "cannot resolve"):
		return ReasonUnreachable
	}
	return ReasonFailed
}

// run collects everything of the cluster; it returns the cluster's summary (files and gaps are counted later).
func (c *collector) run(ctx context.Context, src ClusterSource, dynFor func(string) dynamic.Interface) ClusterSummary {
	sum := ClusterSummary{Context: c.t.Context, Role: c.t.Role, Release: c.t.Release, Dir: c.dir}
	kc, err := src.Cluster(c.t.Context)
	if err != nil {
		sum.Error, _ = kube.Explain(err, "", "")
		c.skip("cluster", err)
		return sum
	}
	c.kc = kc
	v, err := kc.Client.Discovery().ServerVersion()
	if err != nil {
		sum.Error, _ = kube.Explain(err, "", "")
		c.skip("cluster", err)
		return sum
	}
	sum.Reachable = true
	c.addJSON("version.json", v)
	if dynFor != nil {
		c.dyn = dynFor(c.t.Context)
	} else if kc.Config != nil {
		c.dyn, _ = dynamic.NewForConfig(kc.Config)
	}
	c.nodes(ctx)
	c.release(ctx, c.t.Release, "releases/"+c.t.Release, true)
	c.objects(ctx)
	c.crds(ctx)
	if c.t.Role == fleet.RoleControlPlane {
		c.commonMySQL(ctx)
	} else {
		c.release(ctx, "insight-agent", "insight-agent", false)
	}
	if c.cfg.Logs {
		c.logs(ctx)
	}
	return sum
}

// node is what the bundle says of a node.
type node struct {
	Name             string `json:"name"`
	KubeletVersion   string `json:"kubeletVersion"`
	Architecture     string `json:"architecture"`
	OperatingSystem  string `json:"operatingSystem"`
	OSImage          string `json:"osImage,omitempty"`
	KernelVersion    string `json:"kernelVersion,omitempty"`
	ContainerRuntime string `json:"containerRuntime,omitempty"`
	Ready            string `json:"ready"`
}

func (c *collector) nodes(ctx context.Context) {
	list, err := c.kc.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		c.skip("nodes.json", err)
		return
	}
	out := []node{}
	for _, n := range list.Items {
		i := n.Status.NodeInfo
		nd := node{Name: n.Name, KubeletVersion: i.KubeletVersion, Architecture: i.Architecture, OperatingSystem: i.OperatingSystem,
			OSImage: i.OSImage, KernelVersion: i.KernelVersion, ContainerRuntime: i.ContainerRuntimeVersion, Ready: "Unknown"}
		if nd.Architecture == "" {
			nd.Architecture = n.Labels["kubernetes.io/arch"]
		}
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady {
				nd.Ready = string(cond.Status)
			}
		}
		out = append(out, nd)
	}
	c.addJSON("nodes.json", out)
}

// revision is one line of a release's history, as `helm history` shows it.
type revision struct {
	Revision    int    `json:"revision"`
	Updated     string `json:"updated"`
	Status      string `json:"status"`
	Chart       string `json:"chart"`
	AppVersion  string `json:"appVersion"`
	Description string `json:"description"`
}

// releaseStatus is what `helm status` says of the current revision.
type releaseStatus struct {
	Name          string `json:"name"`
	Namespace     string `json:"namespace"`
	Revision      int    `json:"revision"`
	Status        string `json:"status"`
	Chart         string `json:"chart"`
	Version       string `json:"version"`
	AppVersion    string `json:"appVersion"`
	Description   string `json:"description"`
	FirstDeployed string `json:"firstDeployed,omitempty"`
	LastDeployed  string `json:"lastDeployed,omitempty"`
	Driver        string `json:"driver"`
}

// ValuesRevisions is how many of the newest revisions' values the bundle keeps.
const ValuesRevisions = 3

const timeLayout = "2006-01-02T15:04:05Z07:00"

// release collects a release's status, history, redacted values of the last revisions and chart metadata
// (full), or only its status (the insight-agent release).
func (c *collector) release(ctx context.Context, name, dir string, full bool) {
	ns := c.cfg.Namespace
	if !full {
		ns = c.cfg.InsightNamespace
	}
	hist, err := helmsdk.History(ctx, c.kc.Client, ns, name, c.cfg.Driver)
	if err != nil {
		var nf *helmsdk.NotFoundError
		if errors.As(err, &nf) {
			c.absent(dir, nf.Error())
			return
		}
		c.skip(dir, err)
		return
	}
	cur := hist[0]
	for _, r := range hist {
		if r.Status == "deployed" {
			cur = r
			break
		}
	}
	if hist[0].Status != "superseded" && hist[0].Status != "corrupt" {
		cur = hist[0] // a failed or pending revision on top is the current state
	}
	st := releaseStatus{Name: cur.Name, Namespace: ns, Revision: cur.Revision, Status: cur.Status, Chart: cur.Chart + "-" + cur.ChartVersion,
		Version: cur.ChartVersion, AppVersion: cur.AppVersion, Description: cur.Description, Driver: cur.Driver}
	if !cur.FirstDeployed.IsZero() {
		st.FirstDeployed = cur.FirstDeployed.UTC().Format(timeLayout)
	}
	if !cur.LastDeployed.IsZero() {
		st.LastDeployed = cur.LastDeployed.UTC().Format(timeLayout)
	}
	c.addJSON(dir+"/status.json", st)
	if !full {
		return
	}
	var rows []revision
	for i := len(hist) - 1; i >= 0; i-- {
		r := hist[i]
		row := revision{Revision: r.Revision, Status: r.Status, Chart: r.Chart + "-" + r.ChartVersion, AppVersion: r.AppVersion, Description: redactText(r.Description, nil)}
		if !r.LastDeployed.IsZero() {
			row.Updated = r.LastDeployed.UTC().Format(timeLayout)
		}
		rows = append(rows, row)
	}
	c.addJSON(dir+"/history.json", rows)
	for i, r := range hist {
		if i >= ValuesRevisions {
			break
		}
		c.mu.Lock()
		c.secrets = append(c.secrets, secretsOf(r.Values)...)
		c.mu.Unlock()
		c.addYAML(fmt.Sprintf("%s/values/revision-%d.yaml", dir, r.Revision), redactValues(r.Values))
	}
	if md := cur.Metadata(); md != nil {
		c.addJSON(dir+"/chart.json", md)
	} else {
		c.absent(dir+"/chart.json", "the release record carries no chart")
	}
}

// kindList writes a typed list as a YAML List of redacted objects (managedFields left out).
func (c *collector) kindList(path, apiVersion, kind string, list runtime.Object, err error) {
	if err != nil {
		c.skip(path, err)
		return
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		c.skip(path, err)
		return
	}
	out := []any{}
	for _, o := range items {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
		if err != nil {
			c.skip(path, err)
			return
		}
		m["apiVersion"], m["kind"] = apiVersion, kind
		out = append(out, clean(m))
	}
	c.addYAML(path, map[string]any{"apiVersion": "v1", "kind": "List", "items": out})
}

// clean drops managedFields and last-applied annotations (a copy of the object) and redacts the rest.
func clean(m map[string]any) map[string]any {
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "managedFields")
		if an, ok := md["annotations"].(map[string]any); ok {
			delete(an, "kubectl.kubernetes.io/last-applied-configuration")
		}
	}
	return redactValues(m)
}

// objects collects the objects of the release namespace.
func (c *collector) objects(ctx context.Context) {
	cs, ns, lo := c.kc.Client, c.cfg.Namespace, metav1.ListOptions{}
	d, err := cs.AppsV1().Deployments(ns).List(ctx, lo)
	c.kindList("objects/deployments.yaml", "apps/v1", "Deployment", d, err)
	rs, err := cs.AppsV1().ReplicaSets(ns).List(ctx, lo)
	c.kindList("objects/replicasets.yaml", "apps/v1", "ReplicaSet", rs, err)
	pods, err := cs.CoreV1().Pods(ns).List(ctx, lo)
	c.kindList("objects/pods.yaml", "v1", "Pod", pods, err)
	if err == nil {
		c.pods = pods.Items
	}
	jobs, err := cs.BatchV1().Jobs(ns).List(ctx, lo)
	c.kindList("objects/jobs.yaml", "batch/v1", "Job", jobs, err)
	svc, err := cs.CoreV1().Services(ns).List(ctx, lo)
	c.kindList("objects/services.yaml", "v1", "Service", svc, err)
	ev, err := cs.CoreV1().Events(ns).List(ctx, lo)
	c.kindList("objects/events.yaml", "v1", "Event", ev, err)
	pvc, err := cs.CoreV1().PersistentVolumeClaims(ns).List(ctx, lo)
	c.kindList("objects/persistentvolumeclaims.yaml", "v1", "PersistentVolumeClaim", pvc, err)
	c.configMaps(ctx)
	c.secretNames(ctx)
	c.leases(ctx)
	c.serviceMonitors(ctx)
}

// entry is an object that the bundle names without its data: a Secret, a Helm release record.
type entry struct {
	Name string   `json:"name"`
	Type string   `json:"type,omitempty"`
	Keys []string `json:"keys"`
	// Helm marks a Helm release record (its data holds the values, unredacted).
	Helm bool `json:"helmRelease,omitempty"`
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// configMaps collects the ConfigMaps, redacted, and names Helm's release records (driver configmap) only.
func (c *collector) configMaps(ctx context.Context) {
	list, err := c.kc.Client.CoreV1().ConfigMaps(c.cfg.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		c.skip("objects/configmaps.yaml", err)
		return
	}
	var keepList corev1.ConfigMapList
	var records []entry
	for _, cm := range list.Items {
		if cm.Labels["owner"] == "helm" {
			records = append(records, entry{Name: cm.Name, Keys: keysOf(cm.Data), Helm: true})
			continue
		}
		// A ConfigMap's data is text: parse YAML/JSON values to redact them by key, else scrub the text.
		for k, v := range cm.Data {
			cm.Data[k] = redactConfigText(v)
		}
		cm.BinaryData = nil
		keepList.Items = append(keepList.Items, cm)
	}
	c.kindList("objects/configmaps.yaml", "v1", "ConfigMap", &keepList, nil)
	if len(records) > 0 {
		c.addJSON("objects/helm-release-configmaps.json", records)
	}
}

// redactConfigText redacts a ConfigMap value: as a values tree when it is a YAML or JSON mapping, else as text.
func redactConfigText(v string) string {
	var m map[string]any
	if err := yaml.Unmarshal([]byte(v), &m); err == nil && len(m) > 0 {
		if b, err := yaml.Marshal(redactValues(m)); err == nil {
			return string(b)
		}
	}
	return redactText(v, nil)
}

// secretNames names the Secrets of the namespace: name, type and key names, never their data.
func (c *collector) secretNames(ctx context.Context) {
	list, err := c.kc.Client.CoreV1().Secrets(c.cfg.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		c.skip("objects/secrets.json", err)
		return
	}
	out := []entry{}
	for _, s := range list.Items {
		out = append(out, entry{Name: s.Name, Type: string(s.Type), Keys: keysOf(s.Data), Helm: s.Labels["owner"] == "helm"})
	}
	c.addJSON("objects/secrets.json", out)
}

// leases collects the tool's own Leases (the upgrade lock) of the namespace.
func (c *collector) leases(ctx context.Context) {
	list, err := c.kc.Client.CoordinationV1().Leases(c.cfg.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		c.skip("objects/leases.yaml", err)
		return
	}
	prefix := change.LockName("")
	var mine coordinationv1.LeaseList
	for _, l := range list.Items {
		if strings.HasPrefix(l.Name, prefix) {
			mine.Items = append(mine.Items, l)
		}
	}
	c.kindList("objects/leases.yaml", "coordination.k8s.io/v1", "Lease", &mine, nil)
}

var serviceMonitorGVR = schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "servicemonitors"}

// serviceMonitors collects the ServiceMonitors when the cluster serves their API.
func (c *collector) serviceMonitors(ctx context.Context) {
	const path = "objects/servicemonitors.yaml"
	if _, err := c.kc.Client.Discovery().ServerResourcesForGroupVersion("monitoring.coreos.com/v1"); err != nil {
		if apierrors.IsNotFound(err) {
			c.absent(path, "the cluster does not serve monitoring.coreos.com/v1 (no Prometheus operator CRDs)")
			return
		}
		c.skip(path, err)
		return
	}
	if c.dyn == nil {
		c.skip(path, errors.New("no dynamic client"))
		return
	}
	list, err := c.dyn.Resource(serviceMonitorGVR).Namespace(c.cfg.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		c.skip(path, err)
		return
	}
	out := []any{}
	for _, u := range list.Items {
		out = append(out, clean(u.Object))
	}
	c.addYAML(path, map[string]any{"apiVersion": "v1", "kind": "List", "items": out})
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// crdGroups are the API groups whose CRDs skoala-init installs: Contour, Gateway API, Higress.
var crdGroups = []string{"projectcontour.io", "gateway.networking.k8s.io", "higress.io"}

// crd is what the bundle says of a CRD: its versions, served and stored.
type crd struct {
	Name           string   `json:"name"`
	Group          string   `json:"group"`
	Served         []string `json:"served"`
	Storage        string   `json:"storage"`
	StoredVersions []string `json:"storedVersions"`
	BundleVersion  string   `json:"bundleVersion,omitempty"`
}

func (c *collector) crds(ctx context.Context) {
	const path = "crds.json"
	if c.dyn == nil {
		c.skip(path, errors.New("no dynamic client"))
		return
	}
	list, err := c.dyn.Resource(crdGVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		c.skip(path, err)
		return
	}
	out := []crd{}
	for _, u := range list.Items {
		group, _, _ := unstructuredString(u.Object, "spec", "group")
		if !inGroups(group) {
			continue
		}
		cr := crd{Name: u.GetName(), Group: group, Served: []string{}, StoredVersions: []string{}}
		cr.BundleVersion = u.GetAnnotations()["gateway.networking.k8s.io/bundle-version"]
		vs, _, _ := unstructuredSlice(u.Object, "spec", "versions")
		for _, v := range vs {
			vm, _ := v.(map[string]any)
			name, _ := vm["name"].(string)
			if served, _ := vm["served"].(bool); served {
				cr.Served = append(cr.Served, name)
			}
			if st, _ := vm["storage"].(bool); st {
				cr.Storage = name
			}
		}
		sv, _, _ := unstructuredSlice(u.Object, "status", "storedVersions")
		for _, v := range sv {
			if s, ok := v.(string); ok {
				cr.StoredVersions = append(cr.StoredVersions, s)
			}
		}
		out = append(out, cr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	if len(out) == 0 {
		c.absent(path, "no CRD of "+strings.Join(crdGroups, ", "))
		return
	}
	c.addJSON(path, out)
}

func inGroups(g string) bool {
	for _, want := range crdGroups {
		if g == want || strings.HasSuffix(g, "."+want) {
			return true
		}
	}
	return false
}

func unstructuredString(m map[string]any, path ...string) (string, bool, error) {
	v, ok := dig(m, path...)
	s, _ := v.(string)
	return s, ok, nil
}

func unstructuredSlice(m map[string]any, path ...string) ([]any, bool, error) {
	v, ok := dig(m, path...)
	s, _ := v.([]any)
	return s, ok, nil
}

func dig(m map[string]any, path ...string) (any, bool) {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = mm[p]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

// CommonMySQLStatefulSet is common-mysql's StatefulSet on the control plane.
const CommonMySQLStatefulSet = "mcamel-common-mysql-cluster-mysql"

func (c *collector) commonMySQL(ctx context.Context) {
	const path = "common-mysql/statefulset.yaml"
	st, err := c.kc.Client.AppsV1().StatefulSets(c.cfg.MySQLNamespace).Get(ctx, CommonMySQLStatefulSet, metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			c.absent(path, fmt.Sprintf("no StatefulSet %s in namespace %s", CommonMySQLStatefulSet, c.cfg.MySQLNamespace))
			return
		}
		c.skip(path, err)
		return
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(st)
	if err != nil {
		c.skip(path, err)
		return
	}
	m["apiVersion"], m["kind"] = "apps/v1", "StatefulSet"
	c.addYAML(path, clean(m))
}

// logs collects the logs of every container of the namespace's pods, and the previous container's when it
// restarted, within Since and Tail.
func (c *collector) logs(ctx context.Context) {
	for _, p := range c.pods {
		if p.Spec.NodeName == "" {
			c.absent("logs/"+p.Name, "the pod is not scheduled to a node")
			continue
		}
		var ctrs []corev1.Container
		ctrs = append(ctrs, p.Spec.InitContainers...)
		ctrs = append(ctrs, p.Spec.Containers...)
		restarted := map[string]bool{}
		for _, s := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
			if s.RestartCount > 0 || s.LastTerminationState.Terminated != nil {
				restarted[s.Name] = true
			}
		}
		for _, ct := range ctrs {
			base := "logs/" + p.Name + "/" + ct.Name
			c.log(ctx, p.Name, ct.Name, false, base+".log")
			if restarted[ct.Name] {
				c.log(ctx, p.Name, ct.Name, true, base+".previous.log")
			}
		}
	}
}

func (c *collector) log(ctx context.Context, pod, container string, previous bool, path string) {
	opts := &corev1.PodLogOptions{Container: container, Previous: previous}
	if c.cfg.Since > 0 {
		s := int64(c.cfg.Since.Seconds())
		opts.SinceSeconds = &s
	}
	if c.cfg.Tail >= 0 {
		t := c.cfg.Tail
		opts.TailLines = &t
	}
	var rc io.ReadCloser
	var err error
	if c.logStream != nil {
		rc, err = c.logStream(ctx, c.kc, c.cfg.Namespace, pod, opts)
	} else {
		rc, err = c.kc.Client.CoreV1().Pods(c.cfg.Namespace).GetLogs(pod, opts).Stream(ctx)
	}
	if err != nil {
		// 400: the container has no such log (not started yet, no previous container): nothing to collect.
		if apierrors.IsBadRequest(err) {
			msg, _ := kube.Explain(err, "", "")
			c.absent(path, redactText(msg, nil))
			return
		}
		c.skip(path, err)
		return
	}
	defer rc.Close()
	// Streamed to disk, keeping the newest part within the archive's bound (a larger log would be cut
	// anyway): never whole in memory.
	sp, err := streamLog(ctx, c.spoolDir, rc, c.cfg.MaxSize)
	if sp == nil {
		c.skip(path, err)
		return
	}
	full := c.dir + "/" + path
	if err != nil && sp.total == 0 {
		os.Remove(sp.path)
		c.skip(path, err)
		return
	}
	f := &File{Path: full, Log: true, spool: sp, cutMark: sp.off > 0}
	var cut *Cut
	switch {
	case err != nil:
		reason := ReasonFailed
		if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
			reason = ReasonTimedOut
		}
		cut = &Cut{Path: full, Bytes: sp.total, KeptBytes: sp.kept(), Reason: reason,
			Detail: "reading the log stopped: " + redactText(firstLine(err.Error()), nil) + "; its newer lines are missing"}
		f.endMark = fmt.Sprintf(stopMarker, reason)
	case sp.off > 0:
		cut = &Cut{Path: full, Bytes: sp.total, KeptBytes: sp.kept(), Reason: ReasonOverSize, Detail: "the log is larger than --max-size: its newest part is kept"}
	}
	c.mu.Lock()
	c.files = append(c.files, f)
	if cut != nil {
		c.cuts = append(c.cuts, *cut)
	}
	c.mu.Unlock()
	if c.onFile != nil {
		c.onFile(sp.kept())
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
