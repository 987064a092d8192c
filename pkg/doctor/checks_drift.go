package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/skoala-dev/kubectl-skoala/pkg/verify"
)

// Check IDs of the drift checks (issue 23): one per release, pointing at 'verify'.
const (
	IDCPDrift = "control-plane.drift"
	IDWSDrift = "workspaces.drift"
)

const driftDescription = "what runs is what the release installed (no drift)"

// checkDrift compares the release's manifest with the live objects of the kinds doctor reads (workloads,
// Services, ConfigMaps, Secrets, ServiceAccounts, Jobs), over the fields the chart sets. Drift is a
// warning: the next upgrade reverts it, and 'verify' shows every field.
func checkDrift(ctx context.Context, e *Env) Outcome {
	rel, err := e.Release(ctx)
	if err != nil {
		return Skip("the release cannot be read")
	}
	r := verify.DriftOf(ctx, e.Client(), &verify.TypedReader{Client: e.Client()}, e.Config.Namespace, rel)
	var diffs []string
	for _, d := range r.Drift {
		for _, f := range d.Fields {
			diffs = append(diffs, d.String()+" "+f.Path)
		}
	}
	for _, m := range r.Missing {
		diffs = append(diffs, m.String()+" missing")
	}
	for _, m := range r.NotInManifest {
		diffs = append(diffs, m.String()+" not in the manifest")
	}
	if len(diffs) == 0 {
		return OK("%d objects of release %s match its manifest", r.Objects, rel.Name)
	}
	shown := diffs
	if len(shown) > 3 {
		shown = append(shown[:3:3], fmt.Sprintf("%d more", len(diffs)-3))
	}
	return Warn(fmt.Sprintf("see every field, with the chart's and the live value, with '%s': the next upgrade reverts these changes", e.verifyCommand()),
		"release %s differs from its manifest: %s", rel.Name, strings.Join(shown, ", "))
}

// verifyCommand is the verify verb for the check's cluster.
func (e *Env) verifyCommand() string { return e.verbCommand("verify") }
