package doctor

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
	"github.com/skoala-dev/kubectl-skoala/pkg/semver"
	"github.com/skoala-dev/kubectl-skoala/pkg/upgradepath"
)

// Check IDs of the Kubernetes category.
const (
	IDReachable   = "kubernetes.reachable"
	IDKubeVersion = "kubernetes.version"
	IDPermissions = "kubernetes.permissions"
)

func kubernetesChecks() []Check {
	return []Check{
		{
			ID: IDReachable, Category: CatKubernetes, Scope: ScopeEachCluster,
			Description: "the API server answers",
			Run:         checkReachable,
		},
		{
			ID: IDKubeVersion, Category: CatKubernetes, Scope: ScopeEachCluster,
			Description: "Kubernetes version supported by skoala",
			Needs:       []string{IDReachable},
			Run:         checkKubeVersion,
		},
		{
			ID: IDPermissions, Category: CatKubernetes, Scope: ScopeEachCluster,
			Description: "permissions doctor and upgrade need",
			Needs:       []string{IDReachable},
			Run:         checkPermissions,
		},
	}
}

func checkReachable(ctx context.Context, e *Env) Outcome {
	if e.cs.connErr != nil {
		msg, hint := kube.Explain(e.cs.connErr, "", "")
		if e.Target.Registered != "" && e.Target.Context == e.Target.Registered {
			// A registered cluster with no context of its own (--fleet kpanda): the name is the registry's.
			return Fail(hint, "registered cluster %s: %s", e.Target.Registered, msg)
		}
		return Fail(hint, "context %s: %s", e.Target.Context, msg)
	}
	info, err := e.ServerVersion(ctx)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return Fail("is the cluster up? check the server address of context "+e.Target.Context+" (kubectl config view) and the network path to it",
				"the API server of context %s did not answer in time", e.Target.Context)
		}
		msg, hint := kube.Explain(err, "get", "/version")
		return Fail(hint, "the API server of context %s does not answer: %s", e.Target.Context, msg)
	}
	return OK("the API server answers (Kubernetes %s, %s)", info.GitVersion, e.Target.Role)
}

// kubeRange is the Kubernetes range DCE tested a skoala release with (domain brief §3.5).
type kubeRange struct {
	Skoala, Min, Max, Source string
}

// KubeMatrix is the compatibility matrix of the DCE release notes: each row holds from its skoala version up
// to the next row.
var KubeMatrix = []kubeRange{
	{Skoala: "0.38.1", Min: "1.23", Max: "1.29", Source: "DCE 5.0-20240630"},
	{Skoala: "0.47.1", Min: "1.23", Max: "1.30", Source: "DCE 5.0 v0.31.0-20250630"},
	{Skoala: "0.52.1", Min: "1.23", Max: "1.32", Source: "DCE 5.0 v0.37.0-20251231"},
	{Skoala: "0.57.0", Min: "1.23", Max: "1.35", Source: "DCE v0.44.0-20260831"},
}

// rangeFor returns the matrix row of a skoala version (the newest row at or below it), or nil.
func rangeFor(v string) *kubeRange {
	var best *kubeRange
	for i := range KubeMatrix {
		if semver.Compare(KubeMatrix[i].Skoala, v) <= 0 {
			best = &KubeMatrix[i]
		}
	}
	return best
}

// minorOf returns "1.25" of "v1.25.3-gke.1".
func minorOf(s string) (string, bool) {
	v, err := semver.Parse(s)
	if err != nil {
		return "", false
	}
	return fmt.Sprintf("%d.%d", v.Major(), v.Minor()), true
}

func minorLess(a, b string) bool { return semver.Compare(a+".0", b+".0") < 0 }

