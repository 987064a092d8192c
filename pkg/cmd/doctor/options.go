package doctor

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
	"github.com/skoala-dev/kubectl-skoala/pkg/doctor"
	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
	"github.com/skoala-dev/kubectl-skoala/pkg/semver"
	"github.com/skoala-dev/kubectl-skoala/pkg/upgrade"
)

// Options are the doctor command's options.
type Options struct {
	g                *cli.Globals
	Fleet            cli.FleetFlags
	Output           string
	Strict           bool
	Pre              bool
	To               string
	DB               bool
	DBDSN            string
	Repo             string
	Refresh          bool
	Manifest         string
	Categories       []string
	CheckTimeout     time.Duration
	InsightNamespace string
	// ImageRegistry and RegistryCAFile: with --to, check the target's images there (issue 11).
	ImageRegistry  string
	RegistryCAFile string

	format render.Format
}

// NewOptions returns the defaults.
func NewOptions(g *cli.Globals) *Options {
	f := cli.NewFleetFlags()
	f.ClusterTimeout = doctor.DefaultTimeout
	return &Options{g: g, Fleet: f, Output: "table", CheckTimeout: doctor.DefaultCheckTimeout, InsightNamespace: "insight-system"}
}

// Validate checks the flags.
func (o *Options) Validate() error {
	if err := o.Fleet.ValidateOutput(o.Output, &o.format); err != nil {
		return err
	}
	if o.CheckTimeout <= 0 {
		return exit.Usagef("--check-timeout must be positive")
	}
	if o.To != "" {
		if _, err := semver.Parse(o.To); err != nil {
			return exit.Usagef("--to: %v", err)
		}
	}
	for _, c := range o.Categories {
		ok := false
		for _, k := range doctor.Categories {
			if string(k) == strings.TrimSpace(c) {
				ok = true
			}
		}
		if !ok {
			return exit.Usagef("--category %q is not a category (want one of: %s)", c, categories())
		}
	}
	if strings.TrimSpace(o.InsightNamespace) == "" {
		return exit.Usagef("--insight-namespace must not be empty")
	}
	return nil
}

// Config turns the options into doctor's configuration.
func (o *Options) Config(targets []fleet.Target) doctor.Config {
	cfg := doctor.Config{
		Mode:             doctor.ModeDefault,
		Targets:          targets,
		TargetVersion:    o.To,
		Namespace:        o.g.Namespace(),
		Driver:           o.g.Helm.Driver,
		InsightNamespace: o.InsightNamespace,
		Timeout:          o.Fleet.ClusterTimeout,
		CheckTimeout:     o.CheckTimeout,
		DB:               o.DB,
		DSN:              o.dsn(),
		Repo:             o.Repo,
		Refresh:          o.Refresh,
		Manifest:         o.Manifest,
		Name:             o.g.Name,
		ImageRegistry:    o.ImageRegistry,
		RegistryCAFile:   o.RegistryCAFile,
	}
	switch {
	case o.Pre:
		cfg.Mode = doctor.ModePreInstall
	case o.To != "":
		cfg.Mode = doctor.ModePreUpgrade
	}
	for _, c := range o.Categories {
		cfg.Categories = append(cfg.Categories, doctor.CategoryID(strings.TrimSpace(c)))
	}
	return cfg
}

// DSNEnv is the environment variable that may hold --db-dsn, so that the password stays out of the
// process list and the shell history.
const DSNEnv = "SKOALA_DB_DSN"

func (o *Options) dsn() string {
	if o.DBDSN != "" {
		return o.DBDSN
	}
	return os.Getenv(DSNEnv)
}

// Run runs the checks and prints the report.
func (o *Options) Run(ctx context.Context) error {
	targets, err := o.Fleet.ResolveClusters(o.g)
	if err != nil {
		return err
	}
	fac := o.g.Factory()
	rep, err := doctor.Run(ctx, doctor.Deps{Clusters: fac, Helm: o.g.Helm, ImageValues: upgrade.ImageValues}, o.Config(targets), nil)
	if err != nil {
		return exit.Failf(cli.UsageHint(o.g.Name, "doctor"), "%v", err)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := o.g.Write(o.format, render.View(rep, writeTable)); err != nil {
		return err
	}
	if rep.Failed() || (o.Strict && rep.FailedStrict()) {
		return exit.Silent{Code: exit.Problems}
	}
	return nil
}
