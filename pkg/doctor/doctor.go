// Package doctor implements 'kubectl skoala doctor': a catalogue of checks run against the control-plane
// cluster (release skoala), every workspace cluster (release skoala-init), the skoala database, the Helm
// repository and, optionally, the enterprise installer manifest.
//
// # API for other verbs (upgrade)
//
//	rep, err := doctor.PreUpgrade(ctx, doctor.Deps{Clusters: factory, Helm: env}, doctor.Config{
//		Namespace:     "skoala-system",
//		Targets:       fleet.Of("global", "workspace-1"),
//		TargetVersion: "0.57.2",
//	})
//	if err != nil { ... }         // doctor itself could not run (bad config, kubeconfig unreadable)
//	if rep.Failed() {             // at least one check failed: do not upgrade
//		for _, r := range rep.Failures() { ... r.ID, r.Cluster, r.Message, r.Hint }
//	}
//
// Run is the general entry point (Config.Mode selects ModeDefault, ModePreInstall or ModePreUpgrade);
// PreUpgrade and PreInstall set the mode for you. The returned Report lists every check result in a fixed
// order (category, then cluster, then catalogue order) and renders itself as a table, JSON or YAML.
//
// # Design
//
// Checks are data (check.go): a Check is an ID, a Category, a Scope (once, the control plane, each
// workspace, or every cluster), the checks it Needs, the API permissions it Uses, and a Run function that
// returns an Outcome. Adding a check is one value in one file of checks_*.go and one test. The runner
// (runner.go) runs the independent checks of each cluster concurrently, each within its own timeout and the
// whole within Config.Timeout; a check whose permissions are denied (SelfSubjectAccessReview) is skipped as
// "forbidden", and a check whose needs failed is skipped. The runner never prints: it hands each Result to an
// optional observer and returns the Report; the doctor command (pkg/cmd/doctor, render.go) prints it.
//
// Passwords never leave this package: every message and hint is scrubbed of the DSN password and of every
// secret found in the release values before it becomes a Result.
package doctor

import (
	"context"
	"fmt"
	"time"

	"k8s.io/client-go/dynamic"

	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/images"
	"github.com/skoala-dev/kubectl-skoala/pkg/product"
	"github.com/skoala-dev/kubectl-skoala/pkg/semver"
)

// Mode selects what the checks require.
type Mode string

// The modes.
const (
	// ModeDefault checks an installed platform (troubleshooting).
	ModeDefault Mode = "default"
	// ModePreInstall checks what must hold before the first install: namespaces, common-mysql, the database,
	// the repository, Kubernetes versions, insight-agent on the workspaces. The releases are not required.
	ModePreInstall Mode = "pre-install"
	// ModePreUpgrade checks an installed platform against Config.TargetVersion: Kubernetes range of the
	// target, the target in the repository, the upgrade path and what blocks helm upgrade.
	ModePreUpgrade Mode = "pre-upgrade"
)

// Roles of a cluster.
const (
	RoleControlPlane = fleet.RoleControlPlane
	RoleWorkspace    = fleet.RoleWorkspace
)

// Deps are doctor's collaborators, injected so that tests use fakes.
type Deps struct {
	// Clusters gives each target's clients.
	Clusters fleet.ClusterSource
	// Helm is Helm's environment (repositories.yaml and the index cache).
	Helm helmsdk.Env
	// OpenDB connects to the skoala database (--db); nil means the real MySQL driver.
	OpenDB DBOpener
	// Now is the clock (index freshness); nil means time.Now.
	Now func() time.Time
	// Dynamic gives a context's dynamic client (ServiceMonitors); nil means built from the cluster's config.
	Dynamic func(context string) dynamic.Interface
	// ImageCheck checks the target's images in Config.ImageRegistry; nil means images.CheckTarget.
	ImageCheck ImageCheckFunc
	// ImageValues computes the upgrade values the images are rendered with (upgrade.ImageValues; nil:
	// the release's values with global.imageRegistry).
	ImageValues images.ValuesFunc
}

