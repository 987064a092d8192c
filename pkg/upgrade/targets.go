package upgrade

import (
	"fmt"

	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
)

// ActionSkipped is the action of a release that is not installed on a context the run did not name: with
// --all-contexts the upgrade touches only the clusters where the release exists.
const ActionSkipped = "skipped"

// OutcomeSkipped is the outcome of a skipped release: nothing was done there.
const OutcomeSkipped = "skipped"

// Scope says which clusters the run may install on.
type Scope struct {
	// Install is --install: a missing release may be installed.
	Install bool
	// AllContexts is --all-contexts: the workspaces were not named, so none of them is installed on.
	AllContexts bool
	// Registry is --fleet kpanda: the workspaces come from DCE's registry, and one without skoala-init is
	// never installed on.
	Registry bool
}

// missingRelease decides what to do with a release that is not installed: install it only with --install on
// a cluster named explicitly (the control plane, or a -w context); skip a workspace --all-contexts found;
// refuse otherwise, saying how to install.
func missingRelease(s Scope, role, release, context, name string) (action, reason, hint string) {
	switch {
	case role == fleet.RoleWorkspace && s.Registry:
		return ActionSkipped, fmt.Sprintf("no skoala-init on registered cluster %s: --fleet kpanda upgrades only where it is installed, nothing is done there", context), ""
	case role == fleet.RoleWorkspace && s.AllContexts:
		return ActionSkipped, fmt.Sprintf("%s is not installed on %s: --all-contexts upgrades only where it exists, nothing is done there", release, context), ""
	case !s.Install:
		return ActionRefused, fmt.Sprintf("%s is not installed on %s: the upgrade installs only with --install", release, context),
			fmt.Sprintf("to install it there, run '%s upgrade --install' naming the cluster (-w %s for a workspace); otherwise leave the context out", name, context)
	}
	return ActionInstall, "", ""
}

// Passive reports whether an action changes nothing.
func Passive(action string) bool {
	return action == ActionUpToDate || action == ActionRefused || action == ActionSkipped
}
