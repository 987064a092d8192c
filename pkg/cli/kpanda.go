package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/kpanda"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

// FleetKpanda is --fleet kpanda: the workspaces are the clusters of DCE's registry.
const FleetKpanda = "kpanda"

// registrySource is the cluster factory of a --fleet kpanda run: the kubeconfig's contexts, plus the
// registered clusters reached through the kpanda API (in memory only) and those not reached (an error
// with the reason and the hint, so each verb reports them in their row).
type registrySource struct {
	ClusterFactory
	extra   map[string]*kube.Cluster
	missing map[string]error
}

func (s *registrySource) Cluster(name string) (*kube.Cluster, error) {
	if c, ok := s.extra[name]; ok {
		return c, nil
	}
	if err, ok := s.missing[name]; ok {
		return nil, err
	}
	return s.ClusterFactory.Cluster(name)
}

// validateKpanda checks --fleet, --dce-url and --dce-token-file.
func (f *FleetFlags) validateKpanda() error {
	switch {
	case f.Fleet != "" && f.Fleet != FleetKpanda:
		return exit.Usagef("--fleet %q is not known: the one fleet source is %q", f.Fleet, FleetKpanda)
	case f.Fleet != "" && (len(f.Workspaces) > 0 || f.AllContexts):
		return exit.Usagef("--fleet and --workspace-context/--all-contexts are mutually exclusive")
	case f.Fleet != "" && f.NoControlPlane:
		return exit.Usagef("--fleet kpanda reads the registry on the control plane: it cannot leave it out")
	case (f.DCEURL == "") != (f.DCETokenFile == ""):
		return exit.Usagef("--dce-url and --dce-token-file go together")
	case f.DCEURL != "" && f.Fleet != FleetKpanda:
		return exit.Usagef("--dce-url and --dce-token-file are for --fleet kpanda")
	}
	if f.DCEURL != "" {
		if _, err := kpanda.ParseURL(f.DCEURL); err != nil {
			return exit.Usagef("%v", err)
		}
	}
	return nil
}

// dce reads --dce-token-file (nil without --dce-url).
func (f *FleetFlags) dce() (*kpanda.DCE, error) {
	if f.DCEURL == "" {
		return nil, nil
	}
	u, err := kpanda.ParseURL(f.DCEURL)
	if err != nil {
		return nil, exit.Usagef("%v", err)
	}
	b, err := os.ReadFile(f.DCETokenFile)
	if err != nil {
		return nil, exit.Usagef("--dce-token-file: %v", errors.Unwrap(err))
	}
	tok := strings.TrimSpace(string(b))
	clear(b)
	if tok == "" || strings.ContainsAny(tok, "\r\n") {
		return nil, exit.Usagef("--dce-token-file %s holds no token (want one line: the DCE access key)", f.DCETokenFile)
	}
	return &kpanda.DCE{URL: u, Token: tok}, nil
}

// resolveKpanda lists the registered clusters on the control plane, finds a proven credential for each
// workspace cluster, and returns the targets: the control plane, the reached workspaces, then the others
// (their clients are an *kpanda.UnreachedError). A context named like a registered cluster that reaches
// another is refused (exit 3).
func (f *FleetFlags) resolveKpanda(g *Globals, cp string) ([]fleet.Target, error) {
	ctx := context.Background()
	fac := g.Factory()
	dce, err := f.dce()
	if err != nil {
		return nil, err
	}
	kc, err := fac.Cluster(cp)
	if err != nil {
		return nil, Explain(err)
	}
	contexts, err := fac.Contexts()
	if err != nil {
		return nil, Explain(err)
	}
	deps := kpanda.Deps{Cluster: fac.Cluster, DCE: dce}
	if kf, ok := fac.(*kube.Factory); ok {
		deps.FromKubeconfig = kf.FromKubeconfig
	}
	found, _, err := kpanda.Discover(ctx, deps, kpanda.Config{ControlPlane: cp, Contexts: contexts, Timeout: f.ClusterTimeout, MaxConcurrency: f.MaxConcurrency}, kc)
	if err != nil {
		return nil, registryError(cp, err)
	}
	if len(found.Mismatches) > 0 {
		msgs := make([]string, len(found.Mismatches))
		for i, m := range found.Mismatches {
			msgs[i] = m.Error()
		}
		return nil, exit.New(exit.Problems, errors.New(strings.Join(msgs, "; ")),
			"fix or rename the context (kubectl config get-contexts shows its cluster); nothing was done")
	}
	src := &registrySource{ClusterFactory: fac, extra: found.FromDCE, missing: map[string]error{}}
	out := []fleet.Target{{Context: cp, Role: fleet.RoleControlPlane, Release: f.SkoalaRelease}}
	var unreached []fleet.Target
	f.Unreached = nil
	proven := []fleet.Target{out[0]}
	for _, m := range found.Members {
		t := fleet.Target{Context: m.Context, Role: fleet.RoleWorkspace, Release: f.InitRelease, Registered: m.Cluster.Name}
		switch {
		case m.Reached() && m.Context != "":
			out = append(out, t)
			proven = append(proven, t)
		case m.Reached():
			t.Context = m.Cluster.Name
			out = append(out, t)
		default:
			t.Context = m.Cluster.Name
			src.missing[m.Cluster.Name] = &kpanda.UnreachedError{Member: m}
			unreached = append(unreached, t)
			f.Unreached = append(f.Unreached, m)
		}
	}
	g.Clusters = src
	saveGuess(fac, cp, proven)
	return append(out, unreached...), nil
}

