package images

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
	"github.com/skoala-dev/kubectl-skoala/pkg/images"
	"github.com/skoala-dev/kubectl-skoala/pkg/redact"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
	"github.com/skoala-dev/kubectl-skoala/pkg/upgrade"
)

// RegistryFlags are the registry connection flags of push and check.
type RegistryFlags struct {
	Username      string
	PasswordStdin bool
	CAFile        string
	Insecure      bool
	PlainHTTP     bool
}

func (r *RegistryFlags) validate() error {
	if r.PasswordStdin && r.Username == "" {
		return exit.Usagef("--registry-password-stdin needs --registry-username")
	}
	if r.Username != "" && !r.PasswordStdin {
		return exit.Usagef("--registry-username needs --registry-password-stdin (the password is never a flag)")
	}
	if r.Insecure && r.CAFile != "" {
		return exit.Usagef("skipping the registry's TLS verification and --ca-file are mutually exclusive")
	}
	return nil
}

// options reads the password from in when asked to.
func (r *RegistryFlags) options(in io.Reader) (images.RegistryOptions, error) {
	o := images.RegistryOptions{Username: r.Username, CAFile: r.CAFile, InsecureSkipTLSVerify: r.Insecure, PlainHTTP: r.PlainHTTP}
	if r.PasswordStdin {
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return o, fmt.Errorf("reading the registry password from stdin: %w", err)
		}
		o.Password = strings.TrimRight(line, "\r\n")
		if o.Password == "" {
			return o, exit.Usagef("--registry-password-stdin: stdin holds no password")
		}
	}
	return o, nil
}

// registryError turns a refused login into a failure with a hint.
func registryError(err error) error {
	var ae *images.AuthError
	if errors.As(err, &ae) {
		return exit.Failf(ae.Hint(), "%s", ae.Error())
	}
	var be *images.BundleError
	if errors.As(err, &be) {
		return exit.Failf(be.Hint(), "%s", be.Error())
	}
	var pe *images.PlainHTTPError
	if errors.As(err, &pe) {
		return exit.Failf(pe.Hint(), "%s", pe.Error())
	}
	return err
}

// noUserinfo refuses a registry address that carries credentials (user:password@host): they would be
// written into reports, image references and load-image.yaml. The message shows the password masked.
func noUserinfo(flag, registry string) error {
	if !strings.Contains(images.RegistryHost(registry), "@") {
		return nil
	}
	user, _, _ := strings.Cut(registry, "@")
	user, _, _ = strings.Cut(user, ":")
	at := strings.LastIndex(registry, "@")
	return exit.Usagef("%s %s:%s%s: credentials do not belong in the registry's address; give the user with --registry-username and the password on stdin (--registry-password-stdin)",
		flag, user, redact.Mask, registry[at:])
}

// PushOptions are the options of images push.
type PushOptions struct {
	g          *cli.Globals
	Bundles    []string
	Registry   string
	Repository string
	Overwrite  bool
	Parallel   int
	Output     string
	Reg        RegistryFlags
	format     render.Format
}

// NewPushOptions returns the defaults.
func NewPushOptions(g *cli.Globals) *PushOptions {
	return &PushOptions{g: g, Output: "table", Parallel: 2}
}

// Validate checks the flags.
func (o *PushOptions) Validate() error {
	if err := cli.SetOutput(&o.format, o.Output); err != nil {
		return err
	}
	if len(o.Bundles) == 0 {
		return exit.Usagef("give the bundles to push with --bundle")
	}
	if strings.TrimSpace(o.Registry) == "" {
		return exit.Usagef("give the registry to push into with --registry HOST[:PORT]")
	}
	if err := noUserinfo("--registry", o.Registry); err != nil {
		return err
	}
	if strings.Contains(o.Registry, "://") {
		return exit.Usagef("--registry %q: want HOST[:PORT][/PATH], no scheme (--plain-http talks HTTP)", o.Registry)
	}
	if o.Parallel < 1 {
		return exit.Usagef("--parallel must be at least 1")
	}
	return o.Reg.validate()
}

