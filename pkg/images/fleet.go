package images

import (
	"context"
	"fmt"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

// FleetConfig says which releases to read: each target's chart follows from its role (fleet.Target.Chart).
type FleetConfig struct {
	Clusters  fleet.ClusterSource
	Targets   []fleet.Target
	Namespace string
	Driver    string
	Timeout   time.Duration
}

// ReadFleet reads each target's release values (the chart defaults when it is not installed) and the
// architectures of every target cluster's nodes.
func ReadFleet(ctx context.Context, cfg FleetConfig) ([]ReleaseValues, []string, error) {
	out := make([]ReleaseValues, len(cfg.Targets))
	archs := make([][]string, len(cfg.Targets))
	errs := make([]error, len(cfg.Targets))
	kube.ForEach(ctx, cfg.Targets, 8, cfg.Timeout, func(ctx context.Context, i int, t fleet.Target) {
		out[i] = ReleaseValues{Context: t.Context, Role: t.Role, Release: t.Release, Namespace: cfg.Namespace, Chart: t.Chart()}
		c, err := cfg.Clusters.Cluster(t.Context)
		if err != nil {
			errs[i] = err
			return
		}
		vals, version, err := ReadRelease(ctx, c.Client, cfg.Namespace, t.Release, cfg.Driver)
		if err != nil {
			errs[i] = err
			return
		}
		out[i].Values, out[i].Installed = vals, version
		archs[i], errs[i] = NodeArchitectures(ctx, c.Client)
	})
	var all []string
	for i, err := range errs {
		if err != nil {
			msg, _ := kube.Explain(err, "", "")
			return nil, nil, fmt.Errorf("cluster %s: %s", cfg.Targets[i].Context, msg)
		}
		all = append(all, archs[i]...)
	}
	return out, uniqSorted(all), nil
}

// FleetArchitectures reads the architectures of every target cluster's nodes (one read per cluster).
func FleetArchitectures(ctx context.Context, cfg FleetConfig) ([]string, error) {
	seen := map[string]bool{}
	var ctxs []string
	for _, t := range cfg.Targets {
		if !seen[t.Context] {
			seen[t.Context] = true
			ctxs = append(ctxs, t.Context)
		}
	}
	archs := make([][]string, len(ctxs))
	errs := make([]error, len(ctxs))
	kube.ForEach(ctx, ctxs, 8, cfg.Timeout, func(ctx context.Context, i int, name string) {
		c, err := cfg.Clusters.Cluster(name)
		if err != nil {
			errs[i] = err
			return
		}
		archs[i], errs[i] = NodeArchitectures(ctx, c.Client)
	})
	var all []string
	for i, err := range errs {
		if err != nil {
			msg, _ := kube.Explain(err, "", "")
			return nil, fmt.Errorf("cluster %s: %s", ctxs[i], msg)
		}
		all = append(all, archs[i]...)
	}
	return uniqSorted(all), nil
}
