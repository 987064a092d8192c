package upgrade

import (
	"strings"
	"testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
)

func TestMissingRelease(t *testing.T) {
	for _, c := range []struct {
		name   string
		scope  Scope
		role   string
		action string
		says   string
	}{
		{"--all-contexts never installs, even with --install", Scope{Install: true, AllContexts: true}, fleet.RoleWorkspace, ActionSkipped, "--all-contexts upgrades only where it exists"},
		{"--all-contexts skips a cluster without skoala-init", Scope{AllContexts: true}, fleet.RoleWorkspace, ActionSkipped, "nothing is done there"},
		{"a named workspace without --install is refused", Scope{}, fleet.RoleWorkspace, ActionRefused, "installs only with --install"},
		{"the control plane without --install is refused", Scope{AllContexts: true}, fleet.RoleControlPlane, ActionRefused, "installs only with --install"},
		{"a named workspace with --install installs", Scope{Install: true}, fleet.RoleWorkspace, ActionInstall, ""},
		{"the control plane with --install installs", Scope{Install: true, AllContexts: true}, fleet.RoleControlPlane, ActionInstall, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, reason, hint := missingRelease(c.scope, c.role, "skoala-init", "kind-other", "kubectl skoala")
			if a != c.action || !strings.Contains(reason, c.says) {
				t.Errorf("got %s %q, want %s %q", a, reason, c.action, c.says)
			}
			if a == ActionRefused && !strings.Contains(hint, "--install") {
				t.Errorf("the refusal's hint does not say --install: %q", hint)
			}
		})
	}
	if !Passive(ActionSkipped) || Passive(ActionInstall) {
		t.Error("passive")
	}
}
