package rollback

import (
	authv1 "k8s.io/api/authorization/v1"

	"github.com/skoala-dev/kubectl-skoala/pkg/change"
)

// Rights (issue 24 §3): every API right the rollback of one release uses, derived as upgrade derives its
// plan's (change.Rights): Helm's release Secrets, the lock's Lease, kpanda's Jobs, the Jobs deleted first,
// and the objects of the revision rolled back to and of the one it replaces (created, patched, deleted;
// cleanup-on-fail undoes what it created). A restore is an atomic helm upgrade to a backup's chart, whose
// manifest Helm renders only then: its objects are judged by the current revision's. An uninstall deletes
// every object of the release and its release Secrets. Execute asks about each before the first change.
func rights(cfg Config, rs ReleaseState, rp *ReleasePlan) []authv1.ResourceAttributes {
	in := change.RightsInput{Namespace: cfg.Namespace, Release: rp.Release, CleanupOnFail: true, PruneHistory: cfg.MaxHistory > 0}
	if last := rs.Last(); last != nil {
		in.Previous = last.Manifest
	}
	switch rp.Action {
	case ActionRollback, ActionRecover:
		if to := rs.Revision(rp.ToRevision); to != nil {
			in.Manifest = to.Manifest
			in.Jobs = jobsOf(to.Objects())
		}
	case ActionRestore:
		in.Manifest, in.Atomic = in.Previous, true
	}
	out := change.Rights(in, change.ClusterKindMapping(rs.Cluster))
	if rp.Action == ActionUninstall {
		out = append(out, authv1.ResourceAttributes{Namespace: cfg.Namespace, Verb: "delete", Resource: "secrets"})
	}
	return out
}
