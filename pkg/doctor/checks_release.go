package doctor

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmops"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/inspect"
	"github.com/skoala-dev/kubectl-skoala/pkg/product"
	"github.com/skoala-dev/kubectl-skoala/pkg/semver"
)

// The helpers of this file are shared by the control-plane and the workspace checks: the same question asked
// of release skoala on the control plane and of release skoala-init on each workspace.

func (e *Env) chart() string { return e.Target.Chart() }

func (e *Env) kubeContextFlag() string {
	if e.Target.Context == "" {
		return ""
	}
	return " --kube-context " + e.Target.Context
}

// rollbackCommand is the rollback verb for the check's release: the control plane's on its context, a
// workspace's with -w (run from the control plane's context).
func (e *Env) rollbackCommand() string { return e.verbCommand("rollback") }

// verbCommand is a verb of the tool for the check's release: the control plane's on its context, a
// workspace's with -w (run from the control plane's context).
func (e *Env) verbCommand(verb string) string {
	name := e.Config.Name
	if name == "" {
		name = "kubectl skoala"
	}
	s := fmt.Sprintf("%s %s -n %s", name, verb, e.Config.Namespace)
	switch {
	case e.Target.Role == RoleWorkspace:
		s += " -w " + e.Target.Context
	case e.Target.Context != "" && strings.HasPrefix(name, "helm"):
		s += " --kube-context " + e.Target.Context
	case e.Target.Context != "":
		s += " --context " + e.Target.Context
	}
	return s
}

func (e *Env) kubectl() string {
	s := "kubectl"
	if e.Target.Context != "" {
		s += " --context " + e.Target.Context
	}
	return s
}

// chartRef is the chart as helm names it in the repository in effect (the one doctor found or --repo named).
func (e *Env) chartRef() string {
	var found *helmsdk.Repository
	if e.r != nil {
		if rs, _ := e.repo(e.r.base); rs != nil && rs.repo != nil && rs.repo.Name != "" {
			found = &helmsdk.Repository{Name: rs.repo.Name}
		}
	}
	want := ""
	if e.Config != nil {
		want = e.Config.Repo
	}
	return helmsdk.RepoName(found, want) + "/" + e.chart()
}

func (e *Env) installCommand(version string) string {
	v := ""
	if version != "" {
		v = " --version " + version
	}
	return fmt.Sprintf("helm upgrade --install %s %s -n %s --create-namespace%s%s", e.Target.Release, e.chartRef(), e.Config.Namespace, v, e.kubeContextFlag())
}

// upgradeCommand is helm's upgrade of the release to version, keeping its values.
func (e *Env) upgradeCommand(version string) string {
	return fmt.Sprintf("helm upgrade %s %s -n %s --version %s --reuse-values%s", e.Target.Release, e.chartRef(), e.Config.Namespace, version, e.kubeContextFlag())
}

func checkNamespace(ctx context.Context, e *Env) Outcome {
	ns := e.Config.Namespace
	obj, err := e.Namespace(ctx, ns)
	if err != nil {
		return apiError(err, "get", "namespace "+ns)
	}
	if obj == nil {
		if e.Config.Mode == ModePreInstall {
			return OK("namespace %s does not exist yet: helm creates it (--create-namespace)", ns)
		}
		hint := "install it: " + e.installCommand("")
		if e.Target.Role == RoleWorkspace {
			hint = "install skoala-init there (registries and gateways need it in " + ns + "): " + e.installCommand("")
		}
		return Fail(hint, "namespace %s does not exist", ns)
	}
	if obj.DeletionTimestamp != nil || obj.Status.Phase == "Terminating" {
		return Fail(fmt.Sprintf("wait for it to go ('%s get namespace %s'); if it hangs, look for resources with finalizers in it", e.kubectl(), ns),
			"namespace %s is being deleted (Terminating)", ns)
	}
	return OK("namespace %s exists", ns)
}

