package version

import (
	"context"
	"fmt"
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
	f, err := cli.ParseOutput(o.Output)
	o.format = f
	return err
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
	out := o.g.Streams.Out
	switch o.format {
	case render.JSON:
		return render.WriteJSON(out, rep)
	case render.YAML:
		return render.WriteYAML(out, rep)
	}
	fmt.Fprintf(out, "Client Version: %s\n", rep.Client.Version)
	if rep.Server != nil {
		fmt.Fprintf(out, "Server Version: %s (context %s)\n", rep.Server.GitVersion, rep.Context)
	}
	if rep.ServerError != "" {
		o.g.Warnf("server version unavailable: %s", rep.ServerError)
	}
	return nil
}

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
