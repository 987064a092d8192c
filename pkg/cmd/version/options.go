package version

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/buildinfo"
	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
)

// Options are the version command's options.
type Options struct {
	g          *cli.Globals
	ClientOnly bool
	Output     string
	format     render.Format
}

// NewOptions returns the defaults.
func NewOptions(g *cli.Globals) *Options { return &Options{g: g, Output: "table"} }

// Validate checks the flags.
func (o *Options) Validate() error {
	return cli.SetOutput(&o.format, o.Output)
}

// Report is the JSON/YAML form of 'version'.
type Report struct {
	Client  buildinfo.Info `json:"clientVersion"`
	Server  *ServerVersion `json:"serverVersion,omitempty"`
	Context string         `json:"context,omitempty"`
	// ServerError says why the server version is missing.
	ServerError string `json:"serverError,omitempty"`
}

// ServerVersion is the API server's version.
type ServerVersion struct {
	GitVersion string `json:"gitVersion"`
	Platform   string `json:"platform,omitempty"`
}

// Run prints the versions.
func (o *Options) Run(ctx context.Context) error {
	rep := Report{Client: buildinfo.Get()}
	if !o.ClientOnly {
		o.server(ctx, &rep)
	}
	if err := o.g.Write(o.format, &rep); err != nil {
		return err
	}
	if rep.ServerError != "" && o.format == render.Table {
		o.g.Warnf("server version unavailable: %s", rep.ServerError)
	}
	return nil
}

// WriteTable writes the versions as kubectl version does.
func (r *Report) WriteTable(w io.Writer, _ *render.Palette) error {
	if _, err := fmt.Fprintf(w, "Client Version: %s\n", r.Client.Version); err != nil {
		return err
	}
	if r.Server != nil {
		_, err := fmt.Fprintf(w, "Server Version: %s (context %s)\n", r.Server.GitVersion, r.Context)
		return err
	}
	return nil
}

// WriteJSON writes the report as JSON.
func (r *Report) WriteJSON(w io.Writer) error { return render.WriteJSON(w, r) }

// WriteYAML writes the report as YAML.
func (r *Report) WriteYAML(w io.Writer) error { return render.WriteYAML(w, r) }

func (o *Options) server(ctx context.Context, rep *Report) {
	fac := o.g.Factory()
	name, err := fac.CurrentContext()
	if err != nil {
		rep.ServerError, _ = kube.Explain(err, "read", "kubeconfig")
		return
	}
	rep.Context = name
	c, err := fac.Cluster(name)
	if err != nil {
		rep.ServerError, _ = kube.Explain(err, "read", "kubeconfig")
		return
	}
	timeout := fac.RequestTimeout()
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type res struct {
		v   *ServerVersion
		err error
	}
	ch := make(chan res, 1)
	go func() {
		v, err := c.Client.Discovery().ServerVersion()
		if err != nil {
			ch <- res{err: err}
			return
		}
		ch <- res{v: &ServerVersion{GitVersion: v.GitVersion, Platform: v.Platform}}
	}()
	select {
	case <-ctx.Done():
		rep.ServerError, _ = kube.Explain(ctx.Err(), "get", "version")
	case r := <-ch:
		if r.err != nil {
			rep.ServerError, _ = kube.Explain(r.err, "get", "version")
			return
		}
		rep.Server = r.v
	}
}