func checkRelease(ctx context.Context, e *Env) Outcome {
	ns, name := e.Config.Namespace, e.Target.Release
	rel, err := e.Release(ctx)
	var nf *helmsdk.NotFoundError
	var corrupt *helmsdk.CorruptError
	switch {
	case err == nil:
	case errors.As(err, &nf):
		if nf.OtherDriver != "" {
			return Fail("set HELM_DRIVER="+nf.OtherDriver+" and run doctor again", "%s", nf.Error())
		}
		return Fail("install it: "+e.installCommand(""), "release %s is not installed in namespace %s", name, ns)
	case errors.As(err, &corrupt):
		return Fail(fmt.Sprintf("inspect it with '%s -n %s get %s -o yaml'; 'helm -n %s history %s%s' shows the other revisions", e.kubectl(), ns, strings.TrimPrefix(corrupt.Object, ns+"/"), ns, name, e.kubeContextFlag()),
			"%s", corrupt.Error())
	default:
		return apiError(err, "list", "secrets in "+ns)
	}
	h := fmt.Sprintf("helm -n %s%s", ns, e.kubeContextFlag())
	switch {
	case rel.Status == "deployed":
		return OK("release %s %s is deployed (revision %d)", name, rel.ChartVersion, rel.Revision)
	case rel.Status == "pending-install":
		return Fail(fmt.Sprintf("helm refuses any operation on it. If no helm or kubectl-skoala run is still installing it: '%s --force' uninstalls it after a confirmation (by hand: '%s uninstall %s'), then install again (%s)", e.rollbackCommand(), h, name, e.installCommand(rel.ChartVersion)),
			"release %s %s is stuck in pending-install (revision %d): an install was interrupted", name, rel.ChartVersion, rel.Revision)
	case rel.Pending():
		return Fail(fmt.Sprintf("helm refuses to upgrade it. If no helm or kubectl-skoala run is still working on it: '%s --force' takes it back to its last deployed revision (by hand: '%s history %s' to find it, '%s rollback %s <that revision>'), then run doctor again and upgrade",
			e.rollbackCommand(), h, name, h, name),
			"release %s %s is stuck in %s (revision %d): an operation was interrupted", name, rel.ChartVersion, rel.Status, rel.Revision)
	case rel.Status == "failed":
		desc := rel.Description
		if desc == "" {
			desc = "no description"
		}
		return Fail(fmt.Sprintf("fix what the other checks report, then upgrade again ('%s') or roll back ('%s rollback %s')", e.upgradeCommand(rel.ChartVersion), h, name),
			"release %s %s failed (revision %d): %s", name, rel.ChartVersion, rel.Revision, desc)
	default:
		return Fail(fmt.Sprintf("'%s history %s' shows what happened", h, name),
			"release %s %s is %s (revision %d)", name, rel.ChartVersion, rel.Status, rel.Revision)
	}
}

// findComponent finds a component of the release by name or alias.
func findComponent(comps []inspect.Component, names ...string) *inspect.Component {
	for _, n := range names {
		for i := range comps {
			if comps[i].Name == n {
				return &comps[i]
			}
		}
	}
	return nil
}

// releaseUnreadable is the verdict of a check that looks at the release when it cannot be read: the release
// check reports why (absent, corrupt) and this one is skipped; API errors are explained.
func releaseUnreadable(err error, ns string) Outcome {
	var nf *helmsdk.NotFoundError
	var corrupt *helmsdk.CorruptError
	if errors.As(err, &nf) || errors.As(err, &corrupt) {
		return Skip("not checked: the release could not be read (see the release check)")
	}
	return apiError(err, "list", "secrets in "+ns)
}

func componentsErr(err error, ns string) Outcome {
	var nf *helmsdk.NotFoundError
	var corrupt *helmsdk.CorruptError
	if errors.As(err, &nf) || errors.As(err, &corrupt) {
		return releaseUnreadable(err, ns)
	}
	var le *inspect.ListError
	if errors.As(err, &le) {
		return apiError(le.Err, "list", le.Resource+" in "+le.Namespace)
	}
	return apiError(err, "list", "workloads in "+ns)
}

