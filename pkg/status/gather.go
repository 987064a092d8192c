package status

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/client-go/dynamic"

	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmops"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/inspect"
	"github.com/skoala-dev/kubectl-skoala/pkg/journal"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
	"github.com/skoala-dev/kubectl-skoala/pkg/product"
	"github.com/skoala-dev/kubectl-skoala/pkg/semver"
)

// Config is what Gather needs, with no flags in sight.
type Config struct {
	Namespace string
	Targets   []fleet.Target
	// Driver is the Helm storage driver (HELM_DRIVER).
	Driver string
	// ClusterTimeout bounds the work on each cluster.
	ClusterTimeout time.Duration
	MaxConcurrency int
	// Index is the repository index (nil when it could not be loaded; Repo says why).
	Index *helmsdk.Index
	Repo  *Repository
	// ExitOnUpgrade counts an available upgrade as a problem (--exit-code).
	ExitOnUpgrade bool
	// Name is how the tool was invoked, for hints.
	Name string
	// SkipComponents reads the releases only (versions).
	SkipComponents bool
	// Journal also reads the journal of upgrade and rollback runs on the control plane.
	Journal bool
	// Prefetched are rows Read already read (a speculative read beside the discovery of the fleet): a
	// target of Targets with a reachable row of the same context, role, release and registered name is
	// not read again.
	Prefetched []Cluster
}

// Read reads every target as Gather does, and only that: the rows, for Config.Prefetched of a later
// Gather. Index, Repo and ExitOnUpgrade are not needed (they count in Gather's comparison).
func Read(ctx context.Context, src fleet.ClusterSource, cfg Config) []Cluster {
	rows := make([]Cluster, len(cfg.Targets))
	kube.ForEach(ctx, cfg.Targets, cfg.MaxConcurrency, cfg.ClusterTimeout, func(ctx context.Context, i int, t fleet.Target) {
		rows[i] = gatherCluster(ctx, src, cfg, t)
	})
	return rows
}

// prefetched returns the reachable row read before for t (nil when there is none).
func prefetched(cfg Config, t fleet.Target) *Cluster {
	for i, c := range cfg.Prefetched {
		if c.Reachable && c.Context == t.Context && c.Role == t.Role && c.Registered == t.Registered && c.release == t.Release {
			return &cfg.Prefetched[i]
		}
	}
	return nil
}

// Gather reads every target concurrently, each bounded by its own timeout. An unreachable cluster becomes
// one entry with the reason; it never stops the others.
func Gather(ctx context.Context, src fleet.ClusterSource, cfg Config) *Report {
	rep := &Report{Schema: SchemaVersion, Namespace: cfg.Namespace, Repository: cfg.Repo, Clusters: make([]Cluster, len(cfg.Targets))}
	kube.ForEach(ctx, cfg.Targets, cfg.MaxConcurrency, cfg.ClusterTimeout, func(ctx context.Context, i int, t fleet.Target) {
		if p := prefetched(cfg, t); p != nil {
			rep.Clusters[i] = *p
			return
		}
		rep.Clusters[i] = gatherCluster(ctx, src, cfg, t)
	})
	compare(rep, cfg)
	for _, c := range rep.Clusters {
		if c.kpandaErr != "" {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s: kpanda's HelmApps could not be read (%s): whether DCE's UI manages the release too is unknown", c.Context, c.kpandaErr))
		}
	}
	return rep
}

// helmApp names the kpanda HelmApp of release (a HelmApp of the release's name, the name kpanda's Helm
// operation Jobs carry; an inference, no CRD of it is public): "" when there is none or the cluster
// serves no HelmApps; errMsg says why they could not be read.
func helmApp(ctx context.Context, kc *kube.Cluster, ns, release string) (name, errMsg string) {
	if kc.Config == nil {
		return "", ""
	}
	dyn, err := dynamic.NewForConfig(kc.Config)
	if err != nil {
		return "", err.Error()
	}
	apps, err := helmops.HelmApps(ctx, dyn, ns)
	if err != nil {
		msg, _ := kube.Explain(err, "list", "helmapps.helm.kpanda.io in namespace "+ns)
		return "", msg
	}
	for _, a := range apps {
		if a == release {
			return a, ""
		}
	}
	return "", ""
}

