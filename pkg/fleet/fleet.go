// Package fleet is the fleet the verbs look at, with no CLI in sight: the clusters (Target: a kubeconfig
// context, its role and the release expected there), their roles, the source of their clients, and how
// a selection (a control plane, workspaces, every context) becomes the list of targets. status, doctor,
// upgrade and backup all take []Target.
package fleet

import (
	"fmt"
	"strings"

	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
	"github.com/skoala-dev/kubectl-skoala/pkg/product"
)

// Roles of a cluster.
const (
	// RoleControlPlane is the cluster of release skoala (the current context, or --context).
	RoleControlPlane = "control-plane"
	// RoleWorkspace is a cluster of release skoala-init.
	RoleWorkspace = "workspace"
)

// Target is one cluster of the fleet and the release expected there.
type Target struct {
	Context string `json:"context"`
	// Role is RoleControlPlane or RoleWorkspace.
	Role    string `json:"role"`
	Release string `json:"release"`
	// Registered is the name of the cluster in DCE's registry (--fleet kpanda; "" otherwise).
	Registered string `json:"registered,omitempty"`
}

// Chart is the product chart of the target's role: skoala on the control plane, skoala-init on a workspace.
func (t Target) Chart() string {
	if t.Role == RoleWorkspace {
		return product.ChartInit
	}
	return product.ChartSkoala
}

// ClusterSource gives the clients of a kubeconfig context (*kube.Factory implements it; tests use fakes).
type ClusterSource interface {
	Cluster(context string) (*kube.Cluster, error)
}

// Selection is which clusters a verb looks at, as the user chose them.
type Selection struct {
	// ControlPlane is the control-plane context ("" with NoControlPlane).
	ControlPlane string
	// NoControlPlane leaves the control plane out (workspaces only).
	NoControlPlane bool
	// Workspaces are the workspace contexts as given (each may be a comma list).
	Workspaces []string
	// AllContexts makes every other context of the kubeconfig (Contexts) a workspace.
	AllContexts bool
	Contexts    []string
	// Release and InitRelease are the release names of the two roles.
	Release     string
	InitRelease string
}

// ConflictError is a selection that names one context in two roles.
type ConflictError struct{ Context string }

func (e *ConflictError) Error() string {
	return fmt.Sprintf("context %q is both the control plane and a workspace: pick the control plane with --context", e.Context)
}

// Resolve turns a selection into the targets: the control plane first, then the workspaces in the order
// given (Contexts' order for AllContexts). A context named twice is looked at once; the control plane named
// as a workspace is a *ConflictError (skipped silently with AllContexts).
func (s Selection) Resolve() ([]Target, error) {
	var out []Target
	if !s.NoControlPlane {
		out = append(out, Target{Context: s.ControlPlane, Role: RoleControlPlane, Release: s.Release})
	}
	seen := map[string]bool{s.ControlPlane: true}
	ws := s.Contexts
	if !s.AllContexts {
		ws = nil
		for _, w := range s.Workspaces {
			for _, p := range strings.Split(w, ",") {
				if p = strings.TrimSpace(p); p != "" {
					ws = append(ws, p)
				}
			}
		}
	}
	for _, w := range ws {
		if seen[w] {
			if w == s.ControlPlane && !s.AllContexts {
				return nil, &ConflictError{Context: w}
			}
			continue
		}
		seen[w] = true
		out = append(out, Target{Context: w, Role: RoleWorkspace, Release: s.InitRelease})
	}
	return out, nil
}

// Of builds the targets of a control plane (its context may be "" to leave it out) and workspaces, with
// the product's release names.
func Of(controlPlane string, workspaces ...string) []Target {
	var out []Target
	if controlPlane != "" {
		out = append(out, Target{Context: controlPlane, Role: RoleControlPlane, Release: product.ReleaseSkoala})
	}
	for _, w := range workspaces {
		out = append(out, Target{Context: w, Role: RoleWorkspace, Release: product.ReleaseInit})
	}
	return out
}
