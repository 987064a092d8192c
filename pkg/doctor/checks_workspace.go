package doctor

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/inspect"
	"github.com/skoala-dev/kubectl-skoala/pkg/journal"
	"github.com/skoala-dev/kubectl-skoala/pkg/semver"
	"github.com/skoala-dev/kubectl-skoala/pkg/upgradepath"
)

// Check IDs of the workspaces category.
const (
	IDWSNamespace       = "workspaces.namespace"
	IDWSRelease         = "workspaces.release"
	IDWSComponents      = "workspaces.components"
	IDWSSkew            = "workspaces.version-skew"
	IDWSImageTags       = "workspaces.image-tags"
	IDWSPinnedTags      = "workspaces.pinned-tags"
	IDWSRegistry        = "workspaces.registry"
	IDWSInsightAgent    = "workspaces.insight-agent"
	IDWSServiceMonitors = "workspaces.servicemonitors"
	IDWSAdmissionJobs   = "workspaces.admission-jobs"
	IDWSHalfUpgraded    = "workspaces.half-upgraded"
	IDWSKpandaOps       = "workspaces.kpanda-operations"
)

// InsightAgentRelease is insight-agent's release name.
const InsightAgentRelease = "insight-agent"

var serviceMonitorGVR = schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "servicemonitors"}

func workspaceChecks() []Check {
	ws := func(c Check) Check {
		c.Category, c.Scope = CatWorkspaces, ScopeWorkspace
		return c
	}
	return []Check{
		ws(Check{ID: IDWSNamespace, Description: "the namespace of the release exists", Needs: []string{IDReachable}, Uses: readNamespaces, Run: checkNamespace}),
		ws(Check{ID: IDWSRelease, Description: "the skoala-init release is deployed", Modes: installed, Needs: []string{IDReachable, IDWSNamespace}, Uses: readRelease, Run: checkRelease}),
		ws(Check{ID: IDWSComponents, Description: "skoala-init components ready", Modes: installed, Needs: []string{IDWSNamespace}, Uses: join(readRelease, readWorkloads, readJobs), Run: checkAllComponents}),
		ws(Check{ID: IDWSSkew, Description: "skoala-init version matches skoala", Modes: installed, Needs: []string{IDWSNamespace}, Uses: readRelease, Run: checkSkew}),
		ws(Check{ID: IDWSImageTags, Description: "image tags match the chart version", Modes: installed, Needs: []string{IDWSNamespace}, Uses: join(readRelease, readWorkloads), Run: checkImageTags}),
		ws(Check{ID: IDWSPinnedTags, Description: "no stale *.image.tag pinned in the values", Modes: installed, Needs: []string{IDWSNamespace}, Uses: readRelease, Run: checkPinnedTags}),
		ws(Check{ID: IDWSRegistry, Description: "images from one registry (global.imageRegistry)", Modes: installed, Needs: []string{IDWSNamespace}, Uses: join(readRelease, readWorkloads), Run: checkRegistry}),
		ws(Check{ID: IDWSDrift, Description: driftDescription, Modes: installed, Needs: []string{IDWSNamespace}, Uses: join(readRelease, readWorkloads), Run: checkDrift}),
		ws(Check{ID: IDWSInsightAgent, Description: "insight-agent installed", Needs: []string{IDReachable}, Uses: readInsight, Run: checkInsightAgent}),
		ws(Check{ID: IDWSServiceMonitors, Description: "skoala-init ServiceMonitors present", Modes: installed, Needs: []string{IDWSNamespace, IDWSInsightAgent}, Uses: join(readRelease, readServiceMonitors), Run: checkServiceMonitors}),
		ws(Check{ID: IDWSAdmissionJobs, Description: "no gateway-api-admission Jobs blocking helm", Needs: []string{IDReachable}, Uses: readJobs, Run: checkAdmissionJobs}),
		ws(Check{ID: IDWSKpandaOps, Description: kpandaOpsDescription, Needs: []string{IDReachable}, Uses: readJobs, Run: checkKpandaOperations}),
		{ID: IDWSHalfUpgraded, Category: CatWorkspaces, Scope: ScopeControlPlane, Description: "the last upgrade run did not leave the fleet half-upgraded",
			Needs: []string{IDReachable}, Uses: join(readRelease, readJournal), Run: checkHalfUpgraded},
	}
}

