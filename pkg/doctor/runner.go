package doctor

import (
	"context"
	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"sort"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/dynamic"

	"github.com/skoala-dev/kubectl-skoala/pkg/redact"
)

// runner runs one doctor run.
type runner struct {
	deps   Deps
	cfg    Config
	checks []Check
	// base is the run's context (bounded by Config.Timeout): facts are computed in it.
	base context.Context

	states  map[string]*clusterState
	targets []fleet.Target
	once    onceState

	secMu   sync.Mutex
	secrets []string
}

// onceState holds the facts of the checks that run once.
type onceState struct {
	repo lazy[*repoState]
	db   lazy[DB]
}

func newRunner(deps Deps, cfg Config, checks []Check) *runner {
	return &runner{deps: deps, cfg: cfg, checks: checks, states: map[string]*clusterState{}}
}

func (r *runner) controlPlane() *clusterState {
	for _, t := range r.targets {
		if t.Role == RoleControlPlane {
			return r.states[t.Context]
		}
	}
	return nil
}

func (r *runner) workspaces() []*clusterState {
	var out []*clusterState
	for _, t := range r.targets {
		if t.Role == RoleWorkspace {
			out = append(out, r.states[t.Context])
		}
	}
	return out
}

func (r *runner) addSecret(s string) {
	if len(s) < 3 {
		return
	}
	r.secMu.Lock()
	defer r.secMu.Unlock()
	for _, x := range r.secrets {
		if x == s {
			return
		}
	}
	r.secrets = append(r.secrets, s)
}

func (r *runner) addSecrets(values map[string]any) {
	for _, s := range redact.Secrets(values) {
		r.addSecret(s)
	}
}

func (r *runner) scrub(s string) string {
	r.secMu.Lock()
	sec := append([]string(nil), r.secrets...)
	r.secMu.Unlock()
	return redact.Scrub(s, sec)
}

// instance is a check on one cluster (cluster "" for the checks that run once).
type instance struct {
	check   *Check
	target  fleet.Target
	cluster string
	order   int
	done    chan struct{}
	res     Result
}

