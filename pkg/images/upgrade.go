package images

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/product"
)

// BundleUpgrade is what an upgrade from offline bundles needs before it plans.
type BundleUpgrade struct {
	Bundles       []string
	ImageRegistry string
	Options       RegistryOptions
	// Fleet are the releases to upgrade.
	Fleet FleetConfig
	// Tool names the command in the fix hints ("kubectl skoala").
	Tool string
	// Dir is where the bundles' original-chart folders are written.
	Dir string
	// Values computes each release's upgrade values (nil: see ValuesFunc).
	Values ValuesFunc
	// Releases are the releases as the caller read them (nil: Check reads them).
	Releases []ReleaseValues
}

// MissingImagesError says the registry lacks images the upgrade needs.
type MissingImagesError struct {
	Report *CheckReport
}

func (e *MissingImagesError) Error() string {
	var names []string
	for _, im := range e.Report.Images {
		if im.Result != CheckPresent {
			names = append(names, im.Image+" ("+im.Result+")")
		}
	}
	return fmt.Sprintf("the registry lacks %d image(s) the upgrade needs: %s: nothing was changed", len(names), strings.Join(names, ", "))
}

// Hint is the push command that fixes it.
func (e *MissingImagesError) Hint() string { return strings.Join(e.Report.Fixes, "; ") }

// Offline is the verified bundles of an upgrade and the chart folders written from them.
type Offline struct {
	// Paths are the original-chart folders to upgrade from.
	Paths  []string
	charts *Charts
}

// ExtractBundles verifies the bundles (the four parts, chart name and version matching the file name)
// and writes each chart's original-chart under in.Dir. It reads no cluster.
func ExtractBundles(in BundleUpgrade) (*Offline, error) {
	charts, bundles, err := ChartsFromBundles(in.Bundles)
	if err != nil {
		return nil, err
	}
	off := &Offline{charts: charts}
	done := map[string]bool{}
	for _, b := range bundles {
		if done[b.Chart] {
			continue
		}
		done[b.Chart] = true
		p, err := b.ExtractChart(in.Dir)
		if err != nil {
			return nil, err
		}
		off.Paths = append(off.Paths, p)
	}
	return off, nil
}

// Check checks that the registry holds every image the releases render with the bundles' charts for the
// nodes' architectures. The releases are in.Releases, as the caller read them (the upgrade's plan: the
// fleet is not read twice); nil reads them here. A missing image is a *MissingImagesError (with the
// report).
func (off *Offline) Check(ctx context.Context, in BundleUpgrade) (*CheckReport, error) {
	var list *ListReport
	var archs []string
	var err error
	if in.Releases != nil {
		list, archs, err = off.listOf(ctx, in)
	} else {
		list, archs, err = off.charts.list(ctx, in.Fleet, in.ImageRegistry, in.Values)
	}
	if err != nil {
		return nil, err
	}
	rep, err := off.charts.check(ctx, list, archs, in.ImageRegistry, in.Tool, in.Options)
	if err != nil {
		return nil, err
	}
	if !rep.OK() {
		return rep, &MissingImagesError{Report: rep}
	}
	return rep, nil
}

// listOf lists the images of in.Releases that use the bundles' charts, and reads the nodes'
// architectures (the releases themselves are not read again).
func (off *Offline) listOf(ctx context.Context, in BundleUpgrade) (*ListReport, []string, error) {
	fc := in.Fleet
	fc.Targets = off.charts.targets(fc.Targets)
	archs, err := FleetArchitectures(ctx, fc)
	if err != nil {
		return nil, nil, err
	}
	var rels []ReleaseValues
	for _, r := range in.Releases {
		if off.charts.ByName[r.Chart] != nil {
			rels = append(rels, r)
		}
	}
	list, err := List(off.charts.ByName, rels, strings.Trim(in.ImageRegistry, "/"), in.Values)
	return list, archs, err
}

// ExtractChart writes original-chart/ into dir/<chart> and returns that folder.
func (b *Bundle) ExtractChart(dir string) (string, error) {
	root := filepath.Join(dir, b.Chart)
	for _, f := range b.files {
		p := filepath.Join(root, filepath.FromSlash(f.Name))
		if !strings.HasPrefix(p, root+string(filepath.Separator)) {
			return "", &BundleError{Path: b.Path, Reason: "original-chart/ names a file outside it: " + f.Name}
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return "", err
		}
	}
	return root, nil
}

// TargetCheck is a check of the images of a repository version (doctor --to V, the upgrade preflight).
type TargetCheck struct {
	Helm     helmsdk.Env
	Repo     string
	Version  string
	Registry string
	Options  RegistryOptions
	Fleet    FleetConfig
	Tool     string
	Timeout  time.Duration
	Values   ValuesFunc
}

// CheckTarget downloads the target version's charts from the repository, renders them for the fleet's
// releases with global.imageRegistry=Registry and checks that the registry holds every image for the
// nodes' architectures.
func CheckTarget(ctx context.Context, in TargetCheck) (*CheckReport, error) {
	names := map[string]bool{}
	for _, t := range in.Fleet.Targets {
		names[t.Chart()] = true
	}
	var charts []string
	for _, n := range []string{product.ChartSkoala, product.ChartInit} {
		if names[n] {
			charts = append(charts, n)
		}
	}
	ch, err := ChartsFromRepository(ctx, in.Helm, in.Repo, in.Version, charts, false, in.Timeout)
	if err != nil {
		return nil, err
	}
	list, archs, err := ch.list(ctx, in.Fleet, in.Registry, in.Values)
	if err != nil {
		return nil, err
	}
	return ch.check(ctx, list, archs, in.Registry, in.Tool, in.Options)
}
