package backup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

// Config is what Take needs.
type Config struct {
	Namespace      string
	Targets        []fleet.Target
	Driver         string
	ClusterTimeout time.Duration
	MaxConcurrency int
	Options
	Now  func() time.Time
	Tool string
}

// SourceOf turns a release revision read from cluster into what Write takes.
func SourceOf(cluster string, rel *helmsdk.Release, computed bool, now time.Time, tool string) (Source, error) {
	src := Source{
		Meta: Meta{Cluster: cluster, Namespace: rel.Namespace, Release: rel.Name, Revision: rel.Revision,
			Chart: rel.Chart, Version: rel.ChartVersion, Status: rel.Status, Time: now.UTC(), Tool: tool},
		Values: rel.Values,
	}
	if computed {
		cv, err := rel.ComputedValues()
		if err != nil {
			return src, err
		}
		src.Computed = cv
	}
	return src, nil
}

// Take backs up the current revision of every target's release. A release that is absent is noted; a
// cluster that cannot be read is an error of the report, and never stops the others.
func Take(ctx context.Context, clusters fleet.ClusterSource, cfg Config) *Report {
	rep := &Report{Schema: SchemaVersion, Dir: cfg.Dir}
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	type result struct {
		rb   *ReleaseBackup
		err  string
		note string
	}
	res := make([]result, len(cfg.Targets))
	kube.ForEach(ctx, cfg.Targets, cfg.MaxConcurrency, cfg.ClusterTimeout, func(ctx context.Context, i int, t fleet.Target) {
		kc, err := clusters.Cluster(t.Context)
		if err != nil {
			msg, _ := kube.Explain(err, "", "")
			res[i].err = fmt.Sprintf("%s: %s", t.Context, msg)
			return
		}
		rel, err := helmsdk.GetCurrent(ctx, kc.Client, cfg.Namespace, t.Release, cfg.Driver)
		var nf *helmsdk.NotFoundError
		if errors.As(err, &nf) {
			res[i].note = fmt.Sprintf("%s: %s: nothing to back up", t.Context, nf.Error())
			return
		}
		if err != nil {
			msg, _ := kube.Explain(err, "list", "secrets in namespace "+cfg.Namespace)
			res[i].err = fmt.Sprintf("%s: release %s: %s", t.Context, t.Release, msg)
			return
		}
		src, err := SourceOf(t.Context, rel, cfg.Computed, now(), cfg.Tool)
		if err != nil {
			res[i].err = fmt.Sprintf("%s: %v", t.Context, err)
			return
		}
		files, err := Write(src, cfg.Options)
		rb := &ReleaseBackup{Meta: src.Meta, Files: files}
		res[i].rb = rb
		if err != nil {
			res[i].err = err.Error()
		}
	})
	for _, r := range res {
		if r.rb != nil && len(r.rb.Files) > 0 {
			rep.Backups = append(rep.Backups, *r.rb)
		}
		if r.err != "" {
			rep.Errors = append(rep.Errors, r.err)
		}
		if r.note != "" {
			rep.Warnings = append(rep.Warnings, r.note)
		}
	}
	return rep
}
