package verify

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/images"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
	"github.com/skoala-dev/kubectl-skoala/pkg/verify"
)

// Options are the verify command's options.
type Options struct {
	g      *cli.Globals
	Fleet  cli.FleetFlags
	Output string
	// Ignore are the --ignore values.
	Ignore  []string
	Keyring string
	Repo    string
	// RegistryCAFile and NoImages: how the running images' digests are read from their registries.
	RegistryCAFile string
	NoImages       bool

	format  render.Format
	ignores []verify.Ignore
}

// NewOptions returns the defaults.
func NewOptions(g *cli.Globals) *Options {
	return &Options{g: g, Fleet: cli.NewFleetFlags(), Output: "table"}
}

// Validate checks the flags.
func (o *Options) Validate() error {
	if err := o.Fleet.ValidateOutput(o.Output, &o.format); err != nil {
		return err
	}
	o.ignores = nil
	for _, s := range o.Ignore {
		ig, err := verify.ParseIgnore(strings.TrimSpace(s))
		if err != nil {
			return exit.Usagef("%v", err)
		}
		o.ignores = append(o.ignores, ig)
	}
	return nil
}

// Config turns the options into verify's configuration.
func (o *Options) Config(ctx context.Context) (verify.Config, error) {
	targets, err := o.Fleet.ResolveClusters(o.g)
	if err != nil {
		return verify.Config{}, err
	}
	cfg := verify.Config{
		Namespace:      o.g.Namespace(),
		Targets:        targets,
		Driver:         o.g.Helm.Driver,
		ClusterTimeout: o.Fleet.ClusterTimeout,
		MaxConcurrency: o.Fleet.MaxConcurrency,
		Ignore:         o.ignores,
		Name:           o.g.Name,
		Chart:          o.charts(),
	}
	if o.g.Dynamic != nil {
		cfg.Readers = func(kc *kube.Cluster) (verify.Reader, error) {
			d, m, err := o.g.Dynamic(kc)
			if err != nil {
				return nil, err
			}
			return &verify.DynamicReader{Dynamic: d, Mapper: m}, nil
		}
	}
	rec, err := images.LoadPushRecord(images.DefaultPushRecord())
	if err != nil {
		return cfg, exit.Failf("remove or fix the file, or set "+images.PushRecordEnv, "%v", err)
	}
	cfg.Images = &verify.ImageConfig{Pushed: rec.Digests()}
	if !o.NoImages {
		reg := images.RegistryOptions{CAFile: o.RegistryCAFile}
		cfg.Images.Digest = memo(reg.Digest)
	}
	if o.Keyring != "" {
		cfg.Provenance = o.provenance()
	}
	return cfg, nil
}

// charts downloads each installed chart version once from the repository (CRD files of subcharts, .prov).
func (o *Options) charts() func(ctx context.Context, chart, version string) (*helmsdk.Chart, error) {
	type result struct {
		ch  *helmsdk.Chart
		err error
	}
	var mu sync.Mutex
	cache := map[string]*result{}
	onces := map[string]*sync.Once{}
	return func(ctx context.Context, chart, version string) (*helmsdk.Chart, error) {
		key := chart + "@" + version
		mu.Lock()
		once := onces[key]
		if once == nil {
			once = &sync.Once{}
			onces[key] = once
			cache[key] = &result{}
		}
		r := cache[key]
		mu.Unlock()
		once.Do(func() {
			cs, err := images.ChartsFromRepository(ctx, o.g.Helm, o.Repo, version, []string{chart}, false, o.Fleet.ClusterTimeout)
			if err != nil {
				r.err = err
				return
			}
			r.ch = cs.ByName[chart]
		})
		return r.ch, r.err
	}
}

// provenance verifies each installed chart version's .prov once with the keyring.
func (o *Options) provenance() func(ctx context.Context, chart, version string) verify.Provenance {
	var mu sync.Mutex
	done := map[string]verify.Provenance{}
	return func(ctx context.Context, chart, version string) verify.Provenance {
		key := chart + "@" + version
		mu.Lock()
		defer mu.Unlock()
		if p, ok := done[key]; ok {
			return p
		}
		p := verify.Provenance{State: verify.ProvenanceNotChecked}
		v, err := helmsdk.VerifyProvenance(ctx, o.g.Helm, o.Repo, chart, version, o.Keyring, o.Fleet.ClusterTimeout)
		switch {
		case err != nil:
			p.Detail = err.Error()
		case !v.Signed:
			p.State, p.Detail = verify.ProvenanceUnsigned, "the repository has no .prov file for "+chart+" "+version
		case v.Error != "":
			p.State, p.Detail = verify.ProvenanceFailed, v.Error
		default:
			p.State, p.SignedBy = verify.ProvenanceVerified, v.SignedBy
			p.Detail = fmt.Sprintf("%s %s, sha256:%s", chart, version, v.FileHash)
		}
		done[key] = p
		return p
	}
}

// Run gathers and prints the report.
func (o *Options) Run(ctx context.Context) error {
	cfg, err := o.Config(ctx)
	if err != nil {
		return err
	}
	rep := verify.Gather(ctx, o.g.Factory(), cfg)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if len(rep.Clusters) == 1 && !rep.Clusters[0].Reachable {
		c := rep.Clusters[0]
		return exit.Failf(c.Hint, "cluster %s: %s", c.Context, c.Error)
	}
	if err := o.g.Write(o.format, render.View(rep, writeTable)); err != nil {
		return err
	}
	if rep.Differences > 0 {
		return exit.Silent{Code: exit.Problems}
	}
	return nil
}

// memo asks the registry once per reference (the fleet's workspaces run the same images).
func memo(f func(context.Context, string) (string, error)) func(context.Context, string) (string, error) {
	type result struct {
		d   string
		err error
	}
	var mu sync.Mutex
	done := map[string]*result{}
	return func(ctx context.Context, ref string) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if r, ok := done[ref]; ok {
			return r.d, r.err
		}
		d, err := f(ctx, ref)
		done[ref] = &result{d, err}
		return d, err
	}
}
