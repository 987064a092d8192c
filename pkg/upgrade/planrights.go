package upgrade

import (
	authv1 "k8s.io/api/authorization/v1"

	"github.com/skoala-dev/kubectl-skoala/pkg/change"
	"github.com/skoala-dev/kubectl-skoala/pkg/doctor"
	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/upgradepath"
)

// planRights is Rights of every release the plan changes, by context.
func planRights(cfg Config, ws []*work) map[string][]authv1.ResourceAttributes {
	out := map[string][]authv1.ResourceAttributes{}
	for _, w := range ws {
		p := w.plan
		if p.Action != ActionUpgrade && p.Action != ActionInstall && p.Action != ActionResume {
			continue
		}
		in := change.RightsInput{Namespace: cfg.Namespace, Release: w.target.Release, Manifest: w.manifest,
			Install: p.Action == ActionInstall, Atomic: cfg.Atomic, CleanupOnFail: cfg.CleanupOnFail, PruneHistory: cfg.MaxHistory > 0,
			Registry: cfg.Scope.Registry, ControlPlane: w.target.Role == fleet.RoleControlPlane}
		if b := baseRelease(w); b != nil && !in.Install {
			in.Previous = b.Manifest
		}
		if p.Action == ActionResume {
			in.Resumed = append(in.Resumed, in.Previous)
			if w.last != nil {
				in.Resumed = append(in.Resumed, w.last.Manifest)
			}
		}
		for _, s := range p.Steps {
			if s.Kind == StepJobs {
				in.Jobs = append(in.Jobs, upgradepath.AdmissionJobs...)
			}
		}
		for _, f := range w.crds {
			in.CRDs = append(in.CRDs, f.Data)
		}
		if w.chart != nil {
			for _, f := range w.chart.CRDFiles() {
				in.ChartCRDs = append(in.ChartCRDs, f.Data)
			}
		}
		out[p.Context] = append(out[p.Context], change.Rights(in, change.ClusterKindMapping(w.cluster))...)
	}
	return out
}

// doctorAccess is rights in the permissions check's terms.
func doctorAccess(rights map[string][]authv1.ResourceAttributes) map[string][]doctor.Access {
	if rights == nil {
		return nil
	}
	out := make(map[string][]doctor.Access, len(rights))
	for ctx, list := range rights {
		acc := make([]doctor.Access, 0, len(list))
		for _, r := range list {
			acc = append(acc, doctor.Access{Verb: r.Verb, Group: r.Group, Resource: r.Resource, Namespace: r.Namespace, Name: r.Name})
		}
		out[ctx] = acc
	}
	return out
}