// componentVerdict judges one workload: ready, rolling out, or broken (with which container and why).
func componentVerdict(e *Env, c *inspect.Component) Outcome {
	kind := strings.ToLower(c.Kind)
	if !c.Found {
		return Fail(fmt.Sprintf("helm upgrade recreates it ('%s'), or roll back: 'helm -n %s%s rollback %s'", e.upgradeCommand("<installed version>"), e.Config.Namespace, e.kubeContextFlag(), e.Target.Release),
			"%s %s of the release is missing from the cluster", kind, c.Name)
	}
	counts := fmt.Sprintf("%d/%d pods ready, %d/%d containers ready, %d restarts", c.Ready, c.Desired, c.ContainersReady, c.Containers, c.Restarts)
	if c.Kind == "Job" {
		counts = fmt.Sprintf("%d/%d completed", c.Ready, c.Desired)
	}
	if len(c.Problems) > 0 {
		hint := fmt.Sprintf("read the logs: '%s -n %s logs %s/%s -c %s --previous'; events: '%s -n %s describe %s %s'",
			e.kubectl(), c.Namespace, kind, c.Name, problemContainer(c.Problems[0], c.Name), e.kubectl(), c.Namespace, kind, c.Name)
		for _, p := range c.Problems {
			if strings.Contains(p, "ImagePull") || strings.Contains(p, "ErrImage") || strings.Contains(p, "InvalidImageName") {
				hint = fmt.Sprintf("the image cannot be pulled: check that it exists in the registry and that global.imageRegistry names the registry this site uses (offline: load and retag the images on every node); '%s -n %s describe pod -l app.kubernetes.io/name=%s' shows the pull error", e.kubectl(), c.Namespace, c.Name)
			}
		}
		return Fail(hint, "%s %s: %s; %s", kind, c.Name, strings.Join(c.Problems, "; "), counts)
	}
	var pending []string
	for _, p := range c.Pods {
		if p.Phase == "Pending" {
			pending = append(pending, p.Name)
		}
	}
	if len(pending) > 0 && c.State != inspect.StateReady && c.State != inspect.StateCompleted {
		return Fail(fmt.Sprintf("the pod's events say why it does not start (FailedScheduling: not enough CPU or memory, a node selector or taint): '%s -n %s describe pod %s'", e.kubectl(), c.Namespace, pending[0]),
			"%s %s: pod %s is Pending (not scheduled or not started); %s", kind, c.Name, strings.Join(pending, ", "), counts)
	}
	switch c.State {
	case inspect.StateReady, inspect.StateCompleted:
		return OK("%s %s: %s", kind, c.Name, counts)
	case inspect.StateProgressing:
		return Warn(fmt.Sprintf("wait for the rollout: '%s -n %s rollout status %s/%s'", e.kubectl(), c.Namespace, kind, c.Name),
			"%s %s is rolling out: %s", kind, c.Name, counts)
	}
	return Fail(fmt.Sprintf("'%s -n %s describe %s %s' and the pods' events say why", e.kubectl(), c.Namespace, kind, c.Name),
		"%s %s is %s: %s", kind, c.Name, c.State, counts)
}

// problemContainer extracts the container of "container hive: CrashLoopBackOff ...".
func problemContainer(problem, fallback string) string {
	for _, p := range []string{"init container ", "container "} {
		if strings.HasPrefix(problem, p) {
			rest := strings.TrimPrefix(problem, p)
			if i := strings.Index(rest, ":"); i > 0 {
				return rest[:i]
			}
		}
	}
	return fallback
}

// checkComponent returns the check of one named component of the release.
func checkComponent(names ...string) func(ctx context.Context, e *Env) Outcome {
	return func(ctx context.Context, e *Env) Outcome {
		comps, err := e.Components(ctx)
		if err != nil {
			return componentsErr(err, e.Config.Namespace)
		}
		c := findComponent(comps, names...)
		if c == nil {
			return Fail(fmt.Sprintf("is release %s the product's chart? 'helm -n %s%s get manifest %s' lists what it installs", e.Target.Release, e.Config.Namespace, e.kubeContextFlag(), e.Target.Release),
				"release %s has no workload %s", e.Target.Release, names[0])
		}
		return componentVerdict(e, c)
	}
}

