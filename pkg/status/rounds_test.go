package status

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

// TestControlPlaneReadsTheJournalBesideTheReleases checks the one round of requests on the control plane:
// the journal's GET is in flight while the release records are listed (issue 25, "One round of requests
// per cluster"). The fake API server holds the journal's answer until the release list arrives; read one
// after the other, the journal's request waits its full time out and the test fails.
func TestControlPlaneReadsTheJournalBesideTheReleases(t *testing.T) {
	releaseSeen := make(chan struct{})
	var once sync.Once
	var overlapped bool
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.Contains(r.URL.Path, "/configmaps/"): // the journal
			select {
			case <-releaseSeen:
				mu.Lock()
				overlapped = true
				mu.Unlock()
			case <-time.After(2 * time.Second):
			}
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`))
		case strings.HasSuffix(r.URL.Path, "/secrets"):
			once.Do(func() { close(releaseSeen) })
			_, _ = w.Write([]byte(`{"kind":"SecretList","apiVersion":"v1","items":[]}`))
		default:
			_, _ = w.Write([]byte(`{"kind":"ConfigMapList","apiVersion":"v1","items":[]}`))
		}
	}))
	defer srv.Close()
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	src := roundSource{"global": &kube.Cluster{Context: "global", Client: cs}}
	rep := Gather(context.Background(), src, Config{Namespace: ns, Targets: fleet.Of("global"), ClusterTimeout: 10 * time.Second, Journal: true, Driver: "secret"})
	if len(rep.Clusters) != 1 || !rep.Clusters[0].Reachable {
		t.Fatalf("report %+v", rep.Clusters)
	}
	mu.Lock()
	defer mu.Unlock()
	if !overlapped {
		t.Error("the journal was read before the release records, not beside them (two rounds instead of one)")
	}
}

type roundSource map[string]*kube.Cluster

func (s roundSource) Cluster(name string) (*kube.Cluster, error) { return s[name], nil }

// failSource fails every cluster: a Gather that reads nothing of it shows the rows it was given.
type failSource struct{ asked []string }

func (s *failSource) Cluster(name string) (*kube.Cluster, error) {
	s.asked = append(s.asked, name)
	return nil, &kube.UnknownContextError{Context: name}
}

// TestPrefetchedRowsAreNotReadAgain: a row read beside the discovery (Config.Prefetched) counts for the
// target of the same context, role, release and registered name, and only for it.
func TestPrefetchedRowsAreNotReadAgain(t *testing.T) {
	ws := fleet.Target{Context: "workspace-1", Role: fleet.RoleWorkspace, Release: "skoala-init", Registered: "ws-one"}
	row := Cluster{Context: ws.Context, Role: ws.Role, Registered: ws.Registered, Reachable: true, release: ws.Release,
		Releases: []Release{{Name: "skoala-init", Namespace: ns, Installed: true, Version: "0.28.0", Status: "deployed"}}}
	src := &failSource{}
	rep := Gather(context.Background(), src, Config{Namespace: ns, Targets: []fleet.Target{ws}, Prefetched: []Cluster{row}, ClusterTimeout: time.Second})
	if len(src.asked) != 0 || !rep.Clusters[0].Reachable || rep.Clusters[0].Releases[0].Version != "0.28.0" {
		t.Errorf("asked %v; row %+v", src.asked, rep.Clusters[0])
	}
	// The same context proven as another registered cluster, or an unreachable row: read again.
	for _, pre := range []Cluster{
		func() Cluster { r := row; r.Registered = "ws-two"; return r }(),
		func() Cluster { r := row; r.Reachable = false; return r }(),
	} {
		src := &failSource{}
		rep := Gather(context.Background(), src, Config{Namespace: ns, Targets: []fleet.Target{ws}, Prefetched: []Cluster{pre}, ClusterTimeout: time.Second})
		if len(src.asked) != 1 || rep.Clusters[0].Reachable {
			t.Errorf("prefetched %+v: asked %v, row %+v", pre, src.asked, rep.Clusters[0])
		}
	}
}
