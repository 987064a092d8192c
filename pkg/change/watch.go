package change

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/inspect"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

// watch reports the rollout of c's workloads (EventWait) whenever a component changes, until ctx ends.
func (x *run) watch(ctx context.Context, c *Change) {
	work := inspect.Workloads(c.Objects)
	if len(work) == 0 {
		return
	}
	ns := x.cfg.Namespace
	start := x.d.Now()
	last := map[string]string{}
	lastErr := ""
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		comps, err := inspect.Objects(rctx, c.Cluster.Client, ns, work, c.Verify.ChartVersion)
		cancel()
		if ctx.Err() != nil {
			return
		}
		elapsed := x.d.Now().Sub(start)
		if err != nil {
			msg, _ := kube.Explain(err, "list", "workloads in namespace "+ns)
			if msg != lastErr {
				x.log(c, "  [%4s] %s/%s: cannot read the rollout: %s", elapsed.Round(time.Second), c.Context, c.Release, msg)
				lastErr = msg
			}
		} else {
			lastErr = ""
			for _, comp := range comps {
				if line := componentLine(comp); last[comp.Name] != line {
					x.emit(Event{Type: EventWait, Context: c.Context, Release: c.Release, Kind: comp.Kind, Name: comp.Name,
						Ready: int(comp.Ready), Total: int(comp.Desired), Elapsed: elapsed, Line: x.scrub(line)})
					last[comp.Name] = line
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func componentLine(c inspect.Component) string {
	s := fmt.Sprintf("%-32s %d/%d %-11s %s", c.Name, c.Ready, c.Desired, c.State, orDash(c.Tag))
	if len(c.Problems) > 0 {
		s += " (" + c.Problems[0] + ")"
	}
	phases := map[string]int{}
	var order []string
	for _, p := range c.Pods {
		if p.Phase == "Running" || p.Phase == "Succeeded" {
			continue
		}
		if phases[p.Phase] == 0 {
			order = append(order, p.Phase)
		}
		phases[p.Phase]++
	}
	for _, ph := range order {
		s += fmt.Sprintf(" (%d pod %s)", phases[ph], ph)
	}
	return strings.TrimRight(s, " ")
}

// verify waits until every component of objs is healthy and runs what c.Verify asks, or ctx ends; it
// returns the components and what is still wrong.
func verify(ctx context.Context, c *Change, ns string, objs []helmsdk.ManifestObject) ([]inspect.Component, []string) {
	work := inspect.Workloads(objs)
	for {
		comps, err := inspect.Objects(ctx, c.Cluster.Client, ns, work, c.Verify.ChartVersion)
		var problems []string
		if err != nil {
			msg, _ := kube.Explain(err, "list", "workloads in namespace "+ns)
			problems = append(problems, msg)
		}
		for _, comp := range comps {
			problems = append(problems, componentProblems(c.Verify, comp, work)...)
		}
		if err == nil {
			problems = append(problems, missing(c.Verify.Tags, comps)...)
		}
		if len(problems) == 0 {
			return comps, nil
		}
		select {
		case <-ctx.Done():
			return comps, problems
		case <-time.After(2 * time.Second):
		}
	}
}

// componentProblems is what is wrong with one component: its health, its tag, its registry, its images.
func componentProblems(v Verify, c inspect.Component, work []helmsdk.ManifestObject) []string {
	var problems []string
	if p := c.Unhealthy(); p != "" {
		problems = append(problems, p)
	}
	if want, ok := v.Tags[c.Name]; ok && c.Tag != want {
		problems = append(problems, fmt.Sprintf("%s runs %s, not %s", c.Name, orDash(c.Tag), want))
	}
	if v.Registry != "" {
		for _, im := range c.Images {
			if !strings.HasPrefix(im.Image, strings.TrimSuffix(v.Registry, "/")+"/") {
				problems = append(problems, fmt.Sprintf("%s container %s pulls %s, not from %s", c.Name, im.Container, im.Image, v.Registry))
			}
		}
	}
	if !v.Images {
		return problems
	}
	for _, o := range work {
		if o.Name != c.Name || o.Kind != c.Kind {
			continue
		}
		for _, want := range o.Containers {
			for _, im := range c.Images {
				if im.Container == want.Name && im.Image != want.Image {
					problems = append(problems, fmt.Sprintf("%s container %s runs %s, not %s", c.Name, im.Container, im.Image, want.Image))
				}
			}
		}
	}
	return problems
}

// missing names the components of tags that are not in the release.
func missing(tags map[string]string, comps []inspect.Component) []string {
	var out []string
	for name := range tags {
		found := false
		for _, c := range comps {
			found = found || c.Name == name
		}
		if !found {
			out = append(out, name+" is not in the release")
		}
	}
	return out
}