// checkAllComponents judges every workload of the release in one verdict (workspaces).
func checkAllComponents(ctx context.Context, e *Env) Outcome {
	comps, err := e.Components(ctx)
	if err != nil {
		return componentsErr(err, e.Config.Namespace)
	}
	if len(comps) == 0 {
		return Warn(fmt.Sprintf("'helm -n %s%s get manifest %s' lists what it installs", e.Config.Namespace, e.kubeContextFlag(), e.Target.Release),
			"release %s has no workloads", e.Target.Release)
	}
	var bad []Outcome
	var worst Status = StatusOK
	deploys, jobs, restarts := 0, 0, 0
	for i := range comps {
		o := componentVerdict(e, &comps[i])
		restarts += comps[i].Restarts
		if comps[i].Kind == "Job" {
			jobs++
		} else {
			deploys++
		}
		if o.Status != StatusOK {
			bad = append(bad, o)
			if o.Status == StatusFail || worst == StatusOK {
				worst = o.Status
			}
		}
	}
	if len(bad) == 0 {
		return OK("%d workloads ready and %d Jobs completed, %d restarts", deploys, jobs, restarts)
	}
	msgs := make([]string, len(bad))
	for i, o := range bad {
		msgs[i] = o.Message
	}
	return Outcome{Status: worst, Message: strings.Join(msgs, "; "), Hint: bad[0].Hint}
}

func checkImageTags(ctx context.Context, e *Env) Outcome {
	rel, err := e.Release(ctx)
	if err != nil {
		return releaseUnreadable(err, e.Config.Namespace)
	}
	comps, err := e.Components(ctx)
	if err != nil {
		return componentsErr(err, e.Config.Namespace)
	}
	var differ, same []string
	for _, name := range product.OwnImageComponents(e.chart(), rel.ChartVersion) {
		c := findComponent(comps, name)
		if c == nil || c.Tag == "" {
			continue
		}
		if c.TagMatch == "differs" {
			differ = append(differ, fmt.Sprintf("%s runs %s", name, c.Tag))
		} else {
			same = append(same, name)
		}
	}
	if len(differ) > 0 {
		return Warn(fmt.Sprintf("if the values pin the tags (see the pinned-tags check), drop them; then '%s' puts every image on the chart's version", e.upgradeCommand(rel.ChartVersion)),
			"image tags differ from chart %s %s: %s", e.chart(), rel.ChartVersion, strings.Join(differ, ", "))
	}
	if len(same) == 0 {
		return OK("no component image to compare with chart %s", rel.ChartVersion)
	}
	return OK("%s run %s, the chart's version", strings.Join(same, ", "), semver.Tag(rel.ChartVersion))
}

// pinnedTags lists the *.image.tag keys of user-supplied values, as "path=value".
func pinnedTags(values map[string]any) map[string]string {
	out := map[string]string{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			sub, ok := v.(map[string]any)
			if !ok {
				continue
			}
			if k == "image" {
				if t, ok := sub["tag"]; ok && t != nil && fmt.Sprint(t) != "" {
					out[p+".tag"] = fmt.Sprint(t)
				}
			}
			walk(p, sub)
		}
	}
	walk("", values)
	return out
}

func checkPinnedTags(ctx context.Context, e *Env) Outcome {
	rel, err := e.Release(ctx)
	if err != nil {
		return releaseUnreadable(err, e.Config.Namespace)
	}
	want := rel.ChartVersion
	if e.Config.Mode == ModePreUpgrade && e.Config.TargetVersion != "" {
		want = semver.Normalize(e.Config.TargetVersion)
	}
	pins := pinnedTags(rel.Values)
	var stale, keys []string
	for k := range pins {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := pins[k]
		// ui has its own version line: a pinned ui tag always goes stale (DaoCloud-docs#6420).
		if k == product.UITagKey || !semver.Equal(v, want) {
			stale = append(stale, k+"="+v)
		}
	}
	if len(stale) > 0 {
		return Warn(fmt.Sprintf("an upgrade keeps these images: remove the keys from the values (helm -n %s%s get values %s -o yaml > values.yaml, delete them, upgrade with -f values.yaml); kubectl skoala upgrade drops them unless told to keep them",
			e.Config.Namespace, e.kubeContextFlag(), e.Target.Release),
			"user-supplied values pin %s (chart %s)", strings.Join(stale, ", "), want)
	}
	if len(keys) > 0 {
		return OK("pinned %s match chart %s", strings.Join(keys, ", "), want)
	}
	return OK("no *.image.tag pinned in the user-supplied values")
}

