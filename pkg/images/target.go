package images

import (
	"context"
	"strings"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/product"
)

// Source is where the target charts of 'images list' and 'images check' come from: offline bundles,
// chart folders or archives, or else the Helm repository (Version, or the newest).
type Source struct {
	Bundles []string
	Charts  []string
	Env     helmsdk.Env
	Repo    string
	Version string
	Refresh bool
	Timeout time.Duration
}

// ListConfig is what 'images list' and 'images check' render the target charts for.
type ListConfig struct {
	Source Source
	// Fleet are the releases; those whose chart the source lacks are left out.
	Fleet         FleetConfig
	ImageRegistry string
	// Values computes each release's values (the upgrade's; nil: see ValuesFunc).
	Values ValuesFunc
	// Tool names the command in the fix hints ("kubectl skoala").
	Tool string
}

// NoReleaseError is a fleet none of whose releases uses the given charts.
type NoReleaseError struct{}

func (*NoReleaseError) Error() string { return "no release of the fleet uses the given charts" }

// Hint says what to give instead.
func (*NoReleaseError) Hint() string {
	return "give the chart of the control plane (skoala) or of a workspace (skoala-init, with -w)"
}

// ListImages implements 'images list': the images the target charts render for each release of the fleet.
func ListImages(ctx context.Context, cfg ListConfig) (*ListReport, error) {
	rep, _, _, err := listFleet(ctx, cfg)
	return rep, err
}

// CheckImages implements 'images check': whether the registry (cfg.ImageRegistry) holds every image of
// ListImages's list for the architectures of the fleet's nodes.
func CheckImages(ctx context.Context, cfg ListConfig, opts RegistryOptions) (*CheckReport, error) {
	list, charts, archs, err := listFleet(ctx, cfg)
	if err != nil {
		return nil, err
	}
	opts.Host = RegistryHost(strings.Trim(cfg.ImageRegistry, "/"))
	return charts.check(ctx, list, archs, cfg.ImageRegistry, cfg.Tool, opts)
}

// listFleet loads the source's charts and lists the images of the fleet's releases that use them.
func listFleet(ctx context.Context, cfg ListConfig) (*ListReport, *Charts, []string, error) {
	charts, err := cfg.Source.charts(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(charts.targets(cfg.Fleet.Targets)) == 0 {
		return nil, nil, nil, &NoReleaseError{}
	}
	rep, archs, err := charts.list(ctx, cfg.Fleet, cfg.ImageRegistry, cfg.Values)
	return rep, charts, archs, err
}

func (s Source) charts(ctx context.Context) (*Charts, error) {
	switch {
	case len(s.Bundles) > 0:
		c, _, err := ChartsFromBundles(s.Bundles)
		return c, err
	case len(s.Charts) > 0:
		return ChartsFromPaths(s.Charts)
	}
	return ChartsFromRepository(ctx, s.Env, s.Repo, s.Version, []string{product.ChartSkoala, product.ChartInit}, s.Refresh, s.Timeout)
}

// targets are those of ts whose chart c has.
func (c *Charts) targets(ts []fleet.Target) []fleet.Target {
	var out []fleet.Target
	for _, t := range ts {
		if c.ByName[t.Chart()] != nil {
			out = append(out, t)
		}
	}
	return out
}

// list reads the releases of the fleet that use c's charts and lists the images the charts render for
// them with registry; it returns the nodes' architectures too.
func (c *Charts) list(ctx context.Context, fc FleetConfig, registry string, values ValuesFunc) (*ListReport, []string, error) {
	fc.Targets = c.targets(fc.Targets)
	rels, archs, err := ReadFleet(ctx, fc)
	if err != nil {
		return nil, nil, err
	}
	rep, err := List(c.ByName, rels, strings.Trim(registry, "/"), values)
	return rep, archs, err
}

// check checks that registry holds list's images for archs; the fix hints name tool.
func (c *Charts) check(ctx context.Context, list *ListReport, archs []string, registry, tool string, opts RegistryOptions) (*CheckReport, error) {
	registry = strings.Trim(registry, "/")
	return Check(ctx, CheckConfig{Needs: list.Needs(c.FixCommand(tool, registry)), Architectures: archs, Options: opts})
}
