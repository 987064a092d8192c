package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/skoala-dev/kubectl-skoala/pkg/images"
	"github.com/skoala-dev/kubectl-skoala/pkg/semver"
)

// IDRepoImages is the image check of doctor --to V --image-registry R (issue 11).
const IDRepoImages = "repository.images"

// ImageCheckFunc checks the images of a target version in a registry (images.CheckTarget; tests inject
// a fake).
type ImageCheckFunc func(ctx context.Context, in images.TargetCheck) (*images.CheckReport, error)

func imageChecks() []Check {
	return []Check{{ID: IDRepoImages, Category: CatRepository, Scope: ScopeOnce, Description: "target images in the registry",
		Applies: func(cfg *Config) bool { return cfg.TargetVersion != "" && cfg.ImageRegistry != "" },
		Modes:   []Mode{ModePreInstall, ModePreUpgrade}, Needs: []string{IDRepoIndex}, Run: checkRepoImages}}
}

func checkRepoImages(ctx context.Context, e *Env) Outcome {
	run := e.r.deps.ImageCheck
	if run == nil {
		run = images.CheckTarget
	}
	to := semver.Normalize(e.Config.TargetVersion)
	rep, err := run(ctx, images.TargetCheck{Helm: e.r.deps.Helm, Repo: e.Config.Repo, Version: to, Registry: e.Config.ImageRegistry,
		Options: images.RegistryOptions{CAFile: e.Config.RegistryCAFile}, Tool: e.Config.Name, Timeout: e.Config.CheckTimeout, Values: e.r.deps.ImageValues,
		Fleet: images.FleetConfig{Clusters: e.r.deps.Clusters, Targets: e.Config.Targets, Namespace: e.Config.Namespace, Driver: e.Config.Driver, Timeout: e.Config.CheckTimeout}})
	if err != nil {
		return Fail(fmt.Sprintf("'%s images check --version %s --image-registry %s' says more", e.Config.Name, to, e.Config.ImageRegistry), "could not check the images in %s: %v", e.Config.ImageRegistry, err)
	}
	if !rep.OK() {
		var missing []string
		for _, im := range rep.Images {
			if im.Result != images.CheckPresent {
				missing = append(missing, im.Image+" ("+im.Result+")")
			}
		}
		return Fail(strings.Join(rep.Fixes, "; "), "%d of %d image(s) of %s are not in %s for %s: %s", len(missing), len(rep.Images), to,
			e.Config.ImageRegistry, strings.Join(rep.Architectures, ", "), strings.Join(missing, ", "))
	}
	return OK("all %d image(s) of %s are in %s for %s", len(rep.Images), to, e.Config.ImageRegistry, strings.Join(rep.Architectures, ", "))
}
