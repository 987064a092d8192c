package bundle

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk/helmtest"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

const (
	ns         = "skoala-system"
	dbPassword = "Db-Pl4nted-Pw!"
	regPass    = "Reg-Pl4nted-Pw"
	secretVal  = "Secret-Pl4nted-Value"
	envPass    = "Env-Pl4nted-Pw"
	urlPass    = "Url-Pl4nted-Pw"
)

type fakeSource map[string]*fake.Clientset

func (f fakeSource) Cluster(name string) (*kube.Cluster, error) {
	c, ok := f[name]
	if !ok {
		c = fake.NewSimpleClientset()
		c.PrependReactor("*", "*", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
		})
	}
	return &kube.Cluster{Context: name, Client: c}, nil
}

func plantedValues() map[string]any {
	return map[string]any{
		"hive": map[string]any{"configMap": map[string]any{"database": []any{map[string]any{
			"driver": "mysql", "dsn": "skoala:" + dbPassword + "@tcp(mysql.mcamel-system:3306)/skoala?parseTime=true"}}}},
		"global": map[string]any{"imagePullCredentials": map[string]any{"username": "robot", "password": regPass},
			"repoURL": "https://robot:" + urlPass + "@charts.example.com/skoala"},
	}
}

func controlPlane() *fake.Clientset {
	objs := []runtime.Object{
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-0", Labels: map[string]string{"kubernetes.io/arch": "amd64"}},
			Status: corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{KubeletVersion: "v1.37.2", Architecture: "amd64", OperatingSystem: "linux"}}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "hive-db", Namespace: ns}, Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{"password": []byte(secretVal), "user": []byte("skoala")}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "hive-config", Namespace: ns},
			Data: map[string]string{"config.yaml": "database:\n  dsn: skoala:" + dbPassword + "@tcp(db:3306)/skoala\n  password: " + regPass + "\n"}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "hive", Namespace: ns}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "hive-0", Namespace: ns},
			Spec:   corev1.PodSpec{NodeName: "node-0", Containers: []corev1.Container{{Name: "hive", Env: []corev1.EnvVar{{Name: "DB_PASSWORD", Value: envPass}}}}},
			Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "hive", RestartCount: 2}}}},
	}
	for i := 1; i <= 4; i++ {
		st := "superseded"
		if i == 4 {
			st = "deployed"
		}
		objs = append(objs, helmtest.Secret(helmtest.Spec{Name: "skoala", Namespace: ns, Revision: i, Status: st, Chart: "skoala",
			Version: fmt.Sprintf("0.%d.0", 30+i), Values: plantedValues(), Deployed: time.Date(2026, 1, i, 0, 0, 0, 0, time.UTC), Description: "Upgrade complete"}))
	}
	return fake.NewSimpleClientset(objs...)
}

func workspace() *fake.Clientset {
	c := fake.NewSimpleClientset(
		helmtest.Secret(helmtest.Spec{Name: "skoala-init", Namespace: ns, Revision: 1, Status: "deployed", Chart: "skoala-init", Version: "0.34.0"}),
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "hidden", Namespace: ns}})
	// The identity may not list Secrets: the release and the Secrets are forbidden parts.
	c.PrependReactor("list", "secrets", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "", fmt.Errorf("user readonly cannot list secrets"))
	})
	return c
}

func dynFake(string) dynamic.Interface {
	crd := map[string]any{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": "httpproxies.projectcontour.io"},
		"spec":     map[string]any{"group": "projectcontour.io", "versions": []any{map[string]any{"name": "v1", "served": true, "storage": true}}},
		"status":   map[string]any{"storedVersions": []any{"v1"}}}
	s := runtime.NewScheme()
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(s, map[schema.GroupVersionResource]string{crdGVR: "CustomResourceDefinitionList", serviceMonitorGVR: "ServiceMonitorList"},
		&unstructured.Unstructured{Object: crd})
}