func (e *Env) upgradeInitCommand(version string) string { return e.upgradeCommand(version) }

func checkSkew(ctx context.Context, e *Env) Outcome {
	rel, err := e.Release(ctx)
	if err != nil {
		return releaseUnreadable(err, e.Config.Namespace)
	}
	if e.r.controlPlane() == nil {
		return Skip("no control plane in this run (give it with --context) to compare with")
	}
	cp, err := e.ControlPlaneRelease(ctx)
	if err != nil {
		return Skip("the control plane's release could not be read (see the control-plane checks)")
	}
	ws := rel.ChartVersion
	want := cp.ChartVersion
	hint := fmt.Sprintf("skoala and skoala-init are upgraded together: '%s' (and delete the admission Jobs first), or 'kubectl skoala upgrade'", e.upgradeInitCommand(want))
	switch semver.SkewOf(cp.ChartVersion, ws) {
	case semver.SkewNone:
		return OK("skoala-init %s = skoala %s", ws, cp.ChartVersion)
	case semver.SkewPatch:
		return Warn(hint, "skoala-init %s differs from skoala %s in the patch version", ws, cp.ChartVersion)
	case semver.SkewMinor:
		n := semver.MinorsBetween(ws, cp.ChartVersion)
		behind := ""
		switch {
		case n > 1:
			behind = fmt.Sprintf(" (%d minor versions behind)", n)
		case n == 1:
			behind = " (one minor version behind)"
		case n < 0 && n != -1:
			behind = fmt.Sprintf(" (%d minor versions ahead)", -n)
		}
		if e.Config.Mode == ModePreUpgrade {
			return Warn("the upgrade to "+semver.Normalize(e.Config.TargetVersion)+" must take skoala-init there too", "skoala-init %s is on another minor than skoala %s%s", ws, cp.ChartVersion, behind)
		}
		return Fail(hint, "skoala-init %s is on another minor than skoala %s%s: the product needs them on the same version", ws, cp.ChartVersion, behind)
	}
	return Warn("", "cannot compare skoala-init %q with skoala %q", ws, cp.ChartVersion)
}

// initVersion is the skoala-init version that matters here: the target, else the installed one ("" if neither).
func (e *Env) initVersion(ctx context.Context) string {
	if e.Config.TargetVersion != "" && e.Config.Mode != ModeDefault {
		return semver.Normalize(e.Config.TargetVersion)
	}
	if rel, err := e.Release(ctx); err == nil {
		return rel.ChartVersion
	}
	return ""
}

func checkInsightAgent(ctx context.Context, e *Env) Outcome {
	ins := e.Config.InsightNamespace
	install := fmt.Sprintf("install insight-agent in %s BEFORE skoala-init (DCE Insight: helm upgrade --install insight-agent <insight repo>/insight-agent -n %s --create-namespace%s), then re-run the skoala-init upgrade so that its ServiceMonitors are created",
		ins, ins, e.kubeContextFlag())
	ns, err := e.Namespace(ctx, ins)
	if err != nil {
		return apiError(err, "get", "namespace "+ins)
	}
	v := e.initVersion(ctx)
	if ns == nil {
		if e.Config.Mode != ModeDefault && v != "" && upgradepath.NeedsInsightNamespace(v) {
			return Fail(install, "namespace %s does not exist: skoala-init %s (below 0.31.2) fails to install without it", ins, v)
		}
		return Warn(install, "insight-agent is not installed (no namespace %s): no metrics or tracing, and skoala-init creates no ServiceMonitors", ins)
	}
	// The release, when its Secrets can be read; else its pods.
	rel, err := e.InsightRelease(ctx)
	if err == nil {
		if rel.Status != "deployed" {
			return Warn(fmt.Sprintf("'helm -n %s%s history %s' shows what happened", ins, e.kubeContextFlag(), InsightAgentRelease), "release insight-agent %s in %s is %s", rel.ChartVersion, ins, rel.Status)
		}
		return OK("insight-agent %s is deployed in %s", rel.ChartVersion, ins)
	}
	pods, perr := e.Client().CoreV1().Pods(ins).List(ctx, metav1.ListOptions{})
	if perr != nil {
		return apiError(perr, "list", "pods in "+ins)
	}
	running, total := 0, 0
	for _, p := range pods.Items {
		if !strings.HasPrefix(p.Name, "insight-agent") {
			continue
		}
		total++
		if p.Status.Phase == corev1.PodRunning {
			running++
		}
	}
	if total == 0 {
		return Warn(install, "namespace %s exists but has no insight-agent release or pods", ins)
	}
	if running == 0 {
		return Warn(fmt.Sprintf("'%s -n %s get pods' shows why", e.kubectl(), ins), "insight-agent pods in %s are not running (%d pods)", ins, total)
	}
	return OK("insight-agent runs in %s (%d/%d pods running)", ins, running, total)
}

