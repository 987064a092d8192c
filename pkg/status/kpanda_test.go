package status

import (
	"context"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/golden"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

// unreached is a registered cluster without a credential, as --fleet kpanda's cluster source gives it.
type unreached struct{ reason, hint string }

func (e *unreached) Error() string { return e.reason }
func (e *unreached) Hint() string  { return e.hint }

type registrySource struct {
	fakeSource
	missing map[string]error
}

func (s registrySource) Cluster(name string) (*kube.Cluster, error) {
	if err, ok := s.missing[name]; ok {
		return nil, err
	}
	return s.fakeSource.Cluster(name)
}

// TestGoldenKpanda renders a --fleet kpanda report: a registered cluster reached through a context of
// another name without skoala-init (listed, not a problem), and one without a credential (a problem).
func TestGoldenKpanda(t *testing.T) {
	src := registrySource{
		fakeSource: fakeSource{"global": controlPlane("0.28.1", 1), "ws-a": fake.NewSimpleClientset()},
		missing: map[string]error{"workspace-3": &unreached{reason: "no credential (no context of the kubeconfig reaches kube-system UID u3)",
			hint: "add a context for it to the kubeconfig, or pass --dce-url and --dce-token-file"}},
	}
	targets := []fleet.Target{
		{Context: "global", Role: fleet.RoleControlPlane, Release: "skoala"},
		{Context: "ws-a", Role: fleet.RoleWorkspace, Release: "skoala-init", Registered: "workspace-1"},
		{Context: "workspace-3", Role: fleet.RoleWorkspace, Release: "skoala-init", Registered: "workspace-3"},
	}
	rep := Gather(context.Background(), src, Config{Namespace: ns, Targets: targets, ClusterTimeout: time.Second, SkipComponents: true})
	if rep.Problems != 1 {
		t.Errorf("problems = %d, want 1 (the cluster without a credential; no skoala-init is none)", rep.Problems)
	}
	if r := rep.Clusters[1].Releases[0]; r.Status != StatusNoInit || r.Problem() {
		t.Errorf("ws-a: %+v", r)
	}
	if c := rep.Clusters[2]; c.Reachable || c.Hint == "" {
		t.Errorf("workspace-3: %+v", c)
	}
	golden.AssertModel(t, "../cmd/status/testdata/status-kpanda.json", rep)
}