func run(t *testing.T, cfg Config, src fakeSource) (*Summary, map[string][]byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "b.zip")
	cfg.Namespace, cfg.InsightNamespace, cfg.MySQLNamespace = ns, "insight-system", "mcamel-system"
	cfg.ClusterTimeout = 10 * time.Second
	if cfg.MaxSize == 0 {
		cfg.MaxSize = DefaultMaxSize
	}
	sum, err := Run(context.Background(), Deps{Clusters: src, Dynamic: dynFake, Now: func() time.Time { return time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC) }}, cfg, path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("archive: %v mode %v", err, st.Mode())
	}
	return sum, readArchive(t, path)
}

// readArchive reads every file of the zip at path.
func readArchive(t *testing.T, path string) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return out
}

func TestRunRedactsEveryCollectedFile(t *testing.T) {
	targets := []fleet.Target{{Context: "global", Role: fleet.RoleControlPlane, Release: "skoala"}, {Context: "ws", Role: fleet.RoleWorkspace, Release: "skoala-init"}}
	sum, files := run(t, Config{Targets: targets, Logs: true, Tail: -1, Flags: map[string]string{"logs": "true"}}, fakeSource{"global": controlPlane(), "ws": workspace()})
	for name, data := range files {
		for _, pw := range []string{dbPassword, regPass, secretVal, envPass, urlPass} {
			if bytes.Contains(data, []byte(pw)) {
				t.Errorf("%s holds the planted secret %q:\n%s", name, pw, data)
			}
		}
	}
	for _, want := range []string{"manifest.json", "version.json", "flags.json", "global/version.json", "global/nodes.json", "global/crds.json",
		"global/releases/skoala/status.json", "global/releases/skoala/history.json", "global/releases/skoala/chart.json",
		"global/releases/skoala/values/revision-4.yaml", "global/releases/skoala/values/revision-2.yaml",
		"global/objects/pods.yaml", "global/objects/secrets.json", "global/objects/configmaps.yaml", "global/logs/hive-0/hive.log",
		"global/logs/hive-0/hive.previous.log", "ws/version.json", "ws/objects/pods.yaml"} {
		if _, ok := files[want]; !ok {
			t.Errorf("%s missing from the archive", want)
		}
	}
	if _, ok := files["global/releases/skoala/values/revision-1.yaml"]; ok {
		t.Errorf("the values of more than %d revisions were kept", ValuesRevisions)
	}
	if s := string(files["global/objects/secrets.json"]); !strings.Contains(s, `"password"`) || !strings.Contains(s, `"hive-db"`) {
		t.Errorf("secrets.json does not name the Secret and its keys: %s", s)
	}
	if s := string(files["global/releases/skoala/values/revision-4.yaml"]); !strings.Contains(s, "skoala:******@tcp(") || !strings.Contains(s, ":******@charts.example.com") {
		t.Errorf("values not masked as expected:\n%s", s)
	}
	var man Manifest
	if err := json.Unmarshal(files["manifest.json"], &man); err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, s := range man.Skipped {
		reasons[s.Cluster+" "+s.Part] = s.Reason
	}
	for part, want := range map[string]string{
		"ws releases/skoala-init": ReasonForbidden, "ws objects/secrets.json": ReasonForbidden,
		"ws insight-agent": ReasonForbidden, "global common-mysql/statefulset.yaml": ReasonNotPresent,
		" upgrade-runs": ReasonNotPresent, "global objects/servicemonitors.yaml": ReasonNotPresent,
	} {
		if reasons[part] != want {
			t.Errorf("manifest: %q is %q, want %q (all: %v)", part, reasons[part], want, reasons)
		}
	}
	if sum.Gaps != 3 || man.Gaps != 3 { // ws: the release, its insight-agent release, the Secrets
		t.Errorf("gaps %d/%d, want 3: %+v", sum.Gaps, man.Gaps, man.Skipped)
	}
	if len(man.Files) != len(files) {
		t.Errorf("manifest lists %d files, the archive holds %d", len(man.Files), len(files))
	}
}