// Run pushes the images and prints the report.
func (o *PushOptions) Run(cmd *cobra.Command) error {
	ctx := cli.RunContext(cmd)
	ropts, err := o.Reg.options(o.g.Streams.In)
	if err != nil {
		return err
	}
	var bundles []*images.Bundle
	for _, p := range o.Bundles {
		b, err := images.OpenBundle(p)
		if err != nil {
			return registryError(err)
		}
		bundles = append(bundles, b)
	}
	cfg := images.PushConfig{Bundles: bundles, Registry: strings.Trim(o.Registry, "/"), Repository: o.Repository,
		Overwrite: o.Overwrite, Options: ropts, Parallel: o.Parallel}
	errOut := o.g.Streams.ErrOut
	bar := newProgressBar(errOut, render.IsTerminal(errOut))
	cfg.Progress = bar.update
	rep, err := images.Push(ctx, cfg)
	bar.done()
	if err != nil {
		return registryError(err)
	}
	if err := images.RecordPush(images.DefaultPushRecord(), rep, time.Now()); err != nil {
		o.g.Warnf("%v (verify cannot tell whether these tags are pushed again)", err)
	}
	if err := o.g.Write(o.format, render.View(rep, writePushTable)); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	switch {
	case rep.Failed > 0:
		return exit.Silent{Code: exit.Failure}
	case rep.Conflict > 0:
		return exit.Silent{Code: exit.Problems}
	}
	return nil
}

// progressBar draws "pushing  3/12 images  1.2/4.5 MiB" on a terminal, at most every 100 ms.
type progressBar struct {
	w    io.Writer
	on   bool
	mu   sync.Mutex
	last time.Time
	drew bool
}

func newProgressBar(w io.Writer, tty bool) *progressBar { return &progressBar{w: w, on: tty} }