// globalRegistry returns global.imageRegistry of the user-supplied values, else of the chart's defaults.
func globalRegistry(rel *helmsdk.Release) (string, string) {
	get := func(v map[string]any) string {
		g, _ := v["global"].(map[string]any)
		s, _ := g["imageRegistry"].(string)
		return s
	}
	if s := get(rel.Values); s != "" {
		return s, "user values"
	}
	if all, err := rel.ComputedValues(); err == nil {
		if s := get(all); s != "" {
			return s, "chart default"
		}
	}
	return "", ""
}

func checkRegistry(ctx context.Context, e *Env) Outcome {
	rel, err := e.Release(ctx)
	if err != nil {
		return releaseUnreadable(err, e.Config.Namespace)
	}
	comps, err := e.Components(ctx)
	if err != nil {
		return componentsErr(err, e.Config.Namespace)
	}
	want, from := globalRegistry(rel)
	byReg := map[string][]string{}
	for _, c := range comps {
		for _, im := range c.Images {
			byReg[im.Registry] = append(byReg[im.Registry], fmt.Sprintf("%s/%s (%s)", c.Name, im.Container, im.Image))
		}
	}
	regs := make([]string, 0, len(byReg))
	for r := range byReg {
		regs = append(regs, r)
	}
	sort.Strings(regs)
	if want != "" {
		var wrong []string
		for _, r := range regs {
			if r != want {
				wrong = append(wrong, byReg[r]...)
			}
		}
		if len(wrong) > 0 {
			return Fail(fmt.Sprintf("pods pull from the registry global.imageRegistry names (%s, from the %s); find what overrides it ('helm -n %s%s get values %s', or a 'kubectl set image' on the workload) and upgrade with --set global.imageRegistry=%s",
				want, from, e.Config.Namespace, e.kubeContextFlag(), e.Target.Release, want),
				"images not from global.imageRegistry %s: %s", want, strings.Join(wrong, ", "))
		}
		return OK("all images come from %s (global.imageRegistry)", want)
	}
	if len(regs) > 1 {
		return Warn("an offline site pulls every image from one registry: set global.imageRegistry to it",
			"images come from %d registries: %s", len(regs), strings.Join(regs, ", "))
	}
	if len(regs) == 1 {
		return OK("all images come from %s", regs[0])
	}
	return OK("no images to compare")
}

const kpandaOpsDescription = "no kpanda (DCE) helm operation running on the release"

// checkKpandaOperations fails while kpanda runs a Helm operation on the release (a Job
// helm-operation-<action>-<release>-* owned by a HelmApp, helmops.Operations): it takes no
// kubectl-skoala lock, and upgrade and rollback refuse to run beside it.
func checkKpandaOperations(ctx context.Context, e *Env) Outcome {
	ns, name := e.Config.Namespace, e.Target.Release
	jobs, err := e.Jobs(ctx)
	if err != nil {
		return apiError(err, "list", "jobs in "+ns)
	}
	ops := helmops.Operations(jobs.Items, name)
	if len(ops) == 0 {
		return OK("no kpanda helm operation Job (%s<action>-%s-*) is running in %s", helmops.JobPrefix, name, ns)
	}
	var lines []string
	for _, op := range ops {
		lines = append(lines, op.String())
	}
	return Fail(fmt.Sprintf("wait for it to finish ('%s -n %s get job %s'): kubectl-skoala upgrade and rollback refuse to run beside it", e.kubectl(), ns, ops[0].Job),
		"%s", strings.Join(lines, "; "))
}
