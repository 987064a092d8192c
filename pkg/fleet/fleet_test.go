package fleet

import (
	"errors"
	"reflect"
	"testing"
)

func TestSelectionResolve(t *testing.T) {
	sel := func(mod func(*Selection)) Selection {
		s := Selection{ControlPlane: "global", Release: "skoala", InitRelease: "skoala-init"}
		mod(&s)
		return s
	}
	cp := Target{Context: "global", Role: RoleControlPlane, Release: "skoala"}
	ws := func(c string) Target { return Target{Context: c, Role: RoleWorkspace, Release: "skoala-init"} }
	for _, c := range []struct {
		name    string
		sel     Selection
		want    []Target
		wantErr string
	}{
		{"puts the control plane first, then the workspaces as given", sel(func(s *Selection) { s.Workspaces = []string{"w2,w1", " w3 "} }), []Target{cp, ws("w2"), ws("w1"), ws("w3")}, ""},
		{"looks at a context named twice once", sel(func(s *Selection) { s.Workspaces = []string{"w1", "w1"} }), []Target{cp, ws("w1")}, ""},
		{"leaves the control plane out", sel(func(s *Selection) { s.NoControlPlane = true; s.Workspaces = []string{"w1"} }), []Target{ws("w1")}, ""},
		{"takes every other context with AllContexts", sel(func(s *Selection) { s.AllContexts = true; s.Contexts = []string{"global", "w1", "w2"} }), []Target{cp, ws("w1"), ws("w2")}, ""},
		{"refuses the control plane as a workspace", sel(func(s *Selection) { s.Workspaces = []string{"global"} }), nil,
			`context "global" is both the control plane and a workspace: pick the control plane with --context`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.sel.Resolve()
			if c.wantErr != "" {
				var ce *ConflictError
				if !errors.As(err, &ce) || err.Error() != c.wantErr {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Fatalf("Resolve() = %v, %v, want %v", got, err, c.want)
			}
		})
	}
}

func TestTargetChartAndOf(t *testing.T) {
	got := Of("global", "w1")
	if got[0].Chart() != "skoala" || got[1].Chart() != "skoala-init" || got[1].Release != "skoala-init" || len(Of("", "w1")) != 1 {
		t.Fatalf("Of = %+v", got)
	}
}