func checkServiceMonitors(ctx context.Context, e *Env) Outcome {
	rel, err := e.Release(ctx)
	if err != nil {
		return releaseUnreadable(err, e.Config.Namespace)
	}
	rerun := fmt.Sprintf("re-run the skoala-init upgrade now that insight-agent is installed: %s", e.upgradeInitCommand(rel.ChartVersion))
	var inManifest []string
	for _, o := range rel.Objects() {
		if o.Kind == "ServiceMonitor" {
			inManifest = append(inManifest, o.Name)
		}
	}
	// Why they would be missing: insight-agent (and its ServiceMonitor CRD) came after skoala-init.
	order := func() string {
		if ia, err := e.InsightRelease(ctx); err == nil && !ia.FirstDeployed.IsZero() && !rel.FirstDeployed.IsZero() && ia.FirstDeployed.After(rel.FirstDeployed) {
			return fmt.Sprintf(": insight-agent was installed (%s) after skoala-init (%s)", ia.FirstDeployed.UTC().Format("2006-01-02 15:04"), rel.FirstDeployed.UTC().Format("2006-01-02 15:04"))
		}
		return ""
	}
	dyn := e.dynamic()
	if dyn == nil {
		return Skip("no dynamic client for this cluster")
	}
	list, err := dyn.Resource(serviceMonitorGVR).Namespace(e.Config.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return Warn(rerun, "the ServiceMonitor API (monitoring.coreos.com/v1) is missing: insight-agent brings it")
		}
		return apiError(err, "list", "servicemonitors in "+e.Config.Namespace)
	}
	live := map[string]bool{}
	for _, it := range list.Items {
		live[it.GetName()] = true
	}
	if len(inManifest) == 0 {
		return Warn(rerun, "release %s has no ServiceMonitors (it was installed before the ServiceMonitor API existed)%s", e.Target.Release, order())
	}
	var missing []string
	for _, n := range inManifest {
		if !live[n] {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return Warn(rerun, "%d of %d ServiceMonitors of release %s are missing: %s%s", len(missing), len(inManifest), e.Target.Release, strings.Join(missing, ", "), order())
	}
	return OK("%d ServiceMonitors of release %s present", len(inManifest), e.Target.Release)
}