func gatherCluster(ctx context.Context, src fleet.ClusterSource, cfg Config, t fleet.Target) (c Cluster) {
	c = Cluster{Context: t.Context, Role: t.Role, Registered: t.Registered, Releases: []Release{}, release: t.Release}
	kc, err := src.Cluster(t.Context)
	if err != nil {
		c.Error, c.Hint = kube.Explain(err, "", "")
		return c
	}
	if cfg.Journal && t.Role == fleet.RoleControlPlane {
		// Beside the release reads, in the same round: an identity that may not read the release records
		// (Secrets) still sees the journal.
		done := make(chan struct{})
		var runs []journal.Run
		var jerr string
		go func() {
			defer close(done)
			var err error
			if runs, err = (&journal.Store{Client: kc.Client, Namespace: cfg.Namespace}).List(ctx); err != nil {
				jerr, _ = kube.Explain(err, "get", "configmaps in namespace "+cfg.Namespace)
			}
		}()
		defer func() {
			<-done
			c.runs, c.journalErr = runs, jerr
		}()
	}
	rel := Release{Name: t.Release, Namespace: cfg.Namespace, Status: StatusUnknown, Components: []inspect.Component{}}
	// The HelmApp read goes beside the release reads too (one round per cluster).
	appDone := make(chan struct{})
	var app, appErr string
	go func() {
		defer close(appDone)
		app, appErr = helmApp(ctx, kc, cfg.Namespace, t.Release)
	}()
	defer func() {
		<-appDone
		for i := range c.Releases {
			if c.Releases[i].Name == t.Release && c.Releases[i].Namespace == cfg.Namespace {
				c.Releases[i].HelmApp = app
			}
		}
		c.kpandaErr = appErr
	}()
	hr, err := helmsdk.GetCurrent(ctx, kc.Client, cfg.Namespace, t.Release, cfg.Driver)
	var nf *helmsdk.NotFoundError
	var corrupt *helmsdk.CorruptError
	switch {
	case err == nil:
	case errors.As(err, &nf):
		c.Reachable = true
		rel.Status = StatusMissing
		rel.Error = nf.Error()
		if nf.OtherDriver != "" {
			rel.Hint = fmt.Sprintf("set HELM_DRIVER=%s", nf.OtherDriver)
		} else if t.Registered != "" && t.Role == fleet.RoleWorkspace {
			// A registered cluster that does not run the microservice engine: listed, never installed to.
			rel.Status, rel.Error = StatusNoInit, ""
		} else {
			rel.needsInstallHint = true // compare writes it: it names the repository, read beside the clusters
		}
		c.Releases = append(c.Releases, rel)
		return c
	case errors.As(err, &corrupt):
		c.Reachable = true
		rel.Error = corrupt.Error()
		rel.Hint = fmt.Sprintf("inspect it with 'kubectl -n %s get %s -o yaml'; 'helm --kube-context %s -n %s history %s' shows the other revisions", cfg.Namespace, corrupt.Object[len(cfg.Namespace)+1:], t.Context, cfg.Namespace, t.Release)
		c.Releases = append(c.Releases, rel)
		return c
	default:
		c.Error, c.Hint = kube.Explain(err, "list", "secrets in namespace "+cfg.Namespace)
		return c
	}
	c.Reachable = true
	rel.Installed = true
	rel.Chart = hr.Chart
	rel.Version = hr.ChartVersion
	rel.AppVersion = hr.AppVersion
	rel.Revision = hr.Revision
	rel.Status = hr.Status
	rel.LastDeployed = hr.LastDeployed.UTC()
	var comps []inspect.Component
	if !cfg.SkipComponents {
		comps, err = inspect.Release(ctx, kc.Client, hr)
	}
	if err != nil {
		var le *inspect.ListError
		verb, res := "list", "workloads in namespace "+cfg.Namespace
		if errors.As(err, &le) {
			res = le.Resource + " in namespace " + le.Namespace
		}
		rel.Error, rel.Hint = kube.Explain(err, verb, res)
	} else if comps != nil {
		rel.Components = comps
	}
	switch {
	case hr.Pending():
		rel.Hint = fmt.Sprintf("helm refuses to upgrade a %s release: if no helm operation is still running, roll back with 'helm --kube-context %s -n %s rollback %s' (or '%s doctor' for the steps)", hr.Status, t.Context, cfg.Namespace, t.Release, cfg.Name)
	case hr.Status == "failed":
		rel.Hint = fmt.Sprintf("the last operation failed (%s): see '%s doctor', then upgrade again or 'helm --kube-context %s -n %s rollback %s'", hr.Description, cfg.Name, t.Context, cfg.Namespace, t.Release)
	}
	c.Releases = append(c.Releases, rel)
	return c
}