func TestRunUnreachableClusterIsAGap(t *testing.T) {
	targets := []fleet.Target{{Context: "global", Role: fleet.RoleControlPlane, Release: "skoala"}, {Context: "down", Role: fleet.RoleWorkspace, Release: "skoala-init"}}
	sum, files := run(t, Config{Targets: targets}, fakeSource{"global": controlPlane()})
	if sum.Clusters[1].Reachable || sum.Clusters[0].Gaps != 0 || !sum.Clusters[0].Reachable {
		t.Fatalf("clusters: %+v", sum.Clusters)
	}
	var man Manifest
	_ = json.Unmarshal(files["manifest.json"], &man)
	found := false
	for _, s := range man.Skipped {
		if s.Cluster == "down" && s.Part == "cluster" && s.Reason == ReasonUnreachable && strings.Contains(s.Detail, "connection refused") {
			found = true
		}
	}
	if !found || sum.Gaps == 0 {
		t.Errorf("the unreachable cluster is not a gap: %+v", man.Skipped)
	}
}

// noisy returns n bytes of log lines that do not compress much.
func noisy(seed int64, n int) []byte {
	r := rand.New(rand.NewSource(seed))
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "2026-12-01T20:00:%02dZ line %d %x\n", i%60, i, r.Uint64())
	}
	return b.Bytes()[:n]
}

