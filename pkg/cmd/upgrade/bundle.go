package upgrade

import (
	"context"
	"errors"
	"os"

	imagescmd "github.com/skoala-dev/kubectl-skoala/pkg/cmd/images"
	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/images"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
	"github.com/skoala-dev/kubectl-skoala/pkg/upgrade"
)

// offlineCharts (issue 11): with --bundle, verifies the bundles and writes their original-chart folders
// to a temporary directory (the fleet is read once, by the plan; checkBundleImages checks the images
// then). The logic lives in pkg/images.
func (o *Options) offlineCharts() (*images.Offline, func(), error) {
	noop := func() {}
	if len(o.Bundles) == 0 {
		return nil, noop, nil
	}
	if len(o.Charts) > 0 || o.Version != "" || o.Repo != "" || o.Refresh || o.ToLatestPatch {
		return nil, noop, exit.Usagef("--bundle and --chart/--version/--repo/--refresh/--to-latest-patch are mutually exclusive")
	}
	dir, err := os.MkdirTemp("", "skoala-bundles-")
	if err != nil {
		return nil, noop, err
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	off, err := images.ExtractBundles(o.bundleUpgrade(dir, nil, nil))
	if err != nil {
		return nil, cleanup, exit.New(exit.Failure, err, "")
	}
	return off, cleanup, nil
}

// checkBundleImages refuses (exit 3, nothing changed) when the registry lacks an image the upgrade
// needs, for the releases as the plan read them (p nil: a plan that failed; the check reads them).
func (o *Options) checkBundleImages(ctx context.Context, off *images.Offline, targets []fleet.Target, p *upgrade.Planned) error {
	if off == nil {
		return nil
	}
	var rels []images.ReleaseValues
	if p != nil {
		rels = p.ImageReleases()
	}
	rep, err := off.Check(ctx, o.bundleUpgrade("", targets, rels))
	var me *images.MissingImagesError
	switch {
	case errors.As(err, &me):
		// The check's report, in the -o format (it was always a table), then the refusal.
		if werr := o.g.Write(o.format, render.View(rep, imagescmd.WriteCheckTable)); werr != nil {
			return werr
		}
		return exit.New(exit.Problems, err, me.Hint())
	case err != nil:
		return exit.New(exit.Failure, err, "")
	}
	return nil
}

func (o *Options) bundleUpgrade(dir string, targets []fleet.Target, rels []images.ReleaseValues) images.BundleUpgrade {
	return images.BundleUpgrade{Bundles: o.Bundles, ImageRegistry: o.ImageRegistry,
		Options: images.RegistryOptions{CAFile: o.RegistryCAFile}, Tool: o.g.Name, Dir: dir, Values: o.bundleValues, Releases: rels,
		Fleet: images.FleetConfig{Clusters: o.g.Factory(), Targets: targets, Namespace: o.g.Namespace(), Driver: o.g.Helm.Driver, Timeout: o.Fleet.ClusterTimeout}}
}

// bundleValues are the values the plan gives a release (with this run's -f/--set, --ui-tag, --db-*), for
// the image check of --bundle.
func (o *Options) bundleValues(r images.ReleaseValues, ch *helmsdk.Chart, registry string) (map[string]any, error) {
	res, err := upgrade.NewValues(upgrade.ValuesInput{Chart: ch.Name, Version: ch.Version, Base: r.Values, User: o.user,
		ImageRegistry: registry, UITag: o.UITag, DB: &o.DB})
	if err != nil {
		return nil, err
	}
	return res.Values, nil
}
