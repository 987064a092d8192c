package upgrade

import (
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/images"
)

// ImageValues are the values an upgrade gives a release (NewValues without -f/--set): the image tags of
// the target version, a pinned UI tag dropped, global.imageRegistry. It is the images.ValuesFunc of the
// image checks (images list/check, doctor --to, upgrade --bundle).
func ImageValues(r images.ReleaseValues, ch *helmsdk.Chart, registry string) (map[string]any, error) {
	res, err := NewValues(ValuesInput{Chart: ch.Name, Version: ch.Version, Base: r.Values, ImageRegistry: registry})
	if err != nil {
		return nil, err
	}
	return res.Values, nil
}

// ImageReleases are the releases of the plan as it read them, for the image check of an upgrade from
// offline bundles (images.Offline.Check): the fleet is not read a second time.
func (p *Planned) ImageReleases() []images.ReleaseValues {
	out := make([]images.ReleaseValues, 0, len(p.works))
	for _, w := range p.works {
		out = append(out, images.ReleaseValues{Context: w.target.Context, Role: w.target.Role, Release: w.target.Release,
			Namespace: p.cfg.Namespace, Chart: w.target.Chart(), Installed: w.plan.From, Values: w.base})
	}
	return out
}
