package bundle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/skoala-dev/kubectl-skoala/pkg/bundle"
	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
	"github.com/skoala-dev/kubectl-skoala/pkg/doctor"
	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
	"github.com/skoala-dev/kubectl-skoala/pkg/redact"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
	"github.com/skoala-dev/kubectl-skoala/pkg/status"
	"github.com/skoala-dev/kubectl-skoala/pkg/verify"
)

// Options are the bundle command's options.
type Options struct {
	g                *cli.Globals
	Fleet            cli.FleetFlags
	Output           string
	File             string
	Logs             bool
	Since            time.Duration
	Tail             int64
	MaxSize          string
	InsightNamespace string
	MySQLNamespace   string

	format  render.Format
	maxSize int64
	flags   map[string]string
	now     func() time.Time
}

// NewOptions returns the defaults.
func NewOptions(g *cli.Globals) *Options {
	f := cli.NewFleetFlags()
	f.ClusterTimeout = time.Minute
	return &Options{g: g, Fleet: f, Output: "table", Since: bundle.DefaultSince, Tail: -1, MaxSize: "100Mi",
		InsightNamespace: "insight-system", MySQLNamespace: "mcamel-system", now: time.Now}
}

// MinMaxSize is the smallest --max-size: the reports and manifest need room.
const MinMaxSize = 64 << 10

// Complete records the flags given (for flags.json), with secret values masked.
func (o *Options) Complete(cmd *cobra.Command) {
	o.flags = map[string]string{}
	visit := func(f *pflag.Flag) {
		v := f.Value.String()
		if redact.IsSensitiveKey(f.Name) || f.Name == "password" || f.Name == "username" {
			v = "******"
		}
		o.flags[f.Name] = redact.Scrub(v, nil)
	}
	cmd.Flags().Visit(visit)
	cmd.InheritedFlags().Visit(visit)
}

// Validate checks the flags.
func (o *Options) Validate() error {
	if err := o.Fleet.ValidateOutput(o.Output, &o.format); err != nil {
		return err
	}
	q, err := resource.ParseQuantity(o.MaxSize)
	if err != nil {
		return exit.Usagef("invalid --max-size %q: want a size such as 100Mi or 500Ki", o.MaxSize)
	}
	if o.maxSize = q.Value(); o.maxSize < MinMaxSize {
		return exit.Usagef("--max-size %s is below the smallest bundle (64Ki)", o.MaxSize)
	}
	if o.Since < 0 {
		return exit.Usagef("--since must not be negative")
	}
	if o.Tail < -1 {
		return exit.Usagef("--tail must be -1 (all lines) or more")
	}
	if !o.Logs && (o.flags["since"] != "" || o.flags["tail"] != "") {
		return exit.Usagef("--since and --tail need --logs")
	}
	if strings.TrimSpace(o.InsightNamespace) == "" || strings.TrimSpace(o.MySQLNamespace) == "" {
		return exit.Usagef("--insight-namespace and --mysql-namespace must not be empty")
	}
	if strings.HasSuffix(o.File, "/") {
		return exit.Usagef("--file %q is a directory: give a file name", o.File)
	}
	return nil
}

// DefaultFile is the archive's name at t.
func DefaultFile(t time.Time) string {
	return "skoala-bundle-" + t.UTC().Format("20060102T150405Z") + ".zip"
}

// Run collects the bundle, writes the archive and prints the summary.
func (o *Options) Run(ctx context.Context) error {
	path := o.File
	if path == "" {
		path = DefaultFile(o.now())
	}
	existsHint := "choose another name with -f, or move the old archive away"
	if _, err := os.Lstat(path); err == nil {
		return exit.Failf(existsHint, "%s already exists: the bundle never overwrites a file", path)
	}
	targets, err := o.Fleet.ResolveClusters(o.g)
	if err != nil {
		return err
	}
	fac := o.g.Factory()
	ns := o.g.Namespace()
	stCfg := status.Config{Namespace: ns, Targets: targets, Driver: o.g.Helm.Driver, ClusterTimeout: o.Fleet.ClusterTimeout,
		MaxConcurrency: o.Fleet.MaxConcurrency, Name: o.g.Name}
	docCfg := doctor.Config{Mode: doctor.ModeDefault, Namespace: ns, Targets: targets, Driver: o.g.Helm.Driver,
		InsightNamespace: o.InsightNamespace, MySQLNamespace: o.MySQLNamespace, Timeout: o.Fleet.ClusterTimeout,
		CheckTimeout: doctor.DefaultCheckTimeout, Name: o.g.Name}
	pr := newProgress(o.g.Streams.ErrOut)
	cfg := bundle.Config{
		Namespace: ns, InsightNamespace: o.InsightNamespace, MySQLNamespace: o.MySQLNamespace, Targets: targets,
		Driver: o.g.Helm.Driver, ClusterTimeout: o.Fleet.ClusterTimeout, MaxConcurrency: o.Fleet.MaxConcurrency,
		Logs: o.Logs, Since: o.Since, Tail: o.Tail, MaxSize: o.maxSize, Flags: o.flags,
		Reports: []bundle.Report{
			bundle.StatusReport(fac, o.g.Helm, "", stCfg),
			bundle.DoctorReport(doctor.Deps{Clusters: fac, Helm: o.g.Helm}, docCfg),
			bundle.VerifyReport(fac, verify.Config{Namespace: ns, Targets: targets, Driver: o.g.Helm.Driver,
				ClusterTimeout: o.Fleet.ClusterTimeout, MaxConcurrency: o.Fleet.MaxConcurrency, Name: o.g.Name}),
		},
		Progress: pr.update,
	}
	sum, err := bundle.Run(ctx, bundle.Deps{Clusters: fac, Now: o.now}, cfg, path)
	pr.end()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, bundle.ErrExists) {
			return exit.Failf(existsHint, "%v", err)
		}
		return exit.Failf("check the directory of --file and its free space, or raise --max-size", "%v", err)
	}
	if err := o.g.Write(o.format, render.View(sum, writeTable)); err != nil {
		return err
	}
	if sum.Gaps > 0 {
		return exit.Silent{Code: exit.Problems}
	}
	return nil
}

// progress draws the live line on a terminal (stderr), at most ten times a second.
type progress struct {
	mu   sync.Mutex
	w    interface{ Write([]byte) (int, error) }
	on   bool
	last time.Time
	drew bool
}

func newProgress(w interface{ Write([]byte) (int, error) }) *progress {
	return &progress{w: w, on: render.IsTerminal(w)}
}

func (p *progress) update(s bundle.Progress) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.last) < 100*time.Millisecond && s.ClustersDone < s.Clusters {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "\r\x1b[K%s", progressLine(s))
	p.drew = true
}

func (p *progress) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drew {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}
