package helmsdk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/action"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	helmkube "helm.sh/helm/v4/pkg/kube"
	ri "helm.sh/helm/v4/pkg/release"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	rspb "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"
)

// Client performs Helm operations on the releases of one namespace of one cluster, through Helm's
// action.Configuration built from the cluster's pinned RESTClientGetter and the storage driver.
type Client struct {
	Namespace string
	cfg       *action.Configuration
	driver    string
	// mapper finds the version of a custom resource the readiness reader reads (nil: it cannot).
	mapper meta.RESTMapper
}

// NewClient builds a client for namespace with the storage driver of HELM_DRIVER (driver). log receives
// Helm's debug lines (nil discards them); callers must scrub them before printing.
func NewClient(getter genericclioptions.RESTClientGetter, namespace, driverName string, log func(format string, v ...any)) (*Client, error) {
	drv, err := NormalizeDriver(driverName)
	if err != nil {
		return nil, err
	}
	// Helm 4 logs through slog: its lines go to log (one line each, formatted), never to slog's default.
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(newLineHandler(log)))
	if err := cfg.Init(getter, namespace, drv); err != nil {
		return nil, fmt.Errorf("preparing helm for namespace %s: %w", namespace, err)
	}
	var mapper meta.RESTMapper
	if kc, ok := cfg.KubeClient.(*helmkube.Client); ok {
		kc.Namespace = namespace
		if m, err := getter.ToRESTMapper(); err == nil {
			mapper = m
		}
	}
	return &Client{Namespace: namespace, cfg: cfg, driver: drv, mapper: mapper}, nil
}

// Last returns the newest revision of a release, whatever its status (*NotFoundError when none).
func (c *Client) Last(name string) (*Release, error) {
	r, err := c.last(name)
	if err != nil {
		if errors.Is(err, driver.ErrReleaseNotFound) {
			return nil, &NotFoundError{Name: name, Namespace: c.Namespace}
		}
		// Helm's storage skips the records it cannot decode, so a release whose records are corrupt reads as
		// "no revision": decode them here to say which record is corrupt.
		if strings.Contains(err.Error(), "no revision for release") {
			if ce := c.corrupt(name); ce != nil {
				return nil, fmt.Errorf("reading release %s: %w", name, ce)
			}
		}
		return nil, fmt.Errorf("reading release %s: %w", name, err)
	}
	return fromRaw(r), nil
}

