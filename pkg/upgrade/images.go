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
