package images

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

// The results of one image of a check.
const (
	CheckPresent         = "present"
	CheckMissing         = "missing"
	CheckMissingPlatform = "missing-platform"
	CheckFailed          = "failed"
)

// Need is one image the upgrade target needs, and who needs it.
type Need struct {
	Image string `json:"image"`
	// Chart and Version are the chart that renders it; Fix is the command that pushes it.
	Chart   string `json:"chart"`
	Version string `json:"version"`
	Fix     string `json:"fix,omitempty"`
}

// CheckConfig is what Check needs.
type CheckConfig struct {
	Needs []Need
	// Architectures are the cluster nodes' architectures (amd64, arm64); an image must exist for each.
	Architectures []string
	Options       RegistryOptions
}

// CheckedImage is the outcome for one image.
type CheckedImage struct {
	Need
	Result    string   `json:"result"`
	Digest    string   `json:"digest,omitempty"`
	Platforms []string `json:"platforms,omitempty"`
	// MissingArchitectures are the node architectures the registry has no image for.
	MissingArchitectures []string `json:"missingArchitectures,omitempty"`
	Message              string   `json:"message,omitempty"`
}

// CheckReport is the outcome of a check.
type CheckReport struct {
	Architectures []string       `json:"architectures"`
	Images        []CheckedImage `json:"images"`
	Present       int            `json:"present"`
	Missing       int            `json:"missing"`
	Failed        int            `json:"failed"`
	// Fixes are the commands that push what is missing, one per chart.
	Fixes []string `json:"fixes,omitempty"`
}

// OK reports whether every image is there for every architecture.
func (r *CheckReport) OK() bool { return r.Missing+r.Failed == 0 }

// Check asks the registries whether they hold every needed image (manifest HEAD, then the index's
// platforms or the image's config) for every node architecture. A registry that refuses the credentials
// stops the check with an *AuthError, one reached only over plain HTTP without Options.PlainHTTP with a
// *PlainHTTPError. The credentials of Options go to Options.Host only.
func Check(ctx context.Context, cfg CheckConfig) (*CheckReport, error) {
	archs := uniqSorted(cfg.Architectures)
	rep := &CheckReport{Architectures: archs, Images: []CheckedImage{}}
	needs := dedupNeeds(cfg.Needs)
	cfg.Options = cfg.Options.withGuard()
	opts, err := cfg.Options.remoteOptions(ctx)
	if err != nil {
		return rep, err
	}
	out := make([]CheckedImage, len(needs))
	errs := make([]error, len(needs))
	kube.ForEach(ctx, needs, 8, 0, func(_ context.Context, i int, n Need) {
		out[i], errs[i] = checkOne(cfg.Options, opts, n, archs)
	})
	for _, err := range errs {
		var ae *AuthError
		var pe *PlainHTTPError
		if errors.As(err, &ae) || errors.As(err, &pe) {
			return rep, err
		}
	}
	fixes := map[string]bool{}
	for _, c := range out {
		switch c.Result {
		case CheckPresent:
			rep.Present++
		case CheckFailed:
			rep.Failed++
		default:
			rep.Missing++
			if c.Fix != "" && !fixes[c.Fix] {
				fixes[c.Fix] = true
				rep.Fixes = append(rep.Fixes, c.Fix)
			}
		}
	}
	sort.Strings(rep.Fixes)
	rep.Images = out
	return rep, nil
}

func dedupNeeds(in []Need) []Need {
	seen := map[string]bool{}
	var out []Need
	for _, n := range in {
		if seen[n.Image] {
			continue
		}
		seen[n.Image] = true
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Image < out[j].Image })
	return out
}

func checkOne(o RegistryOptions, opts []remote.Option, n Need, archs []string) (CheckedImage, error) {
	c := CheckedImage{Need: n, Result: CheckFailed}
	ref, err := o.ParseRef(n.Image)
	if err != nil {
		c.Message = err.Error()
		return c, nil
	}
	head, err := remote.Head(ref, opts...)
	if err != nil {
		if isNotFound(err) {
			c.Result = CheckMissing
			c.Message = "not in the registry"
			return c, nil
		}
		if code, ok := isStatus(err, 401, 403); ok {
			return c, &AuthError{Registry: ref.Context().RegistryStr(), User: o.userOf(ref.Context().Registry), Status: code}
		}
		if pe := o.plainHTTPError(ref.Context().RegistryStr(), err); pe != err {
			return c, pe
		}
		c.Message = o.errLine(err)
		return c, nil
	}
	c.Digest = head.Digest.String()
	if head.MediaType.IsIndex() {
		idx, err := remote.Index(ref, opts...)
		if err == nil {
			m, err2 := idx.IndexManifest()
			if err2 == nil {
				for _, d := range m.Manifests {
					if d.Platform != nil {
						c.Platforms = append(c.Platforms, platformString(d.Platform.OS, d.Platform.Architecture, d.Platform.Variant))
					}
				}
			}
			err = err2
		}
		if err != nil {
			c.Message = "reading the index: " + o.errLine(err)
			return c, nil
		}
	} else {
		img, err := remote.Image(ref, opts...)
		if err == nil {
			cf, err2 := img.ConfigFile()
			if err2 == nil {
				c.Platforms = []string{platformString(cf.OS, cf.Architecture, cf.Variant)}
			}
			err = err2
		}
		if err != nil {
			c.Message = "reading the image config: " + o.errLine(err)
			return c, nil
		}
	}
	sort.Strings(c.Platforms)
	for _, a := range archs {
		found := false
		for _, p := range c.Platforms {
			parts := strings.Split(p, "/")
			if len(parts) >= 2 && parts[1] == a {
				found = true
			}
		}
		if !found {
			c.MissingArchitectures = append(c.MissingArchitectures, a)
		}
	}
	if len(c.MissingArchitectures) > 0 {
		c.Result = CheckMissingPlatform
		c.Message = fmt.Sprintf("no %s image (the registry has %s)", strings.Join(c.MissingArchitectures, ", "), strings.Join(c.Platforms, ", "))
		return c, nil
	}
	c.Result = CheckPresent
	return c, nil
}

func uniqSorted(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}