func TestFitCutsTheLargestLogsFirst(t *testing.T) {
	mk := func() []*File {
		return compressed(t, []*File{
			{Path: "status.json", Data: noisy(1, 20000)},
			{Path: "a/logs/p/big.log", Data: noisy(2, 200000), Log: true},
			{Path: "a/logs/p/mid.log", Data: noisy(3, 60000), Log: true},
			{Path: "a/logs/p/small.log", Data: noisy(4, 5000), Log: true},
		})
	}
	t.Run("everything fits: nothing is cut", func(t *testing.T) {
		kept, cuts, err := fit(mk(), 10<<20, 0, nil)
		if err != nil || len(cuts) != 0 || len(kept) != 4 {
			t.Fatalf("kept %d cuts %v err %v", len(kept), cuts, err)
		}
	})
	t.Run("the largest log is shortened to its newest lines", func(t *testing.T) {
		files := mk()
		full := archiveSize(files)
		max := full - 20000
		kept, cuts, err := fit(files, max, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := archiveSize(kept); got > max {
			t.Errorf("archive %d over the bound %d", got, max)
		}
		if len(cuts) != 1 || cuts[0].Path != "a/logs/p/big.log" || cuts[0].KeptBytes == 0 || cuts[0].Bytes != 200000 {
			t.Fatalf("cuts %+v", cuts)
		}
		var big *File
		for _, f := range kept {
			if f.Path == "a/logs/p/big.log" {
				big = f
			}
		}
		orig := noisy(2, 200000)
		if !bytes.HasPrefix(big.Data, []byte(cutMarker)) || !bytes.HasSuffix(orig, big.Data[len(cutMarker):]) {
			t.Errorf("the cut log does not keep the newest lines after the marker")
		}
	})
	t.Run("logs are left out before other files are cut", func(t *testing.T) {
		files := mk()
		max := archiveSize(files[:1]) + 3000
		kept, cuts, err := fit(files, max, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := archiveSize(kept); got > max {
			t.Errorf("archive %d over the bound %d", got, max)
		}
		for _, c := range cuts {
			if !strings.Contains(c.Path, "/logs/") {
				t.Errorf("a file that is not a log was cut while logs remained: %+v", cuts)
			}
		}
		if kept[0].Path != "status.json" || len(kept[0].Data) != 20000 {
			t.Errorf("status.json changed")
		}
	})
	t.Run("a file named to keep is never cut; too small a bound is an error", func(t *testing.T) {
		_, _, err := fit(mk(), 1000, 0, map[string]bool{"status.json": true})
		if err == nil || !strings.Contains(err.Error(), "raise --max-size") {
			t.Errorf("err %v", err)
		}
	})
}

func compressed(t *testing.T, files []*File) []*File {
	for _, f := range files {
		if err := f.compress(); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

func TestRunBoundsTheArchiveAndRecordsTheCut(t *testing.T) {
	src := fakeSource{"global": controlPlane()}
	targets := []fleet.Target{{Context: "global", Role: fleet.RoleControlPlane, Release: "skoala"}}
	sum, files := run(t, Config{Targets: targets, Logs: true, Tail: -1, MaxSize: 64 << 10}, src)
	if sum.Bytes > 64<<10 {
		t.Errorf("archive %d bytes over the bound", sum.Bytes)
	}
	if _, ok := files["manifest.json"]; !ok {
		t.Fatal("no manifest")
	}
}

func TestRunNeverOverwrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.zip")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), Deps{Clusters: fakeSource{"global": controlPlane()}, Dynamic: dynFake},
		Config{Namespace: ns, Targets: []fleet.Target{{Context: "global", Role: fleet.RoleControlPlane, Release: "skoala"}}, MaxSize: DefaultMaxSize}, path)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("err %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Error("the file was overwritten")
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*partial")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
}

func TestRedactAll(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"dsn=skoala:" + dbPassword + "@tcp(h:3306)/d", "dsn=skoala:******@tcp(h:3306)/d"},
		{"pulling https://robot:" + urlPass + "@harbor.example.com/v2", "pulling https://robot:******@harbor.example.com/v2"},
		{"mysql://root:" + dbPassword + "@db:3306/skoala", "mysql://root:******@db:3306/skoala"},
		{"no secret here", "no secret here"},
	} {
		if got := redactText(tc.in, nil); got != tc.want {
			t.Errorf("redactText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := redactText("the value "+secretVal+" leaked", []string{secretVal}); strings.Contains(got, secretVal) {
		t.Errorf("a known secret survived: %q", got)
	}
	v := redactValues(map[string]any{"env": []any{map[string]any{"name": "DB_PASSWORD", "value": envPass}}, "auth": "cm9ib3Q6cHc=", "url": "https://u:" + urlPass + "@x"})
	b, _ := json.Marshal(v)
	for _, pw := range []string{envPass, "cm9ib3Q6cHc=", urlPass} {
		if bytes.Contains(b, []byte(pw)) {
			t.Errorf("redactValues kept %q: %s", pw, b)
		}
	}
}

func TestClassify(t *testing.T) {
	gr := schema.GroupResource{Resource: "secrets"}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{apierrors.NewForbidden(gr, "", fmt.Errorf("no")), ReasonForbidden},
		{apierrors.NewUnauthorized("no"), ReasonForbidden},
		{apierrors.NewNotFound(gr, "x"), ReasonNotPresent},
		{context.DeadlineExceeded, ReasonTimedOut},
		{&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, ReasonUnreachable},
		{fmt.Errorf("something else"), ReasonFailed},
	} {
		if got := Classify(tc.err); got != tc.want {
			t.Errorf("Classify(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestRunCancelledLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, Deps{Clusters: fakeSource{"global": controlPlane()}, Dynamic: dynFake},
		Config{Namespace: ns, Targets: []fleet.Target{{Context: "global", Role: fleet.RoleControlPlane, Release: "skoala"}}, MaxSize: DefaultMaxSize}, filepath.Join(dir, "b.zip"))
	if err == nil {
		t.Fatal("no error from a cancelled run")
	}
	if e, _ := os.ReadDir(dir); len(e) != 0 {
		t.Errorf("files left: %v", e)
	}
}