// Config is what a doctor run checks, with no flags in sight.
type Config struct {
	Mode Mode
	// TargetVersion is the version an upgrade (or install) goes to. Pre-upgrade needs it; pre-install
	// defaults it to the newest version of the repository.
	TargetVersion string
	// Namespace is where the releases live (skoala-system).
	Namespace string
	// Targets are the control plane (at most one) and the workspaces.
	Targets []fleet.Target
	// Driver is the Helm storage driver (HELM_DRIVER).
	Driver string
	// InsightNamespace is where insight-agent lives on workspaces (insight-system).
	InsightNamespace string
	// MySQLNamespace is where common-mysql lives when the DSN does not say (mcamel-system).
	MySQLNamespace string
	// Timeout bounds the whole run; CheckTimeout each check.
	Timeout      time.Duration
	CheckTimeout time.Duration
	// Concurrency is how many checks run at once on one cluster.
	Concurrency int
	// Categories restricts the run to these categories (all when empty).
	Categories []CategoryID
	// DB connects to the database (opt-in); DSN overrides the release's DSN (and is the only one in
	// pre-install mode).
	DB  bool
	DSN string
	// Repo is the repository's name or URL in repositories.yaml ("" = found by URL, then by name); Refresh
	// downloads its index first; IndexMaxAge is when a cached index counts as stale.
	Repo        string
	Refresh     bool
	IndexMaxAge time.Duration
	// Manifest is the enterprise installer manifest to check ("" = not checked).
	Manifest string
	// Name is how the tool was invoked ("kubectl skoala"), for hints.
	Name string
	// UpgradeRights are, by context, the rights an upgrade's plan uses (derived from its manifests); the
	// permissions check asks about these instead of the fixed list of the product's charts.
	UpgradeRights map[string][]Access
	// ImageRegistry, with TargetVersion, checks that the registry holds every image of the target
	// (repository.images); RegistryCAFile is its CA. Credentials come from the docker config.
	ImageRegistry  string
	RegistryCAFile string
}

// Defaults for the zero values of Config.
const (
	DefaultTimeout      = 60 * time.Second
	DefaultCheckTimeout = 15 * time.Second
	DefaultConcurrency  = 4
	DefaultIndexMaxAge  = 7 * 24 * time.Hour
)

func (c *Config) setDefaults() {
	if c.Mode == "" {
		c.Mode = ModeDefault
	}
	if c.Namespace == "" {
		c.Namespace = product.Namespace
	}
	if c.InsightNamespace == "" {
		c.InsightNamespace = product.InsightNamespace
	}
	if c.MySQLNamespace == "" {
		c.MySQLNamespace = product.MySQLNamespace
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.CheckTimeout <= 0 {
		c.CheckTimeout = DefaultCheckTimeout
	}
	if c.CheckTimeout > c.Timeout {
		c.CheckTimeout = c.Timeout
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.IndexMaxAge <= 0 {
		c.IndexMaxAge = DefaultIndexMaxAge
	}
	if c.Name == "" {
		c.Name = "kubectl skoala"
	}
}

// Validate reports a configuration doctor cannot run with.
func (c *Config) Validate() error {
	switch c.Mode {
	case "", ModeDefault, ModePreInstall, ModePreUpgrade:
	default:
		return fmt.Errorf("unknown doctor mode %q", c.Mode)
	}
	if c.Mode == ModePreUpgrade && c.TargetVersion == "" {
		return fmt.Errorf("a pre-upgrade check needs the target version")
	}
	if c.TargetVersion != "" {
		if _, err := semver.Parse(c.TargetVersion); err != nil {
			return fmt.Errorf("target version: %w", err)
		}
	}
	for _, id := range c.Categories {
		if !knownCategory(id) {
			return fmt.Errorf("unknown category %q (want one of: %s)", id, categoryList())
		}
	}
	roles := map[string]bool{}
	for _, t := range c.Targets {
		if t.Role != RoleControlPlane && t.Role != RoleWorkspace {
			return fmt.Errorf("target %q has unknown role %q", t.Context, t.Role)
		}
		if t.Role == RoleControlPlane && roles[RoleControlPlane] {
			return fmt.Errorf("more than one control-plane target")
		}
		roles[t.Role] = true
	}
	return nil
}

// PreUpgrade runs the checks that must hold before an upgrade to cfg.TargetVersion (mode pre-upgrade).
func PreUpgrade(ctx context.Context, deps Deps, cfg Config) (*Report, error) {
	cfg.Mode = ModePreUpgrade
	return Run(ctx, deps, cfg, nil)
}

// PreInstall runs the checks that must hold before the first install (mode pre-install).
func PreInstall(ctx context.Context, deps Deps, cfg Config) (*Report, error) {
	cfg.Mode = ModePreInstall
	return Run(ctx, deps, cfg, nil)
}

// Run implements 'kubectl skoala doctor': it runs the catalogue (Catalogue) selected by cfg and returns the
// Report. observe, when not nil, is called with each result as it is decided (from several goroutines, one
// call at a time). The error is only for a configuration doctor cannot run with; everything found about the
// platform is in the Report.
func Run(ctx context.Context, deps Deps, cfg Config, observe func(Result)) (*Report, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Clusters == nil && len(cfg.Targets) > 0 {
		return nil, fmt.Errorf("doctor needs a cluster source")
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.OpenDB == nil {
		deps.OpenDB = OpenMySQL
	}
	return newRunner(deps, cfg, Catalogue()).run(ctx, observe), nil
}