func (b *progressBar) update(p images.Progress) {
	if !b.on {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if time.Since(b.last) < 100*time.Millisecond && p.ImagesDone < p.ImagesTotal {
		return
	}
	b.last = time.Now()
	done := p.BytesDone
	if done > p.BytesTotal {
		done = p.BytesTotal
	}
	width := 24
	fill := 0
	if p.BytesTotal > 0 {
		fill = int(int64(width) * done / p.BytesTotal)
	}
	fmt.Fprintf(b.w, "\rpushing [%s%s] %d/%d images  %.1f/%.1f MiB", strings.Repeat("=", fill), strings.Repeat(" ", width-fill),
		p.ImagesDone, p.ImagesTotal, float64(done)/(1<<20), float64(p.BytesTotal)/(1<<20))
	b.drew = true
}

func (b *progressBar) done() {
	if b.drew {
		fmt.Fprint(b.w, "\n")
	}
}

// TargetFlags select the upgrade target and the fleet of list and check.
type TargetFlags struct {
	Fleet         cli.FleetFlags
	Output        string
	Version       string
	Charts        []string
	Bundles       []string
	ImageRegistry string
	Repo          string
	Refresh       bool
	format        render.Format
}

func (t *TargetFlags) validate() error {
	if err := cli.SetOutput(&t.format, t.Output); err != nil {
		return err
	}
	if err := noUserinfo("--image-registry", t.ImageRegistry); err != nil {
		return err
	}
	n := 0
	for _, set := range []bool{t.Version != "", len(t.Charts) > 0, len(t.Bundles) > 0} {
		if set {
			n++
		}
	}
	if n > 1 {
		return exit.Usagef("--version, --chart and --bundle are mutually exclusive")
	}
	return t.Fleet.Validate()
}

// config is the library's configuration of the flags: the charts' source, the fleet, the registry.
func (t *TargetFlags) config(g *cli.Globals) (images.ListConfig, error) {
	targets, err := t.Fleet.Resolve(g)
	if err != nil {
		return images.ListConfig{}, err
	}
	return images.ListConfig{
		Source: images.Source{Bundles: t.Bundles, Charts: t.Charts, Env: g.Helm, Repo: t.Repo, Version: t.Version,
			Refresh: t.Refresh, Timeout: t.Fleet.ClusterTimeout},
		Fleet: images.FleetConfig{Clusters: g.Factory(), Targets: targets, Namespace: g.Namespace(), Driver: g.Helm.Driver,
			Timeout: t.Fleet.ClusterTimeout},
		ImageRegistry: t.ImageRegistry, Values: upgrade.ImageValues, Tool: g.Name,
	}, nil
}

// listError maps list's and check's errors onto the exit codes, with their hints.
func listError(err error) error {
	var ne *images.NoReleaseError
	if errors.As(err, &ne) {
		return exit.Failf(ne.Hint(), "%s", ne.Error())
	}
	return registryError(err)
}

// ListOptions are the options of images list.
type ListOptions struct {
	g      *cli.Globals
	Target TargetFlags
}

// NewListOptions returns the defaults.
func NewListOptions(g *cli.Globals) *ListOptions {
	return &ListOptions{g: g, Target: TargetFlags{Fleet: cli.NewFleetFlags(), Output: "table"}}
}

// Validate checks the flags.
func (o *ListOptions) Validate() error { return o.Target.validate() }

// Run lists the images.
func (o *ListOptions) Run(cmd *cobra.Command) error {
	cfg, err := o.Target.config(o.g)
	if err != nil {
		return err
	}
	rep, err := images.ListImages(cli.RunContext(cmd), cfg)
	if err != nil {
		return listError(err)
	}
	return o.g.Write(o.Target.format, render.View(rep, writeListTable))
}

// CheckOptions are the options of images check.
type CheckOptions struct {
	g      *cli.Globals
	Target TargetFlags
	Reg    RegistryFlags
}

// NewCheckOptions returns the defaults.
func NewCheckOptions(g *cli.Globals) *CheckOptions {
	return &CheckOptions{g: g, Target: TargetFlags{Fleet: cli.NewFleetFlags(), Output: "table"}}
}

// Validate checks the flags.
func (o *CheckOptions) Validate() error {
	if err := o.Target.validate(); err != nil {
		return err
	}
	if o.Reg.Username != "" && strings.TrimSpace(o.Target.ImageRegistry) == "" {
		return exit.Usagef("--registry-username needs --image-registry: the credentials go to that registry only (the others get the docker config's)")
	}
	return o.Reg.validate()
}

// Run checks the registry.
func (o *CheckOptions) Run(cmd *cobra.Command) error {
	ctx := cli.RunContext(cmd)
	ropts, err := o.Reg.options(o.g.Streams.In)
	if err != nil {
		return err
	}
	cfg, err := o.Target.config(o.g)
	if err != nil {
		return err
	}
	rep, err := images.CheckImages(ctx, cfg, ropts)
	if err != nil {
		return listError(err)
	}
	if err := o.g.Write(o.Target.format, render.View(rep, WriteCheckTable)); err != nil {
		return err
	}
	if !rep.OK() {
		return exit.Silent{Code: exit.Problems}
	}
	return nil
}

// LoadConfigOptions are the options of images load-config.
type LoadConfigOptions struct {
	g    *cli.Globals
	In   images.LoadConfigInput
	File string
}

// NewLoadConfigOptions returns the defaults.
func NewLoadConfigOptions(g *cli.Globals) *LoadConfigOptions { return &LoadConfigOptions{g: g} }

// Validate checks the flags.
func (o *LoadConfigOptions) Validate() error {
	if o.In.BundleDir == "" || o.In.Registry == "" {
		return exit.Usagef("load-config needs --bundle-dir and --registry")
	}
	if err := noUserinfo("--registry", o.In.Registry); err != nil {
		return err
	}
	if o.In.RepoKind == "" && (o.In.RepoURL != "" || o.In.RepoPath != "" || o.In.RepoUser != "") {
		return exit.Usagef("--chart-repo-url, --chart-repo-path and --chart-repo-username need --chart-repo-kind")
	}
	return nil
}

// Run writes the load-image.yaml.
func (o *LoadConfigOptions) Run(cmd *cobra.Command) error {
	c, err := images.NewLoadConfig(o.In)
	if err != nil {
		return exit.Usagef("%v", err)
	}
	if o.File == "" {
		return c.Write(o.g.Streams.Out, o.g.Name)
	}
	// A new file only: an existing file is never truncated, and a symlink never followed (O_EXCL fails
	// on both), so -f cannot overwrite what the path points at.
	f, err := os.OpenFile(o.File, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return exit.Failf("give a new file name, or remove the file first", "--output-file %s exists (a file or a symlink): load-config writes a new file only", o.File)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", o.File, err)
	}
	if err := c.Write(f, o.g.Name); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", o.File, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", o.File, err)
	}
	fmt.Fprintf(o.g.Streams.ErrOut, "wrote %s\n", o.File)
	return nil
}
