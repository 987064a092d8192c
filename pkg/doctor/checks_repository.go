package doctor

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/product"
	"github.com/skoala-dev/kubectl-skoala/pkg/semver"
	"github.com/skoala-dev/kubectl-skoala/pkg/upgradepath"
)

// Check IDs of the repository category.
const (
	IDRepoConfigured  = "repository.configured"
	IDRepoIndex       = "repository.index"
	IDRepoInstalled   = "repository.installed-versions"
	IDRepoTarget      = "repository.target-version"
	IDRepoLatest      = "repository.latest"
	IDRepoUpgradePath = "repository.upgrade-path"
)

// repoState is the repository and its index, loaded once per run.
type repoState struct {
	repo     *helmsdk.RepoStatus
	idx      *helmsdk.Index
	warnings []string
}

// noIndex is the verdict of a check that needs the index when there is none (the index check says why).
var noIndex = SkipHint("doctor compares with the repository once its index is cached: see the index check", "no repository index to compare with")

func (e *Env) repo(ctx context.Context) (*repoState, error) {
	return e.r.once.repo.get(ctx, e.r.base, e.r.cfg.CheckTimeout, func(ctx context.Context) (*repoState, error) {
		repo, idx, warns := helmsdk.LoadRepository(ctx, e.r.deps.Helm, e.r.cfg.Repo, e.r.cfg.Refresh, e.r.cfg.CheckTimeout)
		return &repoState{repo: repo, idx: idx, warnings: warns}, nil
	})
}

func repositoryChecks() []Check {
	rc := func(c Check) Check {
		c.Category, c.Scope = CatRepository, ScopeOnce
		return c
	}
	hasTarget := func(cfg *Config) bool { return cfg.TargetVersion != "" }
	return []Check{
		rc(Check{ID: IDRepoConfigured, Description: "skoala repository configured", Run: checkRepoConfigured}),
		rc(Check{ID: IDRepoIndex, Description: "repository index cached and fresh", Needs: []string{IDRepoConfigured}, Run: checkRepoIndex}),
		rc(Check{ID: IDRepoInstalled, Description: "installed versions in the repository", Modes: installed, Needs: []string{IDRepoIndex}, Run: checkRepoInstalled}),
		rc(Check{ID: IDRepoTarget, Description: "target version in the repository", Applies: hasTarget, Modes: []Mode{ModePreInstall, ModePreUpgrade}, Needs: []string{IDRepoIndex}, Run: checkRepoTarget}),
		rc(Check{ID: IDRepoLatest, Description: "newest version", Needs: []string{IDRepoIndex}, Run: checkRepoLatest}),
		rc(Check{ID: IDRepoUpgradePath, Description: "upgrade path", Modes: installed, Needs: []string{IDRepoIndex}, Run: checkUpgradePath}),
	}
}

func checkRepoConfigured(ctx context.Context, e *Env) Outcome {
	rs, _ := e.repo(ctx)
	r := rs.repo
	if r.Name == "" {
		// An offline site may install from a local chart: a warning, never a failure.
		return Warn(r.Hint, "%s", r.Error)
	}
	return OK("repository %s (%s)", r.Name, r.URL)
}

func checkRepoIndex(ctx context.Context, e *Env) Outcome {
	rs, _ := e.repo(ctx)
	r := rs.repo
	if rs.idx == nil {
		return Warn(r.Hint, "%s", r.Error)
	}
	age := e.Now().Sub(r.IndexTime)
	n := len(rs.idx.Versions(product.ChartSkoala))
	if len(rs.warnings) > 0 {
		return Warn(fmt.Sprintf("offline? the cached index (%s old) is used; 'helm repo update %s' when the repository is reachable", humanAge(age), r.Name), "%s", strings.Join(rs.warnings, "; "))
	}
	if age > e.Config.IndexMaxAge {
		return Warn(fmt.Sprintf("refresh it: 'helm repo update %s' (or doctor --refresh)", r.Name),
			"the cached index of %s is %s old (older than %s): newer versions may be missing", r.Name, humanAge(age), humanAge(e.Config.IndexMaxAge))
	}
	fresh := ""
	if r.Refreshed {
		fresh = ", just downloaded"
	}
	return OK("index of %s cached %s ago%s, %d skoala versions", r.Name, humanAge(age), fresh, n)
}

