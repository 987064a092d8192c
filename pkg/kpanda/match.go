package kpanda

import (
	"fmt"
	"sort"
)

// Probe is the identity one kubeconfig context reaches: its kube-system UID, or why it could not be read.
type Probe struct {
	Context string
	UID     string
	Err     error
}

// Reasons a registered workspace cluster is not reached (the row says it, the hint says what to do).
const (
	ReasonNoCredential = "no credential"
	ReasonNotRunning   = "not running"
	ReasonNoIdentity   = "no kubeSystemID"
	ReasonUnreachable  = "unreachable"
	ReasonMismatch     = "identity mismatch"
)

// Member is one registered workspace cluster and the credential found for it.
type Member struct {
	Cluster Cluster
	// Context is the kubeconfig context whose kube-system UID is the Cluster's kubeSystemID ("" when none).
	Context string
	// FromDCE says the credential is the kubeconfig of the kpanda API (held in memory only).
	FromDCE bool
	// Reason, Detail and Hint say why the cluster is not reached ("" when it is).
	Reason, Detail, Hint string
}

// Reached reports whether a proven credential was found.
func (m Member) Reached() bool { return m.Reason == "" }

// Mismatch is a context named like a registered Cluster that reaches another cluster: kubeconfigs downloaded
// from DCE name their contexts after the clusters, so such a context would act on the wrong cluster.
type Mismatch struct {
	Context string
	// Want is the Cluster's kubeSystemID, Got the UID the context reaches, GotCluster the Cluster registered
	// with Got ("" when none).
	Want, Got, GotCluster string
}

func (m Mismatch) Error() string {
	reaches := "a cluster kpanda does not know"
	if m.GotCluster != "" {
		reaches = fmt.Sprintf("registered cluster %q", m.GotCluster)
	}
	return fmt.Sprintf("context %q is named like registered cluster %q but reaches %s (kube-system UID %s, want %s)", m.Context, m.Context, reaches, m.Got, m.Want)
}

// HintNoCredential is what to do for a registered cluster without a credential.
const HintNoCredential = "add a context for it to the kubeconfig (DCE: Container Management > Clusters > Get Certificate), or pass --dce-url and --dce-token-file"

// Match finds, for every registered workspace cluster, the context whose kube-system UID is its
// kubeSystemID (the context named after the cluster first, then by name), and every context named like a
// registered Cluster (the host included) that reaches another cluster.
func Match(registered []Cluster, probes []Probe) ([]Member, []Mismatch) {
	byName := map[string]Cluster{}
	byID := map[string]string{}
	for _, c := range registered {
		byName[c.Name] = c
		if c.KubeSystemID != "" {
			byID[c.KubeSystemID] = c.Name
		}
	}
	ps := append([]Probe(nil), probes...)
	sort.Slice(ps, func(i, j int) bool { return ps[i].Context < ps[j].Context })
	var mismatches []Mismatch
	bad := map[string]bool{}
	unread := 0
	for _, p := range ps {
		if p.UID == "" {
			unread++
			continue
		}
		if c, ok := byName[p.Context]; ok && c.KubeSystemID != "" && c.KubeSystemID != p.UID {
			mismatches = append(mismatches, Mismatch{Context: p.Context, Want: c.KubeSystemID, Got: p.UID, GotCluster: byID[p.UID]})
			bad[p.Context] = true
		}
	}
	var members []Member
	for _, c := range Workspaces(registered) {
		m := Member{Cluster: c}
		switch {
		case !c.Running():
			m.Reason, m.Detail = ReasonNotRunning, fmt.Sprintf("kpanda reports the cluster %s", c.State())
			m.Hint = "see the cluster in DCE's Container Management; it is left out until it runs"
		case c.KubeSystemID == "":
			m.Reason, m.Detail = ReasonNoIdentity, "the Cluster object has no status.kubeSystemID, so no credential can be proven"
			m.Hint = "see the cluster in DCE's Container Management (kpanda has not read it yet)"
		default:
			for _, p := range ps {
				if p.UID == c.KubeSystemID && !bad[p.Context] && (m.Context == "" || p.Context == c.Name) {
					m.Context = p.Context
				}
			}
			if m.Context == "" {
				m.Reason, m.Hint = ReasonNoCredential, HintNoCredential
				m.Detail = fmt.Sprintf("no context of the kubeconfig reaches kube-system UID %s", c.KubeSystemID)
				if unread > 0 {
					m.Detail += fmt.Sprintf(" (%d context(s) could not be read)", unread)
				}
			}
		}
		members = append(members, m)
	}
	return members, mismatches
}

// CheckWorkspace checks the identity a workspace context reaches against the registry: a context named
// like a registered Cluster must reach it; any other context must reach some registered workspace cluster.
func CheckWorkspace(registered []Cluster, context, uid string) error {
	var byUID *Cluster
	for i, c := range registered {
		if c.Name == context && c.KubeSystemID != "" && c.KubeSystemID != uid {
			got := ""
			for _, o := range registered {
				if o.KubeSystemID == uid {
					got = o.Name
				}
			}
			return Mismatch{Context: context, Want: c.KubeSystemID, Got: uid, GotCluster: got}
		}
		if c.KubeSystemID == uid {
			byUID = &registered[i]
		}
	}
	switch {
	case byUID == nil:
		return fmt.Errorf("workspace context %q reaches kube-system UID %s, which no Cluster of clusters.cluster.kpanda.io records", context, uid)
	case byUID.Host:
		return fmt.Errorf("workspace context %q reaches the host cluster %q, not a workspace cluster", context, byUID.Name)
	}
	return nil
}

// UnreachedError is a registered workspace cluster without a proven credential: what a verb reports in
// its row.
type UnreachedError struct{ Member Member }

func (e *UnreachedError) Error() string {
	if e.Member.Detail == "" {
		return "registered cluster: " + e.Member.Reason
	}
	// "reason (detail)": a "credential:" would read as a key and value to the redaction of every output.
	return e.Member.Reason + " (" + e.Member.Detail + ")"
}

// Hint says what to do.
func (e *UnreachedError) Hint() string { return e.Member.Hint }