// registryError explains a failed list of the Cluster objects.
func registryError(cp string, err error) error {
	var ni *kpanda.NotInstalledError
	if errors.As(err, &ni) {
		return exit.Failf(ni.Hint(), "context %s: %v", cp, ni)
	}
	msg, hint := kube.Explain(err, "list", "clusters.cluster.kpanda.io")
	return exit.Failf(hint, "context %s: reading DCE's cluster registry: %s", cp, msg)
}

// CheckIdentity proves, before upgrade or rollback changes anything, that every workspace target reaches
// the cluster DCE's registry says it does (kube-system UID against the Cluster's kubeSystemID): a context
// named like a registered Cluster must reach it, any other must reach a registered workspace cluster. On a
// control plane without the registry (no clusters.cluster.kpanda.io) there is nothing to check against.
// A refusal is exit 3.
func CheckIdentity(ctx context.Context, g *Globals, targets []fleet.Target, timeout time.Duration) error {
	var ws []fleet.Target
	cp := ""
	for _, t := range targets {
		switch {
		case t.Role == fleet.RoleControlPlane:
			cp = t.Context
		case t.Registered == "":
			ws = append(ws, t) // a target of --fleet kpanda was proven when it was found
		}
	}
	if len(ws) == 0 {
		return nil
	}
	fac := g.Factory()
	if cp == "" {
		var err error
		if cp, err = fac.CurrentContext(); err != nil {
			return Explain(err)
		}
	}
	kc, err := fac.Cluster(cp)
	if err != nil {
		return Explain(err)
	}
	lctx, cancel := context.WithTimeout(ctx, timeout)
	registered, err := listRegistry(lctx, kc)
	cancel()
	switch {
	case errors.Is(err, errNoRegistry):
		return nil
	case err != nil:
		return registryError(cp, err)
	}
	errs := make([]error, len(ws))
	kube.ForEach(ctx, ws, 16, timeout, func(ctx context.Context, i int, t fleet.Target) {
		c, err := fac.Cluster(t.Context)
		if err != nil {
			errs[i] = err
			return
		}
		uid, err := kube.KubeSystemUID(ctx, c.Client)
		if err != nil {
			msg, _ := kube.Explain(err, "get", "namespace kube-system")
			errs[i] = fmt.Errorf("context %s: its identity cannot be read (%s)", t.Context, msg)
			return
		}
		errs[i] = kpanda.CheckWorkspace(registered, t.Context, uid)
	})
	var msgs []string
	for _, e := range errs {
		if e != nil {
			msgs = append(msgs, e.Error())
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return exit.New(exit.Problems, errors.New(strings.Join(msgs, "; ")),
		"DCE's cluster registry (clusters.cluster.kpanda.io) says otherwise: fix the context (kubectl config get-contexts), or use --fleet kpanda; nothing was changed")
}

// errNoRegistry says the control plane has no registry.
var errNoRegistry = errors.New("no registry")

// listRegistry lists the Cluster objects of the control plane: errNoRegistry when it has none (also when
// the list is forbidden and discovery shows no such group).
func listRegistry(ctx context.Context, kc *kube.Cluster) ([]kpanda.Cluster, error) {
	reg, err := kpanda.Registered(ctx, kc)
	var ni *kpanda.NotInstalledError
	switch {
	case err == nil:
		return reg, nil
	case errors.As(err, &ni):
		return nil, errNoRegistry
	case apierrors.IsForbidden(err):
		// An identity without the right gets 403 for a resource that does not exist too: ask discovery.
		if _, derr := kc.Client.Discovery().ServerResourcesForGroupVersion(kpanda.GVR.GroupVersion().String()); apierrors.IsNotFound(derr) {
			return nil, errNoRegistry
		}
	}
	return nil, err
}

// LeaveUnreached is how a verb that changes the fleet treats the registered clusters Resolve could not
// reach: it refuses (exit 3) a run that would leave one behind at its version, unless skip; with skip it
// returns the targets without them, and them apart (for the plan to name). verb is for the message.
func (f *FleetFlags) LeaveUnreached(targets []fleet.Target, skip bool, verb string) ([]fleet.Target, []kpanda.Member, error) {
	if len(f.Unreached) == 0 {
		return targets, nil, nil
	}
	if !skip {
		names := make([]string, len(f.Unreached))
		for i, m := range f.Unreached {
			names[i] = fmt.Sprintf("%s (%s)", m.Cluster.Name, m.Reason)
		}
		return nil, nil, exit.New(exit.Problems,
			fmt.Errorf("registered cluster(s) %s cannot be reached: %s would leave them behind at their version", strings.Join(names, ", "), verb),
			"give each a credential ("+f.Unreached[0].Hint+"), or pass --skip-unreachable to go on without them; nothing was changed")
	}
	skipped := map[string]bool{}
	for _, m := range f.Unreached {
		skipped[m.Cluster.Name] = true
	}
	var out []fleet.Target
	for _, t := range targets {
		if t.Registered != "" && skipped[t.Registered] {
			continue
		}
		out = append(out, t)
	}
	return out, f.Unreached, nil
}
