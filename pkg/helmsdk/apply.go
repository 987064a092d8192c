package helmsdk

import (
	"context"

	"helm.sh/helm/v4/pkg/action"
	helmkube "helm.sh/helm/v4/pkg/kube"
)

// How the plugin's Helm operations apply and wait. Helm 4's SDK leaves these to its caller, with
// defaults that differ from its CLI's; each is set on every install, upgrade and rollback, on purpose.

// Apply method. The plugin applies client-side (a three-way merge patch, as Helm 3 always does) and so
// records "csa" in every revision it writes. Helm 4 installs server-side by default and upgrades follow
// the method recorded in the release; a server-side apply would make the plugin the field manager of
// every field it sets, and a later server-side apply by another manager (the helm 4 CLI following an
// "ssa" record) would stop on field-manager conflicts. Client-side patches never conflict, so a release
// the plugin installed or upgraded stays upgradable by the helm 3 CLI, by the helm 4 CLI (its "auto"
// follows the "csa" record) and by the plugin, whichever wrote the revision before. See the README's
// Helm plugin section.
const (
	installApply  = false   // action.Install.ServerSideApply
	upgradeApply  = "false" // action.Upgrade.ServerSideApply and action.Rollback.ServerSideApply
	rollbackApply = "false"
)

// statusComputeWorkers is the number of concurrent status computations of a wait: what the helm 4 CLI
// passes to every wait (the SDK's default of none computes status on the informer's goroutine, minutes
// slower on a release of many workloads).
const statusComputeWorkers = 8

// waitStrategy is the wait of an operation that waits (the kstatus watcher, what helm 4's --wait means)
// or does not (hooks only, what helm 4 does without --wait). It is never empty: Helm 4 fails an
// operation with an empty strategy only after it applied the manifests, leaving the release failed
// with its objects changed.
func waitStrategy(wait bool) helmkube.WaitStrategy {
	if wait {
		return helmkube.StatusWatcherStrategy
	}
	return helmkube.HookOnlyStrategy
}

// waitOptions are the options of every wait of an operation: the CLI's status-compute workers and the
// readiness of custom resources (ready.go). Not the operation's context: an interrupted upgrade's
// --atomic rollback runs with the same options, and its own wait must not end with the interrupt (Helm
// ends the upgrade on ctx itself, then rolls back).
func (c *Client) waitOptions(_ context.Context) []helmkube.WaitOption {
	return []helmkube.WaitOption{
		helmkube.WithStatusComputeWorkers(statusComputeWorkers),
		helmkube.WithKStatusReaders(newCustomResourceReader(c.mapper)),
	}
}

// dryRunStrategy is the plugin's --dry-run: rendered against the cluster (lookups, schema validation,
// a server-side dry run of the apply), nothing changed.
func dryRunStrategy(dryRun bool) action.DryRunStrategy {
	if dryRun {
		return action.DryRunServer
	}
	return action.DryRunNone
}
