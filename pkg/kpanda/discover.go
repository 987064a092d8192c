package kpanda

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/client-go/dynamic"

	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

// Deps are the clients discovery uses.
type Deps struct {
	// Cluster gives the clients of a kubeconfig context.
	Cluster func(context string) (*kube.Cluster, error)
	// FromKubeconfig builds the clients of a kubeconfig held in memory (the kpanda API's).
	FromKubeconfig func(name string, kubeconfig []byte) (*kube.Cluster, error)
	// DCE is the kpanda API (nil without --dce-url and --dce-token-file).
	DCE *DCE
}

// Config says where to look.
type Config struct {
	// ControlPlane is the context of the global cluster (its Cluster objects).
	ControlPlane string
	// Contexts are the kubeconfig's other contexts, each probed once for its identity.
	Contexts       []string
	Timeout        time.Duration
	MaxConcurrency int
}

// Found is the registered fleet with its credentials.
type Found struct {
	Members    []Member
	Mismatches []Mismatch
	// FromDCE holds the clients built from the kpanda API's kubeconfigs, by cluster name (memory only).
	FromDCE map[string]*kube.Cluster
}

// Registered lists the Cluster objects of the global cluster (one request).
func Registered(ctx context.Context, cp *kube.Cluster) ([]Cluster, error) {
	dyn := cp.Dynamic
	if dyn == nil {
		if cp.Config == nil {
			// Clients of a test with no dynamic client: no registry to read.
			return nil, &NotInstalledError{Err: errors.New("no dynamic client")}
		}
		var err error
		if dyn, err = dynamic.NewForConfig(cp.Config); err != nil {
			return nil, err
		}
	}
	return List(ctx, dyn)
}

// Probes reads each context's identity, all at once (one GET each). A context whose clients cannot be
// built is a probe with an error.
func Probes(ctx context.Context, deps Deps, cfg Config, contexts []string) []Probe {
	out := make([]Probe, len(contexts))
	kube.ForEach(ctx, contexts, cfg.MaxConcurrency, cfg.Timeout, func(ctx context.Context, i int, name string) {
		out[i].Context = name
		kc, err := deps.Cluster(name)
		if err != nil {
			out[i].Err = err
			return
		}
		out[i].UID, out[i].Err = kube.KubeSystemUID(ctx, kc.Client)
	})
	return out
}

// Discover lists the registered clusters on the control plane cp and finds a proven credential for every
// workspace cluster: a context whose kube-system UID is the Cluster's kubeSystemID, else (with deps.DCE) the
// kubeconfig of the kpanda API, proven the same way. The Cluster list and the identity GETs of the contexts
// go out together: one round of requests, not two. A failed list is the error (the registry is needed).
func Discover(ctx context.Context, deps Deps, cfg Config, cp *kube.Cluster) (*Found, []Cluster, error) {
	var contexts []string
	for _, c := range cfg.Contexts {
		if c != cfg.ControlPlane {
			contexts = append(contexts, c)
		}
	}
	var registered []Cluster
	var listErr error
	listed := make(chan struct{})
	go func() {
		defer close(listed)
		lctx := ctx
		if cfg.Timeout > 0 {
			var cancel context.CancelFunc
			lctx, cancel = context.WithTimeout(ctx, cfg.Timeout)
			defer cancel()
		}
		registered, listErr = Registered(lctx, cp)
	}()
	probes := Probes(ctx, deps, cfg, contexts)
	<-listed
	if listErr != nil {
		return nil, nil, listErr
	}
	f := match(ctx, deps, cfg, registered, probes)
	return f, registered, nil
}

// match finds the members' credentials among the probes, then (with deps.DCE) through the kpanda API.
func match(ctx context.Context, deps Deps, cfg Config, registered []Cluster, probes []Probe) *Found {
	members, mismatches := Match(registered, probes)
	f := &Found{Members: members, Mismatches: mismatches, FromDCE: map[string]*kube.Cluster{}}
	if deps.DCE == nil || deps.FromKubeconfig == nil {
		return f
	}
	var todo []int
	for i, m := range members {
		if m.Reason == ReasonNoCredential {
			todo = append(todo, i)
		}
	}
	clients := make([]*kube.Cluster, len(todo))
	kube.ForEach(ctx, todo, cfg.MaxConcurrency, cfg.Timeout, func(ctx context.Context, j int, i int) {
		clients[j] = fromDCE(ctx, deps, &f.Members[i])
	})
	for j, i := range todo {
		if clients[j] != nil {
			f.FromDCE[f.Members[i].Cluster.Name] = clients[j]
		}
	}
	return f
}

// fromDCE gets the member's kubeconfig from the kpanda API and proves it reaches the Cluster; it updates m
// and returns the clients (nil when not proven).
func fromDCE(ctx context.Context, deps Deps, m *Member) *kube.Cluster {
	name := m.Cluster.Name
	data, err := deps.DCE.Kubeconfig(ctx, name)
	if err != nil {
		m.Reason, m.Detail = ReasonNoCredential, fmt.Sprintf("%s; %s", m.Detail, err)
		if h, ok := err.(interface{ Hint() string }); ok {
			m.Hint = h.Hint()
		}
		return nil
	}
	kc, err := deps.FromKubeconfig(name, data)
	clear(data)
	if err != nil {
		m.Reason, m.Detail, m.Hint = ReasonNoCredential, fmt.Sprintf("the kubeconfig the kpanda API gave for %s cannot be used", name), "get a new certificate for the cluster in DCE"
		return nil
	}
	uid, err := kube.KubeSystemUID(ctx, kc.Client)
	if err != nil {
		msg, hint := kube.Explain(err, "get", "namespace kube-system")
		m.Reason, m.Detail, m.Hint = ReasonUnreachable, "with the kpanda API's kubeconfig: "+msg, hint
		return nil
	}
	if uid != m.Cluster.KubeSystemID {
		m.Reason, m.Detail = ReasonMismatch, fmt.Sprintf("the kpanda API's kubeconfig for %s reaches kube-system UID %s, not %s", name, uid, m.Cluster.KubeSystemID)
		m.Hint = "the platform's registry and its kubeconfig disagree: check the cluster in DCE"
		return nil
	}
	m.Reason, m.Detail, m.Hint, m.FromDCE = "", "", "", true
	return kc
}
