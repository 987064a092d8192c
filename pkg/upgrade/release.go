package upgrade

import (
	"context"
	"fmt"
	"strings"

	"github.com/skoala-dev/kubectl-skoala/pkg/change"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/redact"
	"github.com/skoala-dev/kubectl-skoala/pkg/semver"
	"github.com/skoala-dev/kubectl-skoala/pkg/upgradepath"
)

// planRelease computes the values, image tags and steps of a release to change, and renders it
// server-side.
func planRelease(ctx context.Context, cfg Config, h *redact.Hasher, w *work) error {
	if !w.plan.changes() {
		return nil
	}
	if err := planValues(cfg, w); err != nil {
		return err
	}
	planSteps(cfg, w)
	return renderServerSide(ctx, cfg, h, w)
}

// planValues computes the new values and the image tags the release must run.
func planValues(cfg Config, w *work) error {
	p := w.plan
	var db *DB
	if p.Chart == ChartSkoala {
		db = &cfg.DB
	}
	vr, err := NewValues(ValuesInput{Chart: p.Chart, Version: p.To, Base: w.base, User: cfg.UserValues,
		ImageRegistry: cfg.ImageRegistry, UITag: cfg.UITag, DB: db})
	if err != nil {
		return err
	}
	w.values = vr.Values
	w.secrets = append(w.secrets, redact.Secrets(vr.Values)...)
	p.Overrides = vr.Overrides
	p.Dropped = vr.Dropped
	p.Warnings = append(p.Warnings, vr.Warnings...)
	w.tags = map[string]string{}
	for _, it := range vr.ImageTags {
		p.ImageTags = append(p.ImageTags, it)
		w.tags[it.Component] = it.Tag
	}
	if p.Chart == ChartSkoala && cfg.UITag != "" {
		p.ImageTags = append(p.ImageTags, ImageTag{Component: "skoala-ui", Key: UITagKey, Tag: cfg.UITag})
		w.tags["skoala-ui"] = cfg.UITag
	}
	for i := range p.Overrides {
		p.Overrides[i].Value = redact.Scrub(p.Overrides[i].Value, w.secrets)
	}
	return nil
}

// planSteps lists the steps of the release, in the order they run, and the manual ones.
func planSteps(cfg Config, w *work) {
	p := w.plan
	if w.last != nil {
		p.Steps = append(p.Steps, Step{Kind: StepBackup, Automated: true, Description: fmt.Sprintf("back up the values of revision %d to %s", baseRevision(w), cfg.BackupDir)})
	}
	if p.Action == ActionResume {
		p.Steps = append(p.Steps, Step{Kind: StepUnlock, Automated: true, Description: fmt.Sprintf("mark the stale %s revision %d failed", w.last.Status, w.last.Revision)})
	}
	from := p.From
	if p.Action == ActionInstall {
		from = ""
	}
	for _, s := range upgradepath.Steps(p.Chart, from, p.To) {
		switch s.Kind {
		case upgradepath.KindAdmissionJobs:
			p.Steps = append(p.Steps, Step{Kind: StepJobs, Automated: true, Mandatory: s.Mandatory, Description: "delete Jobs " + strings.Join(upgradepath.AdmissionJobs, ", ") + " (their pod template is immutable)", Command: s.Command})
		case upgradepath.KindCRDs:
			p.Steps = append(p.Steps, Step{Kind: StepCRDs, Automated: true, Mandatory: s.Mandatory, Files: s.Files, Command: s.Command,
				Description: fmt.Sprintf("apply %s of the %s chart (needed from %s: Helm does not upgrade crds/)", strings.Join(s.Files, ", "), p.To, s.At)})
			w.findCRDs(s.Files)
		default:
			p.Manual = append(p.Manual, Step{Kind: string(s.Kind), Description: s.Description, Mandatory: s.Mandatory, Command: s.Command})
		}
	}
	p.Steps = append(p.Steps, Step{Kind: StepHelm, Automated: true, Description: helmDescription(cfg, p)})
	p.Steps = append(p.Steps, Step{Kind: StepVerify, Automated: true, Description: verifyDescription(cfg, p)})
}

