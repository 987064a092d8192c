package bundle

import (
	"bytes"
	"testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/bundle"
	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/golden"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
)

func TestSummaryGoldens(t *testing.T) {
	sum := &bundle.Summary{Schema: bundle.SchemaVersion, File: "skoala-bundle-20261201T200000Z.zip", Bytes: 183500, MaxSize: 100 << 20, Files: 61,
		Clusters: []bundle.ClusterSummary{
			{Context: "global", Role: fleet.RoleControlPlane, Release: "skoala", Dir: "global", Reachable: true, Files: 25, Bytes: 120000},
			{Context: "workspace-1", Role: fleet.RoleWorkspace, Release: "skoala-init", Dir: "workspace-1", Reachable: true, Files: 18, Bytes: 40000, Gaps: 2},
			{Context: "workspace-2", Role: fleet.RoleWorkspace, Release: "skoala-init", Dir: "workspace-2", Error: "connection refused: 127.0.0.1:34200", Gaps: 1},
		},
		Skipped: []bundle.Skip{
			{Part: "upgrade-runs", Reason: bundle.ReasonNotPresent, Detail: "no upgrade journal exists (this version keeps none)"},
			{Cluster: "workspace-1", Part: "objects/secrets.json", Reason: bundle.ReasonForbidden, Detail: "forbidden (403): secrets is forbidden"},
			{Cluster: "workspace-1", Part: "crds.json", Reason: bundle.ReasonForbidden, Detail: "forbidden (403): customresourcedefinitions is forbidden"},
			{Cluster: "workspace-2", Part: "cluster", Reason: bundle.ReasonUnreachable, Detail: "connection refused: 127.0.0.1:34200"},
		},
		Cut:  []bundle.Cut{{Path: "global/logs/hive-0/hive.log", Bytes: 2 << 20, KeptBytes: 300000, Reason: bundle.ReasonOverSize}, {Path: "global/logs/hive-0/sidecar.log", Bytes: 1 << 20, Reason: bundle.ReasonOverSize}},
		Gaps: 3,
	}
	for _, f := range []string{"txt", "json", "yaml"} {
		t.Run(f, func(t *testing.T) {
			var b bytes.Buffer
			var err error
			switch f {
			case "json":
				err = render.View(sum, writeTable).WriteJSON(&b)
			case "yaml":
				err = render.View(sum, writeTable).WriteYAML(&b)
			default:
				err = render.View(sum, writeTable).WriteTable(&b, render.NewPalette(&b, false))
			}
			if err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, "summary."+f, b.Bytes())
		})
	}
	t.Run("complete", func(t *testing.T) {
		var b bytes.Buffer
		s := &bundle.Summary{Schema: bundle.SchemaVersion, File: "b.zip", Bytes: 2048, MaxSize: 1 << 20, Files: 3, Clusters: sum.Clusters[:1]}
		_ = render.View(s, writeTable).WriteTable(&b, render.NewPalette(&b, false))
		golden.Assert(t, "summary-complete.txt", b.Bytes())
	})
}
