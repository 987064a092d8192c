package kpanda

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
	"github.com/skoala-dev/kubectl-skoala/pkg/redact"
)

func obj(name string, labels map[string]any, status map[string]any) *unstructured.Unstructured {
	o := map[string]any{"apiVersion": "cluster.kpanda.io/v1alpha1", "kind": "Cluster", "metadata": map[string]any{"name": name}}
	if labels != nil {
		o["metadata"].(map[string]any)["labels"] = labels
	}
	if status != nil {
		o["status"] = status
	}
	return &unstructured.Unstructured{Object: o}
}

func TestParse(t *testing.T) {
	t.Run("reads both spellings of the kube-system ID, the phase, the Running condition and the host label", func(t *testing.T) {
		a := Parse(obj("a", nil, map[string]any{"kubeSystemID": "uid-a", "phase": "Running", "kubernetesVersion": "v1.27.5"}))
		b := Parse(obj("b", nil, map[string]any{"kubeSystemId": "uid-b", "conditions": []any{map[string]any{"type": "Running", "status": "False"}}}))
		h := Parse(obj("g", map[string]any{HostLabel: ""}, nil))
		if a.KubeSystemID != "uid-a" || !a.Running() || a.Version != "v1.27.5" {
			t.Errorf("a = %+v", a)
		}
		if b.KubeSystemID != "uid-b" || b.Running() || b.State() != "Running=False" {
			t.Errorf("b = %+v", b)
		}
		if !h.Host || h.KubeSystemID != "" || !h.Running() || h.State() != "Unknown" {
			t.Errorf("host = %+v", h)
		}
	})
	t.Run("tolerates fields of the wrong type", func(t *testing.T) {
		c := Parse(obj("x", nil, map[string]any{"kubeSystemID": 7, "phase": []any{}, "conditions": "no"}))
		if c.Name != "x" || c.KubeSystemID != "" || c.Phase != "" {
			t.Errorf("c = %+v", c)
		}
	})
}

func TestList(t *testing.T) {
	scheme := runtime.NewScheme()
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(scheme, map[schema.GroupVersionResource]string{GVR: "ClusterList"},
		obj("workspace-2", nil, map[string]any{"kubeSystemID": "u2", "phase": "Running"}),
		obj("global", map[string]any{HostLabel: "true"}, map[string]any{"kubeSystemID": "u0"}),
		obj("workspace-1", nil, map[string]any{"kubeSystemID": "u1"}))
	cs, err := List(context.Background(), dyn)
	if err != nil {
		t.Fatal(err)
	}
	ws := Workspaces(cs)
	if len(cs) != 3 || len(ws) != 2 || ws[0].Name != "workspace-1" || ws[1].Name != "workspace-2" {
		t.Fatalf("clusters %+v, workspaces %+v", cs, ws)
	}
}

func TestMatch(t *testing.T) {
	reg := []Cluster{
		{Name: "global", KubeSystemID: "u0", Host: true},
		{Name: "workspace-1", KubeSystemID: "u1", Phase: "Running"},
		{Name: "workspace-2", KubeSystemID: "u2", Phase: "Running"},
		{Name: "workspace-3", KubeSystemID: "u3"},
		{Name: "down", KubeSystemID: "u4", Phase: "Failed"},
		{Name: "new"},
	}
	t.Run("finds each cluster by identity, prefers the context named after it, and names the rest", func(t *testing.T) {
		ms, bad := Match(reg, []Probe{{Context: "a-ws1", UID: "u1"}, {Context: "workspace-1", UID: "u1"}, {Context: "ws2", UID: "u2"}, {Context: "gone", Err: errors.New("refused")}})
		if len(bad) != 0 {
			t.Fatalf("mismatches %v", bad)
		}
		got := map[string]Member{}
		for _, m := range ms {
			got[m.Cluster.Name] = m
		}
		if len(ms) != 5 || got["workspace-1"].Context != "workspace-1" || got["workspace-2"].Context != "ws2" || !got["workspace-2"].Reached() {
			t.Fatalf("members %+v", ms)
		}
		if m := got["workspace-3"]; m.Reason != ReasonNoCredential || !strings.Contains(m.Detail, "u3") || !strings.Contains(m.Detail, "1 context(s) could not be read") || m.Hint != HintNoCredential {
			t.Errorf("workspace-3 %+v", m)
		}
		if got["down"].Reason != ReasonNotRunning || got["new"].Reason != ReasonNoIdentity {
			t.Errorf("down %+v new %+v", got["down"], got["new"])
		}
	})
	t.Run("catches a context named like a cluster that reaches another one, and never uses it", func(t *testing.T) {
		ms, bad := Match(reg, []Probe{{Context: "workspace-2", UID: "u1"}})
		if len(bad) != 1 || bad[0].GotCluster != "workspace-1" || !strings.Contains(bad[0].Error(), `context "workspace-2" is named like registered cluster "workspace-2" but reaches registered cluster "workspace-1"`) {
			t.Fatalf("mismatches %v", bad)
		}
		for _, m := range ms {
			if m.Context != "" {
				t.Errorf("%s matched %s", m.Cluster.Name, m.Context)
			}
		}
	})
}