// skoalaVersionFor returns the version the check compares with (the target, else the installed one), the
// chart, and a phrase saying which.
func (e *Env) skoalaVersionFor(ctx context.Context) (version, chart, what string) {
	chart = e.chart()
	if e.Config.TargetVersion != "" && e.Config.Mode != ModeDefault {
		return semver.Normalize(e.Config.TargetVersion), chart, "target"
	}
	if e.Config.Mode == ModePreInstall {
		if rs, err := e.repo(ctx); err == nil && rs.idx != nil {
			if v := latestOf(rs.idx, chart); v != "" {
				return v, chart, "newest"
			}
		}
		return "", chart, ""
	}
	rel, err := e.Release(ctx)
	if err != nil {
		return "", chart, ""
	}
	return rel.ChartVersion, chart, "installed"
}

func latestOf(idx *helmsdk.Index, chart string) string {
	var vs []string
	for _, v := range idx.Versions(chart) {
		vs = append(vs, v.Version)
	}
	return semver.Latest(vs, false)
}

func checkKubeVersion(ctx context.Context, e *Env) Outcome {
	info, err := e.ServerVersion(ctx)
	if err != nil {
		return apiError(err, "get", "/version")
	}
	kv, ok := minorOf(info.GitVersion)
	if !ok {
		return Warn("", "cannot read the Kubernetes version %q", info.GitVersion)
	}
	v, chart, what := e.skoalaVersionFor(ctx)
	if v == "" {
		return OK("Kubernetes %s (no installed or target %s version to compare with)", kv, chart)
	}
	if min := upgradepath.MinKubernetes(chart, v); min != "" {
		m, _ := minorOf(min)
		if minorLess(kv, m) {
			return Fail("upgrade the cluster to Kubernetes "+m+" or later first (the Gateway API CRDs use CEL validation); applying them with --validate=false only hides the problem",
				"Kubernetes %s is too old for %s %s %s: it needs %s or later (x-kubernetes-validations)", kv, what, chart, v, m)
		}
	}
	row := rangeFor(v)
	if row == nil {
		return OK("Kubernetes %s works with %s %s %s", kv, what, chart, v)
	}
	if minorLess(kv, row.Min) {
		return Fail("upgrade the cluster to Kubernetes "+row.Min+" or later",
			"Kubernetes %s is below the range %s %s %s supports (%s–%s, %s)", kv, what, chart, v, row.Min, row.Max, row.Source)
	}
	if minorLess(row.Max, kv) {
		return Warn(fmt.Sprintf("DCE has not tested skoala %s on Kubernetes %s: watch the release notes for a newer skoala, or test before relying on it", row.Skoala, kv),
			"Kubernetes %s is newer than the range %s %s %s was tested with (%s–%s, %s)", kv, what, chart, v, row.Min, row.Max, row.Source)
	}
	return OK("Kubernetes %s is in the range %s %s %s supports (%s–%s)", kv, what, chart, v, row.Min, row.Max)
}

func checkPermissions(ctx context.Context, e *Env) Outcome {
	doc, upg := needed(e.Target.Role, e.Config.Mode)
	if r, ok := e.Config.UpgradeRights[e.Target.Context]; ok {
		upg = r
	}
	dd := e.denied(ctx, doc)
	ud := e.denied(ctx, upg)
	if len(dd) == 0 && len(ud) == 0 {
		return OK("allowed everything doctor and upgrade do (%d permissions)", len(doc)+len(upg))
	}
	var parts []string
	if len(dd) > 0 {
		parts = append(parts, fmt.Sprintf("doctor cannot %s (its checks that need it are skipped)", accessList(dd)))
	}
	if len(ud) > 0 {
		parts = append(parts, fmt.Sprintf("upgrade would fail: cannot %s", accessList(ud)))
	}
	first := dd
	if len(first) == 0 {
		first = ud
	}
	hint := fmt.Sprintf("use a kubeconfig with these rights (check with '%s'), or have a cluster admin bind them to your user", first[0].CanI())
	if len(ud) > 0 && e.Config.Mode != ModeDefault {
		// Before an upgrade or install (its preflight), missing rights would stop it halfway: refuse now.
		return Fail(hint, "%s", strings.Join(parts, "; "))
	}
	return Warn(hint, "%s", strings.Join(parts, "; "))
}