func (r *runner) selected(c *Check) bool {
	if len(r.cfg.Categories) > 0 {
		ok := false
		for _, id := range r.cfg.Categories {
			if id == c.Category {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	if !c.runsIn(r.cfg.Mode) {
		return false
	}
	return c.Applies == nil || c.Applies(&r.cfg)
}

func (r *runner) run(ctx context.Context, observe func(Result)) *Report {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	r.base = ctx
	if r.cfg.DSN != "" {
		// The password of --db-dsn is scrubbed from everything, parsed or not.
		r.addSecret(dsnPassword(r.cfg.DSN))
	}

	// Clients: a context missing from the kubeconfig or a broken entry fails the reachability check.
	seen := map[string]bool{}
	for _, t := range r.cfg.Targets {
		if seen[t.Context] {
			continue
		}
		seen[t.Context] = true
		r.targets = append(r.targets, t)
		cs := &clusterState{target: t}
		if kc, err := r.deps.Clusters.Cluster(t.Context); err != nil {
			cs.connErr = err
		} else {
			cs.client = kc.Client
			switch {
			case r.deps.Dynamic != nil:
				cs.dyn = r.deps.Dynamic(t.Context)
			case kc.Config != nil:
				if d, err := dynamic.NewForConfig(kc.Config); err == nil {
					cs.dyn = d
				}
			}
		}
		r.states[t.Context] = cs
	}

	var insts []*instance
	byKey := map[string]*instance{}
	for i := range r.checks {
		c := &r.checks[i]
		if !r.selected(c) {
			continue
		}
		add := func(t fleet.Target, cluster string) {
			in := &instance{check: c, target: t, cluster: cluster, order: i, done: make(chan struct{})}
			insts = append(insts, in)
			byKey[c.ID+"@"+cluster] = in
		}
		switch c.Scope {
		case ScopeOnce:
			add(fleet.Target{}, "")
		case ScopeEachCluster:
			for _, t := range r.targets {
				add(t, t.Context)
			}
		case ScopeControlPlane, ScopeWorkspace:
			role := RoleControlPlane
			if c.Scope == ScopeWorkspace {
				role = RoleWorkspace
			}
			for _, t := range r.targets {
				if t.Role == role {
					add(t, t.Context)
				}
			}
		}
	}

	sems := map[string]chan struct{}{}
	for _, in := range insts {
		if _, ok := sems[in.cluster]; !ok {
			sems[in.cluster] = make(chan struct{}, r.cfg.Concurrency)
		}
	}
	var obsMu sync.Mutex
	var wg sync.WaitGroup
	for _, in := range insts {
		wg.Add(1)
		go func(in *instance) {
			defer wg.Done()
			defer close(in.done)
			in.res = r.runInstance(ctx, in, byKey, sems[in.cluster])
			if observe != nil {
				obsMu.Lock()
				observe(in.res)
				obsMu.Unlock()
			}
		}(in)
	}
	wg.Wait()
	r.once.db.closeIfOpen()

	rep := &Report{Schema: SchemaVersion, Mode: r.cfg.Mode, Target: r.cfg.TargetVersion, Namespace: r.cfg.Namespace, Clusters: r.targets, Checks: []Result{}}
	if rep.Clusters == nil {
		rep.Clusters = []fleet.Target{}
	}
	clusterOrder := map[string]int{"": -1}
	for i, t := range r.targets {
		clusterOrder[t.Context] = i
	}
	sort.SliceStable(insts, func(i, j int) bool {
		a, b := insts[i], insts[j]
		if ca, cb := categoryIndex(a.check.Category), categoryIndex(b.check.Category); ca != cb {
			return ca < cb
		}
		if a.cluster != b.cluster {
			return clusterOrder[a.cluster] < clusterOrder[b.cluster]
		}
		return a.order < b.order
	})
	for _, in := range insts {
		rep.Checks = append(rep.Checks, in.res)
	}
	// Secrets found late (a DSN read by a later check) are scrubbed from every result.
	for i := range rep.Checks {
		rep.Checks[i].Message = r.scrub(rep.Checks[i].Message)
		rep.Checks[i].Hint = r.scrub(rep.Checks[i].Hint)
	}
	rep.count()
	rep.Elapsed = time.Since(start)
	return rep
}

func (r *runner) runInstance(ctx context.Context, in *instance, byKey map[string]*instance, sem chan struct{}) Result {
	c := in.check
	res := Result{ID: c.ID, Category: c.Category, Cluster: in.cluster, Description: c.Description}
	finish := func(o Outcome, d time.Duration) Result {
		res.Status, res.Message, res.Hint, res.Duration = o.Status, r.scrub(o.Message), r.scrub(o.Hint), d
		return res
	}
	// Needs: on the same cluster, else the check that runs once.
	for _, id := range c.Needs {
		dep, ok := byKey[id+"@"+in.cluster]
		if !ok {
			dep, ok = byKey[id+"@"]
		}
		if !ok {
			continue // not part of this run (category not selected, not applicable)
		}
		select {
		case <-dep.done:
		case <-ctx.Done():
			return finish(Skip("%s: not checked, doctor's time (--timeout %s) ran out", c.Description, r.cfg.Timeout), 0)
		}
		if dep.res.Status == StatusFail || dep.res.Status == StatusSkip {
			res.Cascade = true
			return finish(Skip("%s: not checked, needs %q (%s)", c.Description, dep.check.Description, dep.res.Status), 0)
		}
	}
	select {
	case sem <- struct{}{}:
		defer func() { <-sem }()
	case <-ctx.Done():
		return finish(Skip("%s: not checked, doctor's time (--timeout %s) ran out", c.Description, r.cfg.Timeout), 0)
	}
	if ctx.Err() != nil {
		return finish(Skip("%s: not checked, doctor's time (--timeout %s) ran out", c.Description, r.cfg.Timeout), 0)
	}
	env := &Env{Config: &r.cfg, Target: in.target, r: r, cs: r.states[in.cluster]}
	if env.cs != nil && env.cs.client == nil && c.ID != IDReachable {
		return finish(Skip("%s: not checked, no client for context %s", c.Description, in.cluster), 0)
	}
	cctx, cancel := context.WithTimeout(ctx, r.cfg.CheckTimeout)
	defer cancel()
	start := time.Now()
	if len(c.Uses) > 0 && env.cs != nil && env.cs.client != nil {
		if d := env.denied(cctx, c.Uses); len(d) > 0 {
			return finish(SkipHint(d[0].CanI()+" (the permissions check lists everything doctor and upgrade need)",
				"%s: not checked, forbidden to %s", c.Description, accessList(d)), time.Since(start))
		}
	}
	out := make(chan Outcome, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				out <- Fail("this is a bug in kubectl-skoala: please report it with the output of -o yaml", "internal error in check %s: %v", c.ID, p)
			}
		}()
		out <- c.Run(cctx, env)
	}()
	select {
	case o := <-out:
		if o.Status == "" {
			o.Status = StatusOK
		}
		return finish(o, time.Since(start))
	case <-cctx.Done():
		if ctx.Err() != nil {
			return finish(Fail("raise --timeout, or look at the clusters that answer slowly", "did not finish before doctor's time (--timeout %s) ran out", r.cfg.Timeout), time.Since(start))
		}
		return finish(Fail("the cluster or service answers slowly: check it, or raise --check-timeout", "did not finish within %s", r.cfg.CheckTimeout), time.Since(start))
	}
}

// dsnPassword cuts the password out of a DSN string without parsing it (for DSNs that do not parse).
func dsnPassword(s string) string {
	at := strings.LastIndex(s, "@")
	if at < 0 {
		return ""
	}
	head := s[:at]
	if i := strings.Index(head, ":"); i >= 0 {
		return head[i+1:]
	}
	return ""
}
