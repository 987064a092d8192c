package images

import (
	"context"
	"fmt"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/semver"
)

// Charts are the target charts by name, and where they came from (for the fix commands).
type Charts struct {
	ByName map[string]*helmsdk.Chart
	// Bundles are the bundle files by chart name, when the charts came from bundles.
	Bundles map[string]string
}

// ChartsFromBundles opens and verifies the bundles and loads their original-chart.
func ChartsFromBundles(paths []string) (*Charts, []*Bundle, error) {
	c := &Charts{ByName: map[string]*helmsdk.Chart{}, Bundles: map[string]string{}}
	var bundles []*Bundle
	for _, p := range paths {
		b, err := OpenBundle(p)
		if err != nil {
			return nil, nil, err
		}
		bundles = append(bundles, b)
		if _, dup := c.ByName[b.Chart]; dup {
			continue // the same chart for another platform
		}
		ch, err := b.LoadChart()
		if err != nil {
			return nil, nil, err
		}
		c.ByName[b.Chart], c.Bundles[b.Chart] = ch, p
	}
	return c, bundles, nil
}

// ChartsFromPaths loads chart folders or archives.
func ChartsFromPaths(paths []string) (*Charts, error) {
	c := &Charts{ByName: map[string]*helmsdk.Chart{}}
	for _, p := range paths {
		ch, err := helmsdk.LoadChartPath(p, "")
		if err != nil {
			return nil, err
		}
		c.ByName[ch.Name] = ch
	}
	return c, nil
}

// ChartsFromRepository downloads version (the newest stable when "") of each named chart from the skoala
// repository of the helm configuration (want names it, as --repo).
func ChartsFromRepository(ctx context.Context, env helmsdk.Env, want, version string, names []string, refresh bool, timeout time.Duration) (*Charts, error) {
	repos, err := helmsdk.LoadRepositories(env.RepositoryConfig, env.RepositoryCache)
	if err != nil {
		return nil, err
	}
	repo, err := helmsdk.FindRepository(repos, want)
	if err != nil {
		return nil, fmt.Errorf("%w in %s", err, env.RepositoryConfig)
	}
	if refresh {
		if err := helmsdk.RefreshIndex(ctx, repo, timeout); err != nil {
			return nil, err
		}
	}
	idx, err := helmsdk.LoadIndex(repo.IndexPath)
	if err != nil {
		return nil, fmt.Errorf("%w (download it with 'helm repo update %s')", err, repo.Name)
	}
	c := &Charts{ByName: map[string]*helmsdk.Chart{}}
	for _, n := range names {
		var vs []string
		for _, v := range idx.Versions(n) {
			vs = append(vs, v.Version)
		}
		to := semver.Normalize(version)
		if version == "" {
			to = semver.Latest(vs, false)
		}
		var cv *helmsdk.ChartVersion
		for _, v := range idx.Versions(n) {
			if v.Version == to {
				v := v
				cv = &v
			}
		}
		if cv == nil && to == "" {
			return nil, fmt.Errorf("repository %s has no version of %s", repo.Name, n)
		}
		if cv == nil {
			return nil, fmt.Errorf("repository %s has no %s %s", repo.Name, n, to)
		}
		ch, err := helmsdk.DownloadChart(ctx, repo, *cv, timeout)
		if err != nil {
			return nil, err
		}
		c.ByName[n] = ch
	}
	return c, nil
}

// FixCommand is the command that pushes a chart's images: the bundle it came from, else the bundle's
// usual file name.
func (c *Charts) FixCommand(tool, registry string) func(chart, version string) string {
	return func(chart, version string) string {
		b := c.Bundles[chart]
		if b == "" {
			b = BundleFileName(chart, version)
		}
		if registry == "" {
			registry = "REGISTRY"
		}
		return fmt.Sprintf("%s images push --bundle %s --registry %s", tool, b, registry)
	}
}