// findCRDs takes the chart's crds/ files the plan applies, with a warning for each the chart lacks.
func (w *work) findCRDs(files []string) {
	if w.chart == nil {
		return
	}
	have := map[string]helmsdk.CRDFile{}
	for _, cf := range w.chart.CRDFiles() {
		have[cf.Path] = cf
	}
	for _, f := range files {
		cf, ok := have[f]
		if !ok {
			w.plan.Warnings = append(w.plan.Warnings, fmt.Sprintf("the %s %s chart has no %s: that CRD step is skipped", w.plan.Chart, w.plan.To, f))
			continue
		}
		w.crds = append(w.crds, cf)
	}
}

func helmDescription(cfg Config, p *ReleasePlan) string {
	desc := fmt.Sprintf("helm upgrade %s to %s %s", p.Release, p.Chart, p.To)
	if p.Action == ActionInstall {
		desc = fmt.Sprintf("helm install %s %s %s (creating namespace %s)", p.Release, p.Chart, p.To, cfg.Namespace)
	}
	mode := "wait " + cfg.Timeout.String()
	if cfg.Atomic {
		mode = "atomic, " + mode
	}
	if cfg.CleanupOnFail {
		mode += ", cleanup-on-fail"
	}
	return desc + " (" + mode + ")"
}

func verifyDescription(cfg Config, p *ReleasePlan) string {
	verify := "verify that every component is ready"
	if len(p.ImageTags) > 0 {
		var cs []string
		for _, it := range p.ImageTags {
			cs = append(cs, it.Component)
		}
		verify += " and that " + strings.Join(cs, ", ") + " run " + semver.Tag(p.To)
	}
	if cfg.ImageRegistry != "" {
		verify += ", every image from " + cfg.ImageRegistry
	}
	return verify
}

// renderServerSide renders the upgrade or install against the cluster (schema validation, lookups) for
// the manifest of the progress view and, in a dry run, the diff.
// In a dry run every secret of the diff shows as its keyed digest (h, one key per run).
func renderServerSide(ctx context.Context, cfg Config, h *redact.Hasher, w *work) error {
	p := w.plan
	if p.Action == ActionResume || w.chart == nil {
		return nil
	}
	opts := helmsdk.UpgradeOptions{Values: w.values, DryRun: true, Timeout: cfg.Timeout}
	var rendered *helmsdk.Release
	var err error
	if p.Action == ActionInstall {
		rendered, err = w.helm.Install(ctx, w.target.Release, w.chart, opts)
	} else {
		rendered, err = w.helm.Upgrade(ctx, w.target.Release, w.chart, opts)
	}
	if err != nil {
		return fmt.Errorf("rendering the %s server-side: %w", p.Action, err)
	}
	w.objects = rendered.Objects()
	w.manifest = rendered.Manifest
	warnRecordSize(p, rendered)
	if cfg.DryRun {
		var oldManifest string
		if b := baseRelease(w); b != nil {
			oldManifest = b.Manifest
		}
		p.Diff = append([]change.FileDiff{change.ValuesDiff(h, w.base, w.values, w.secrets)}, change.ManifestDiff(h, oldManifest, rendered.Manifest, w.secrets)...)
		dryRunCRDs(ctx, w, cfg.Force) // the CRD changes, by a server-side dry run of the apply
	}
	return nil
}

// warnRecordSize predicts the size of the release record the upgrade would write (Helm's encoding of the
// rendered release) and warns from 90% of the limit.
func warnRecordSize(p *ReleasePlan, rendered *helmsdk.Release) {
	n, err := rendered.RecordSize()
	if err != nil || n*100 < helmsdk.RecordLimit*helmsdk.RecordWarnPercent {
		return
	}
	p.Warnings = append(p.Warnings, fmt.Sprintf("the release record of %s %s would be %d bytes, %.1f%% of the API server's 1 MiB limit: the upgrade may fail writing it (see 'verify' for the current record's size)",
		p.Release, p.To, n, float64(n)*100/float64(helmsdk.RecordLimit)))
}