func checkAdmissionJobs(ctx context.Context, e *Env) Outcome {
	ns := e.Config.Namespace
	jobs, err := e.Jobs(ctx)
	if err != nil {
		return apiError(err, "list", "jobs in "+ns)
	}
	var found []*batchv1.Job
	for i := range jobs.Items {
		if strings.HasPrefix(jobs.Items[i].Name, "gateway-api-admission") {
			found = append(found, &jobs.Items[i])
		}
	}
	if len(found) == 0 {
		return OK("no gateway-api-admission Jobs in %s", ns)
	}
	sort.Slice(found, func(i, j int) bool { return found[i].Name < found[j].Name })
	owned := map[string]bool{}
	version := ""
	rel, rerr := e.Release(ctx)
	var nf *helmsdk.NotFoundError
	if rerr != nil && !errors.As(rerr, &nf) {
		return apiError(rerr, "list", "secrets in "+ns)
	}
	if rel != nil {
		version = rel.ChartVersion
		for _, o := range rel.Objects() {
			if o.Kind == "Job" {
				owned[o.Name] = true
			}
		}
	}
	names := make([]string, len(found))
	var leftover, stale, failed []string
	for i, j := range found {
		names[i] = j.Name
		if !owned[j.Name] {
			leftover = append(leftover, j.Name)
			continue
		}
		for _, c := range j.Spec.Template.Spec.Containers {
			if _, tag := inspect.SplitImage(c.Image); tag != "" && version != "" && !semver.Equal(tag, version) {
				stale = append(stale, fmt.Sprintf("%s (%s)", j.Name, tag))
				break
			}
		}
		for _, c := range j.Status.Conditions {
			if c.Type == batchv1.JobFailed && c.Status == corev1.ConditionTrue {
				failed = append(failed, j.Name)
			}
		}
	}
	del := fmt.Sprintf("%s -n %s delete jobs %s", e.kubectl(), ns, strings.Join(names, " "))
	switch {
	case len(leftover) > 0:
		whose := "no release"
		if rel != nil {
			whose = "not part of release " + rel.Name
		}
		return Warn("delete them before installing or upgrading skoala-init: "+del,
			"leftover Jobs %s (%s): their pod template is immutable, so helm install/upgrade of skoala-init fails on them", strings.Join(leftover, ", "), whose)
	case len(failed) > 0:
		return Warn("read their logs ("+e.kubectl()+" -n "+ns+" logs job/"+failed[0]+"), then delete them and re-run the skoala-init upgrade: "+del,
			"admission Jobs failed: %s (the gateway webhook certificate may be missing)", strings.Join(failed, ", "))
	case len(stale) > 0:
		return Warn("delete them, then re-run the skoala-init upgrade: "+del, "admission Jobs from an older version: %s (release is %s)", strings.Join(stale, ", "), version)
	case e.Config.Mode == ModePreUpgrade:
		mandatory := ""
		if version != "" && semver.Crosses(version, semver.Normalize(e.Config.TargetVersion), "0.24.2") {
			mandatory = " (mandatory across 0.24.2, where their image repository changed)"
		}
		return Warn("kubectl skoala upgrade deletes them; with plain helm run first: "+del,
			"Jobs %s must be deleted before upgrading to %s%s: their pod template is immutable", strings.Join(names, ", "), semver.Normalize(e.Config.TargetVersion), mandatory)
	}
	return OK("Jobs %s belong to release %s %s and completed (an upgrade deletes them first)", strings.Join(names, ", "), e.Target.Release, version)
}

// checkHalfUpgraded reads the journal (pkg/journal) on the control plane: when its last run is an upgrade
// that left some releases of this fleet at its target and others not, the fleet is half-upgraded, and the
// fix is one of the two ways out: run the upgrade again, or roll it back.
func checkHalfUpgraded(ctx context.Context, e *Env) Outcome {
	ns := e.Config.Namespace
	base, t := e.fact(ctx)
	jctx, cancel := context.WithTimeout(base, t)
	defer cancel()
	runs, err := (&journal.Store{Client: e.Client(), Namespace: ns}).List(jctx)
	var ce *journal.CorruptError
	if errors.As(err, &ce) {
		// Not a stop: the next upgrade or rollback keeps it under another name, never overwrites it.
		return Warn(fmt.Sprintf("repair it to keep its runs; otherwise the next upgrade or rollback keeps it as ConfigMap %s-corrupt-<time> and starts a new journal", journal.Name),
			"%v: whether the fleet is half-upgraded is not known", ce)
	}
	if err != nil {
		return apiError(err, "get", "configmaps in "+ns)
	}
	if len(runs) == 0 {
		return OK("the journal holds no upgrade or rollback run")
	}
	last := runs[0]
	var installed []journal.Installed
	var workspaces []string
	for _, cs := range append([]*clusterState{e.r.controlPlane()}, e.r.workspaces()...) {
		if cs == nil {
			continue
		}
		if cs.target.Role == RoleWorkspace {
			workspaces = append(workspaces, cs.target.Context)
		}
		if rel, err := e.releaseOf(ctx, cs); err == nil {
			installed = append(installed, journal.Installed{Context: cs.target.Context, Release: cs.target.Release, Version: rel.ChartVersion})
		}
	}
	at, behind := journal.Half(&last, installed)
	if len(at) == 0 {
		return OK("the last run left no release behind: %s", last.Summary())
	}
	w := ""
	if len(workspaces) > 0 {
		w = " -w " + strings.Join(workspaces, ",")
	}
	return Fail(fmt.Sprintf("finish the run: '%s upgrade -n %s%s --version %s', or undo it: '%s rollback -n %s%s'", e.Config.Name, ns, w, last.Target, e.Config.Name, ns, w),
		"the fleet is half-upgraded by run %s: %s at %s, %s not", last.ID, strings.Join(at, ", "), last.Target, strings.Join(behind, ", "))
}
