package upgrade

import (
	"context"

	"k8s.io/client-go/dynamic"

	"github.com/skoala-dev/kubectl-skoala/pkg/change"
)

// dryRunCRDs adds to w's plan the diff of the CRDs it would apply and a warning for each it would keep
// (or one warning when the dry run could not be made).
func dryRunCRDs(ctx context.Context, w *work, force bool) {
	if len(w.crds) == 0 || w.cluster == nil || w.cluster.Config == nil {
		return
	}
	var files [][]byte
	for _, f := range w.crds {
		files = append(files, f.Data)
	}
	dyn, err := dynamic.NewForConfig(w.cluster.Config)
	var diffs []change.FileDiff
	var warnings []string
	if err == nil {
		diffs, warnings, err = change.CRDDryRun(ctx, dyn, files, force)
	}
	w.plan.Diff = append(w.plan.Diff, diffs...)
	w.plan.Warnings = append(w.plan.Warnings, warnings...)
	if err != nil {
		w.plan.Warnings = append(w.plan.Warnings, "the CRD changes could not be shown: "+err.Error())
	}
}