func humanAge(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

func indexHas(idx *helmsdk.Index, chart, version string) bool {
	for _, v := range idx.Versions(chart) {
		if semver.Equal(v.Version, version) {
			return true
		}
	}
	return false
}

func indexVersions(idx *helmsdk.Index, chart string) []string {
	var vs []string
	for _, v := range idx.Versions(chart) {
		vs = append(vs, v.Version)
	}
	return vs
}

// installedVersions returns chart -> versions installed across the fleet (releases that could be read).
func (e *Env) installedVersions(ctx context.Context) map[string][]string {
	out := map[string][]string{}
	add := func(chart, v string) {
		for _, x := range out[chart] {
			if x == v {
				return
			}
		}
		out[chart] = append(out[chart], v)
	}
	if cp := e.r.controlPlane(); cp != nil {
		if rel, err := e.releaseOf(ctx, cp); err == nil {
			add(product.ChartSkoala, rel.ChartVersion)
		}
	}
	for _, ws := range e.r.workspaces() {
		if rel, err := e.releaseOf(ctx, ws); err == nil {
			add(product.ChartInit, rel.ChartVersion)
		}
	}
	for _, vs := range out {
		semver.SortDesc(vs)
	}
	return out
}

func checkRepoInstalled(ctx context.Context, e *Env) Outcome {
	rs, _ := e.repo(ctx)
	if rs.idx == nil {
		return noIndex
	}
	inst := e.installedVersions(ctx)
	if len(inst) == 0 {
		return Skip("no installed release could be read")
	}
	var missing, present []string
	for _, chart := range product.Charts {
		for _, v := range inst[chart] {
			if indexHas(rs.idx, chart, v) {
				present = append(present, chart+" "+v)
			} else {
				missing = append(missing, chart+" "+v)
			}
		}
	}
	if len(missing) > 0 {
		return Warn(fmt.Sprintf("is %s the repository these were installed from? an offline mirror needs them for helm to re-render them (rollback still works)", rs.repo.Name),
			"not in repository %s: %s", rs.repo.Name, strings.Join(missing, ", "))
	}
	return OK("%s in repository %s", strings.Join(present, ", "), rs.repo.Name)
}

func checkRepoTarget(ctx context.Context, e *Env) Outcome {
	rs, _ := e.repo(ctx)
	if rs.idx == nil {
		return noIndex
	}
	t := semver.Normalize(e.Config.TargetVersion)
	var missing []string
	for _, chart := range product.Charts {
		if !indexHas(rs.idx, chart, t) {
			missing = append(missing, chart)
		}
	}
	if len(missing) > 0 {
		return Fail(fmt.Sprintf("'%s versions skoala' lists what the repository has; 'helm repo update %s' if the index is old", e.Config.Name, rs.repo.Name),
			"target %s is not in repository %s for %s", t, rs.repo.Name, strings.Join(missing, " and "))
	}
	return OK("skoala and skoala-init %s are in repository %s", t, rs.repo.Name)
}

func checkRepoLatest(ctx context.Context, e *Env) Outcome {
	rs, _ := e.repo(ctx)
	if rs.idx == nil {
		return noIndex
	}
	latest := latestOf(rs.idx, product.ChartSkoala)
	latestInit := latestOf(rs.idx, product.ChartInit)
	if latest == "" {
		return Warn(fmt.Sprintf("is %s the skoala repository? the official one is %s", rs.repo.URL, helmsdk.OfficialRepoURL), "repository %s has no stable skoala version", rs.repo.Name)
	}
	msg := fmt.Sprintf("newest skoala %s, skoala-init %s", latest, latestInit)
	if e.Config.Mode != ModePreInstall {
		inst := e.installedVersions(ctx)
		if vs := inst[product.ChartSkoala]; len(vs) > 0 {
			if semver.Compare(latest, vs[0]) > 0 {
				msg += fmt.Sprintf(" (installed %s: upgrade available, newest patch %s)", vs[0], semver.LatestPatch(indexVersions(rs.idx, product.ChartSkoala), vs[0]))
			} else {
				msg += " (installed is the newest)"
			}
		}
	}
	return OK("%s", msg)
}

func checkUpgradePath(ctx context.Context, e *Env) Outcome {
	rs, _ := e.repo(ctx)
	if rs.idx == nil {
		return noIndex
	}
	inst := e.installedVersions(ctx)
	from := ""
	if vs := inst[product.ChartSkoala]; len(vs) > 0 {
		from = vs[len(vs)-1]
	}
	fromInit := ""
	if vs := inst[product.ChartInit]; len(vs) > 0 {
		fromInit = vs[len(vs)-1] // the oldest workspace decides the path
	}
	if from == "" && fromInit == "" {
		return Skip("no installed release could be read")
	}
	to := semver.Normalize(e.Config.TargetVersion)
	if to == "" {
		to = latestOf(rs.idx, product.ChartSkoala)
	}
	base := from
	if base == "" {
		base = fromInit
	}
	if semver.Compare(to, base) < 0 {
		if e.Config.Mode == ModePreUpgrade {
			return Fail("a downgrade is not an upgrade: roll back with 'helm rollback' (same minor only: hive migrates the database schema)", "target %s is older than the installed %s", to, base)
		}
		return OK("installed %s is newer than the repository's newest %s", base, to)
	}
	if semver.Equal(to, base) && (fromInit == "" || semver.Equal(to, fromInit)) {
		return OK("up to date at %s", to)
	}
	var steps []upgradepath.Step
	if from != "" {
		steps = append(steps, upgradepath.Steps(product.ChartSkoala, from, to)...)
	}
	if fromInit != "" {
		steps = append(steps, upgradepath.Steps(product.ChartInit, fromInit, to)...)
	}
	stops := upgradepath.Stops(base, to, indexVersions(rs.idx, product.ChartSkoala))
	var manual, auto []string
	for _, s := range steps {
		d := describeStep(s)
		if s.Automated {
			auto = append(auto, d)
		} else if s.Kind != upgradepath.KindNote {
			manual = append(manual, d)
		}
	}
	path := base + " -> " + to
	if len(stops) > 0 {
		path = base + " -> " + strings.Join(stops, " -> ") + " -> " + to
	}
	if len(stops) > 0 || len(manual) > 0 {
		var hints []string
		if len(stops) > 0 {
			hints = append(hints, "upgrade to each stop in turn ("+strings.Join(stops, ", ")+") and check with doctor between them")
		}
		for _, s := range steps {
			if !s.Automated && s.Command != "" {
				hints = append(hints, s.Command)
			}
		}
		msg := "upgrade path " + path
		if len(manual) > 0 {
			msg += "; by hand: " + strings.Join(manual, "; ")
		}
		if len(auto) > 0 {
			msg += "; upgrade does: " + strings.Join(auto, ", ")
		}
		return Warn(strings.Join(hints, "; "), "%s", msg)
	}
	msg := "upgrade path " + path
	if len(auto) > 0 {
		msg += "; kubectl skoala upgrade also does: " + strings.Join(auto, ", ")
	}
	return OK("%s", msg)
}

func describeStep(s upgradepath.Step) string {
	switch s.Kind {
	case upgradepath.KindCRDs:
		var files []string
		for _, f := range s.Files {
			files = append(files, path.Base(f))
		}
		return fmt.Sprintf("apply %s (%s CRDs)", strings.Join(files, ", "), s.At)
	case upgradepath.KindAdmissionJobs:
		if s.Mandatory {
			return "delete the admission Jobs (mandatory across 0.24.2)"
		}
		return "delete the admission Jobs"
	case upgradepath.KindDBMigration:
		return "the 0.19.0 DB migration (sweet UPGRADE job)"
	}
	return s.Description
}