func installHint(cfg Config, c *Cluster, r *Release) string {
	repo := product.RepoName
	if cfg.Repo != nil && cfg.Repo.Name != "" {
		repo = cfg.Repo.Name
	}
	t := fleet.Target{Context: c.Context, Role: c.Role, Release: r.Name}
	return fmt.Sprintf("install it with 'helm upgrade --install %s %s/%s -n %s --create-namespace --kube-context %s'", r.Name, repo, t.Chart(), cfg.Namespace, c.Context)
}

// compare fills latest versions, upgrade availability, skew and the problem count.
func compare(rep *Report, cfg Config) {
	cp := ""
	for _, c := range rep.Clusters {
		if c.Role == fleet.RoleControlPlane {
			for _, r := range c.Releases {
				if r.Installed {
					cp = r.Version
				}
			}
		}
	}
	for ci := range rep.Clusters {
		c := &rep.Clusters[ci]
		if !c.Reachable {
			rep.Problems++
			continue
		}
		for ri := range c.Releases {
			r := &c.Releases[ri]
			if r.needsInstallHint {
				r.Hint = installHint(cfg, c, r)
			}
			if r.Problem() {
				rep.Problems++
			}
			if cfg.Index != nil && r.Installed {
				chart := r.Chart
				var vs []string
				for _, v := range cfg.Index.Versions(chart) {
					vs = append(vs, v.Version)
				}
				r.Latest = semver.Latest(vs, false)
				r.LatestPatch = semver.LatestPatch(vs, r.Version)
				r.UpgradeAvailable = r.Latest != "" && semver.Compare(r.Latest, r.Version) > 0
				if r.UpgradeAvailable && cfg.ExitOnUpgrade {
					rep.Problems++
				}
			}
			if c.Role == fleet.RoleWorkspace {
				r.SkewWith = cp
				r.Skew = skewOf(cp, r.Version)
			}
		}
	}
	if cfg.Journal {
		readJournal(rep, cfg)
	}
}

// readJournal fills rep.Journal from the control plane's journal: the last run, every run in one line,
// and whether the last run left the fleet half-upgraded (a problem: exit 3).
func readJournal(rep *Report, cfg Config) {
	var installed []journal.Installed
	var workspaces []string
	j := &Journal{}
	found := false
	for _, c := range rep.Clusters {
		if c.Role == fleet.RoleWorkspace {
			workspaces = append(workspaces, c.Context)
		}
		for _, r := range c.Releases {
			if r.Installed {
				installed = append(installed, journal.Installed{Context: c.Context, Release: r.Name, Version: r.Version})
			}
		}
		if c.Role != fleet.RoleControlPlane {
			continue
		}
		found = true
		j.Error = c.journalErr
		for _, run := range c.runs {
			j.Runs = append(j.Runs, RunLine{ID: run.ID, Kind: run.Kind, Target: run.Target, Outcome: run.Outcome, Started: run.Started, UndoneBy: run.UndoneBy, Summary: run.Summary()})
		}
		if len(c.runs) > 0 {
			last := c.runs[0]
			j.LastRun = &last
		}
	}
	if !found {
		return
	}
	rep.Journal = j
	if j.LastRun == nil {
		return
	}
	at, behind := journal.Half(j.LastRun, installed)
	if len(at) == 0 {
		return
	}
	w := ""
	if len(workspaces) > 0 {
		w = " -w " + strings.Join(workspaces, ",")
	}
	j.HalfUpgraded = &HalfUpgraded{Run: j.LastRun.ID, Target: j.LastRun.Target, At: at, Behind: behind,
		Upgrade:  fmt.Sprintf("%s upgrade -n %s%s --version %s", cfg.Name, cfg.Namespace, w, j.LastRun.Target),
		Rollback: fmt.Sprintf("%s rollback -n %s%s", cfg.Name, cfg.Namespace, w)}
	if j.LastRun.Outcome == journal.OutcomePaused { // issue 22: paused after its canary, continued by --resume
		j.HalfUpgraded.Paused = true
		j.HalfUpgraded.Upgrade = fmt.Sprintf("%s upgrade -n %s%s --resume %s", cfg.Name, cfg.Namespace, w, j.LastRun.ID)
	}
	rep.Problems++
}