// corrupt returns the *CorruptError of the current record of a release, or nil.
func (c *Client) corrupt(name string) error {
	if c.cfg.RESTClientGetter == nil {
		return nil
	}
	rc, err := c.cfg.RESTClientGetter.ToRESTConfig()
	if err != nil {
		return nil
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var ce *CorruptError
	if _, err := GetCurrent(ctx, cs, c.Namespace, name, c.driver); errors.As(err, &ce) {
		return ce
	}
	return nil
}

// Deployed returns the deployed revision of a release (*NotFoundError when no revision is deployed).
func (c *Client) Deployed(name string) (*Release, error) {
	r, err := asRelease(c.cfg.Releases.Deployed(name))
	if err != nil {
		if errors.Is(err, driver.ErrReleaseNotFound) || errors.Is(err, driver.ErrNoDeployedReleases) {
			return nil, &NotFoundError{Name: name, Namespace: c.Namespace}
		}
		return nil, fmt.Errorf("reading the deployed revision of %s: %w", name, err)
	}
	return fromRaw(r), nil
}

// Unlock marks a release revision that an interrupted operation left pending-* as failed, so that Helm
// accepts the next upgrade (Helm refuses to upgrade a pending release). The revision must be the newest
// and still pending.
func (c *Client) Unlock(name string, revision int, description string) error {
	last, err := c.last(name)
	if err != nil {
		return fmt.Errorf("reading release %s: %w", name, err)
	}
	if last.Version != revision || !last.Info.Status.IsPending() {
		return fmt.Errorf("release %s changed: revision %d is %s, not the pending revision %d", name, last.Version, last.Info.Status, revision)
	}
	last.Info.Status = rcommon.StatusFailed
	last.Info.Description = description
	if err := c.cfg.Releases.Update(last); err != nil {
		return fmt.Errorf("marking revision %d of %s failed: %w", revision, name, err)
	}
	return nil
}

// UpgradeOptions are the settings of an upgrade or install.
type UpgradeOptions struct {
	// Values are the complete user-supplied values of the new revision (nothing is reused implicitly).
	Values  map[string]any
	Timeout time.Duration
	Wait    bool
	// WaitForJobs also waits for the release's Jobs to complete.
	WaitForJobs   bool
	Atomic        bool
	CleanupOnFail bool
	MaxHistory    int
	// DryRun renders the operation against the cluster (server-side: lookups and schema validation) and
	// changes nothing.
	DryRun      bool
	Description string
	// ForceReplace is what helm 4's --force means (--force-replace): objects that cannot be patched are
	// deleted and created again. No verb sets it: the plugin's own --force is about its pre-upgrade
	// checks and never reaches Helm.
	ForceReplace bool
}

// OperationError is a failed upgrade, install or rollback, classified.
type OperationError struct {
	Op      string // "upgrade" or "install"
	Release string
	// RolledBack is set when Helm rolled the release back (--atomic) after the failure; for an install, it
	// was uninstalled.
	RolledBack bool
	// TimedOut is set when the wait for the resources ran out of time.
	TimedOut bool
	// Interrupted is set when the context was cancelled (Ctrl-C).
	Interrupted bool
	// RollbackFailed is set when the failure's rollback failed in turn.
	RollbackFailed bool
	Err            error
}

func (e *OperationError) Error() string {
	if e.Op == "rollback" { // its error names the release and the revision already
		return e.Err.Error()
	}
	return fmt.Sprintf("%s of %s: %v", e.Op, e.Release, e.Err)
}
func (e *OperationError) Unwrap() error { return e.Err }

func classify(op, name string, err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	oe := &OperationError{Op: op, Release: name, Err: err}
	// Helm 4 says "rollback-on-failure" where Helm 3 said "atomic".
	oe.RolledBack = strings.Contains(msg, "has been rolled back due to") || strings.Contains(msg, "has been uninstalled due to")
	oe.RollbackFailed = strings.Contains(msg, "an error occurred while rolling back the release") ||
		strings.Contains(msg, "an error occurred while uninstalling the release")
	oe.TimedOut = errors.Is(err, context.DeadlineExceeded) || strings.Contains(msg, "context deadline exceeded") || strings.Contains(msg, "timed out waiting for the condition")
	oe.Interrupted = errors.Is(err, context.Canceled) || strings.Contains(msg, "context canceled")
	return oe
}

// Upgrade upgrades release name to chart ch with exactly opts.Values as its user-supplied values.
func (c *Client) Upgrade(ctx context.Context, name string, ch *Chart, opts UpgradeOptions) (*Release, error) {
	if ch == nil || ch.raw == nil {
		return nil, errors.New("no chart to upgrade with")
	}
	vals := opts.Values
	if vals == nil {
		vals = map[string]any{}
	}
	r, err := c.newUpgrade(ctx, opts).RunWithContext(ctx, name, copyChart(ch), deepCopy(vals))
	if err != nil {
		return releaseOrNil(r), classify("upgrade", name, err)
	}
	return releaseOrNil(r), nil
}

// newUpgrade is the Helm upgrade action of opts, every setting that decides how it applies and waits set
// explicitly (apply.go).
func (c *Client) newUpgrade(ctx context.Context, opts UpgradeOptions) *action.Upgrade {
	u := action.NewUpgrade(c.cfg)
	u.Namespace = c.Namespace
	u.Timeout = opts.Timeout
	u.WaitStrategy = waitStrategy(opts.Wait)
	u.WaitOptions = c.waitOptions(ctx)
	u.WaitForJobs = opts.WaitForJobs
	u.RollbackOnFailure = opts.Atomic
	u.CleanupOnFail = opts.CleanupOnFail
	u.MaxHistory = opts.MaxHistory
	u.Description = opts.Description
	u.ResetValues = true // the values given are the whole set
	u.ServerSideApply = upgradeApply
	u.ForceReplace = opts.ForceReplace
	u.ForceConflicts = false // client-side apply has no conflicts to force
	u.DryRunStrategy = dryRunStrategy(opts.DryRun)
	return u
}

// Install installs release name from chart ch, creating the namespace when it is missing.
func (c *Client) Install(ctx context.Context, name string, ch *Chart, opts UpgradeOptions) (*Release, error) {
	if ch == nil || ch.raw == nil {
		return nil, errors.New("no chart to install")
	}
	in := c.newInstall(ctx, name, opts)
	vals := opts.Values
	if vals == nil {
		vals = map[string]any{}
	}
	r, err := in.RunWithContext(ctx, copyChart(ch), deepCopy(vals))
	if err != nil {
		return releaseOrNil(r), classify("install", name, err)
	}
	return releaseOrNil(r), nil
}

// newInstall is the Helm install action of opts, every setting that decides how it applies and waits set
// explicitly (apply.go).
func (c *Client) newInstall(ctx context.Context, name string, opts UpgradeOptions) *action.Install {
	in := action.NewInstall(c.cfg)
	in.ReleaseName = name
	in.Namespace = c.Namespace
	in.CreateNamespace = true
	in.Timeout = opts.Timeout
	in.WaitStrategy = waitStrategy(opts.Wait)
	in.WaitOptions = c.waitOptions(ctx)
	in.WaitForJobs = opts.WaitForJobs
	in.RollbackOnFailure = opts.Atomic
	in.Description = opts.Description
	in.ServerSideApply = installApply
	in.ForceReplace = opts.ForceReplace
	in.ForceConflicts = false
	in.DryRunStrategy = dryRunStrategy(opts.DryRun)
	return in
}

// releaseOrNil is the release an action returned, nil when it returned none.
func releaseOrNil(r ri.Releaser) *Release {
	rel, err := asRelease(r, nil)
	if err != nil || rel == nil {
		return nil
	}
	return fromRaw(rel)
}

// asRelease is a release record of Helm's storage or actions as the v1 release it is (the only kind of
// record Helm 3 and Helm 4 write).
func asRelease(r ri.Releaser, err error) (*rspb.Release, error) {
	if err != nil {
		return nil, err
	}
	switch rel := r.(type) {
	case nil:
		return nil, nil
	case *rspb.Release:
		return rel, nil
	case rspb.Release:
		return &rel, nil
	default:
		return nil, fmt.Errorf("unsupported release record type %T", r)
	}
}

// last is the newest record of a release, whatever its status.
func (c *Client) last(name string) (*rspb.Release, error) {
	r, err := asRelease(c.cfg.Releases.Last(name))
	if err == nil && r == nil {
		err = driver.ErrReleaseNotFound
	}
	return r, err
}

// copyChart gives each operation a freshly loaded chart: Helm's dependency processing edits the chart it
// is given (it drops disabled subcharts), so one loaded chart must not serve two releases.
func copyChart(ch *Chart) *chart.Chart {
	if ch.reload != nil {
		if c, err := ch.reload(); err == nil {
			return c
		}
	}
	return ch.raw
}

func deepCopy(v map[string]any) map[string]any {
	b, err := yaml.Marshal(v)
	if err != nil {
		return v
	}
	var out map[string]any
	if err := yaml.Unmarshal(b, &out); err != nil || out == nil {
		return v
	}
	return out
}

// firstField is the key of an assignment, never its value (which may be a secret).
func firstField(a string) string {
	k, _, _ := strings.Cut(a, "=")
	return k
}

// MergeValues merges src into dst as helm merges -f files and --set: maps merge key by key, anything else
// in src replaces what dst has.
func MergeValues(dst, src map[string]any) map[string]any {
	out := make(map[string]any, len(dst))
	for k, v := range dst {
		out[k] = v
	}
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := out[k].(map[string]any); ok {
				out[k] = MergeValues(dm, sm)
				continue
			}
		}
		out[k] = v
	}
	return out
}