func TestCheckWorkspace(t *testing.T) {
	reg := []Cluster{{Name: "global", KubeSystemID: "u0", Host: true}, {Name: "workspace-1", KubeSystemID: "u1"}, {Name: "workspace-2", KubeSystemID: "u2"}}
	cases := []struct{ ctx, uid, want string }{
		{"workspace-1", "u1", ""},
		{"my-ws1", "u1", ""},
		{"workspace-1", "u2", `context "workspace-1" is named like registered cluster "workspace-1" but reaches registered cluster "workspace-2"`},
		{"other", "u9", "which no Cluster of clusters.cluster.kpanda.io records"},
		{"other", "u0", "reaches the host cluster"},
	}
	for _, c := range cases {
		err := CheckWorkspace(reg, c.ctx, c.uid)
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s/%s: %v, want %q", c.ctx, c.uid, err, c.want)
		}
	}
}

func TestParseURL(t *testing.T) {
	for _, ok := range []string{"https://dce.example.com", "http://127.0.0.1:8080/", "http://[::1]:80", "http://localhost:1"} {
		if _, err := ParseURL(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"http://dce.example.com", "ftp://x", "dce.example.com", "https://u:p@dce"} {
		if _, err := ParseURL(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestDCEKubeconfig(t *testing.T) {
	const token = "dce-token-canary"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "token "+r.Header.Get("Authorization"), http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/apis/kpanda.io/v1alpha1/clusters/workspace-3/kubeconfig" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"kubeConfigString":"apiVersion: v1\nkind: Config\n"}`))
	}))
	defer srv.Close()
	u, _ := ParseURL(srv.URL)
	d := &DCE{URL: u, Token: token}
	b, err := d.Kubeconfig(context.Background(), "workspace-3")
	if err != nil || !strings.HasPrefix(string(b), "apiVersion: v1") {
		t.Fatalf("%q %v", b, err)
	}
	_, err = (&DCE{URL: u, Token: "wrong"}).Kubeconfig(context.Background(), "workspace-3")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != 401 || strings.Contains(err.Error(), "wrong") || !strings.Contains(ae.Hint(), "--dce-token-file") {
		t.Errorf("err %v", err)
	}
}

func TestDiscover(t *testing.T) {
	ns := func(uid string) *fake.Clientset {
		return fake.NewSimpleClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-system", UID: types.UID(uid)}})
	}
	clients := map[string]*kube.Cluster{"global": {Client: ns("u0")}, "ws1": {Client: ns("u1")}, "ws2": {Client: ns("u2")}}
	deps := Deps{Cluster: func(c string) (*kube.Cluster, error) { return clients[c], nil }}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{GVR: "ClusterList"},
		obj("g", map[string]any{HostLabel: ""}, map[string]any{"kubeSystemID": "u0"}),
		obj("workspace-1", nil, map[string]any{"kubeSystemID": "u1"}),
		obj("workspace-2", nil, map[string]any{"kubeSystemId": "u2"}))
	cp := &kube.Cluster{Context: "global", Dynamic: dyn}
	f, reg, err := Discover(context.Background(), deps, Config{ControlPlane: "global", Contexts: []string{"global", "ws1", "ws2"}}, cp)
	if err != nil || len(reg) != 3 || len(f.Members) != 2 || f.Members[0].Context != "ws1" || f.Members[1].Context != "ws2" || len(f.Mismatches) != 0 {
		t.Fatalf("%+v %v %v", f, reg, err)
	}
	if _, _, err := Discover(context.Background(), deps, Config{ControlPlane: "global"}, &kube.Cluster{Context: "global"}); err == nil {
		t.Error("a control plane without the registry is no error")
	}
}

func TestUnreachedErrorSurvivesRedaction(t *testing.T) {
	err := &UnreachedError{Member: Member{Reason: ReasonNoCredential, Detail: "no context of the kubeconfig reaches kube-system UID u3", Hint: HintNoCredential}}
	if got := redact.String(err.Error()); got != "no credential (no context of the kubeconfig reaches kube-system UID u3)" {
		t.Errorf("redacted: %q", got)
	}
}

// TestDiscoverListsBesideTheIdentities checks the one round: the Cluster list on the control plane waits
// for a context's identity GET to arrive, which it does only when both are in flight together (listed
// first, in sequence, the list would wait its full time).
func TestDiscoverListsBesideTheIdentities(t *testing.T) {
	probed := make(chan struct{})
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{GVR: "ClusterList"},
		obj("workspace-1", nil, map[string]any{"kubeSystemID": "u1"}))
	var overlapped atomic.Bool
	dyn.PrependReactor("list", "clusters", func(k8stesting.Action) (bool, runtime.Object, error) {
		select {
		case <-probed:
			overlapped.Store(true)
		case <-time.After(2 * time.Second):
		}
		return false, nil, nil
	})
	ws := fake.NewSimpleClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-system", UID: "u1"}})
	var once sync.Once
	ws.PrependReactor("get", "namespaces", func(k8stesting.Action) (bool, runtime.Object, error) {
		once.Do(func() { close(probed) })
		return false, nil, nil
	})
	deps := Deps{Cluster: func(string) (*kube.Cluster, error) { return &kube.Cluster{Client: ws}, nil }}
	f, _, err := Discover(context.Background(), deps, Config{ControlPlane: "global", Contexts: []string{"ws1"}}, &kube.Cluster{Dynamic: dyn})
	if err != nil || len(f.Members) != 1 || !f.Members[0].Reached() {
		t.Fatalf("%+v %v", f, err)
	}
	if !overlapped.Load() {
		t.Error("the Cluster list went out before the identities, not beside them (two rounds instead of one)")
	}
}
