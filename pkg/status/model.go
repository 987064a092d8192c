// Package status implements 'kubectl skoala status': what is installed on every cluster of the fleet, is it
// healthy, and what can it be upgraded to. Gather builds the Report (a plain view model with a stable JSON
// schema); the status command (pkg/cmd/status, render.go) prints it.
package status

import (
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/inspect"
	"github.com/skoala-dev/kubectl-skoala/pkg/journal"
	"github.com/skoala-dev/kubectl-skoala/pkg/semver"
)

// SchemaVersion is the version of the JSON/YAML schema of the report; it changes only when a field is
// removed or changes meaning.
const SchemaVersion = "skoala.status/v1"

// Report is the result of 'status'.
type Report struct {
	Schema     string      `json:"schema"`
	Namespace  string      `json:"namespace"`
	Repository *Repository `json:"repository,omitempty"`
	Clusters   []Cluster   `json:"clusters"`
	// Problems counts what makes the exit code 3 (missing, failed, pending release; unreachable cluster;
	// with --exit-code, an available upgrade).
	Problems int `json:"problems"`
	// Warnings are fleet-level notes (repository not configured, index stale...).
	Warnings []string `json:"warnings,omitempty"`
	// Journal is what the journal of upgrade and rollback runs (pkg/journal) says (nil when not read).
	Journal *Journal `json:"journal,omitempty"`
}

// Journal is the journal of the control plane's release namespace, as status shows it.
type Journal struct {
	// LastRun is the newest run (nil when the journal holds none).
	LastRun *journal.Run `json:"lastRun,omitempty"`
	// Runs are every run the journal keeps, newest first, one line each.
	Runs []RunLine `json:"runs,omitempty"`
	// HalfUpgraded is set when the last run is an upgrade that left some releases at its target and
	// others not.
	HalfUpgraded *HalfUpgraded `json:"halfUpgraded,omitempty"`
	// Error says why the journal could not be read.
	Error string `json:"error,omitempty"`
}

// RunLine is a run of the journal in one line.
type RunLine struct {
	ID       string    `json:"id"`
	Kind     string    `json:"kind"`
	Target   string    `json:"target,omitempty"`
	Outcome  string    `json:"outcome"`
	Started  time.Time `json:"started"`
	UndoneBy string    `json:"undoneBy,omitempty"`
	Summary  string    `json:"summary"`
}

// HalfUpgraded is a fleet that the last upgrade run left half-upgraded, and the two ways out.
type HalfUpgraded struct {
	Run    string   `json:"run"`
	Target string   `json:"target"`
	At     []string `json:"at"`
	Behind []string `json:"behind"`
	// Paused is set when the run paused after its canary (--pause-after-canary): Upgrade continues it
	// (--resume).
	Paused bool `json:"paused,omitempty"`
	// Upgrade and Rollback are the commands that finish or undo the run.
	Upgrade  string `json:"upgrade"`
	Rollback string `json:"rollback"`
}

// Repository is the chart repository the report compares with.
type Repository = helmsdk.RepoStatus

// Cluster is one kubeconfig context of the fleet.
type Cluster struct {
	Context string `json:"context"`
	// Role is control-plane or workspace.
	Role string `json:"role"`
	// Registered is the cluster's name in DCE's registry (--fleet kpanda).
	Registered string    `json:"registered,omitempty"`
	Reachable  bool      `json:"reachable"`
	Error      string    `json:"error,omitempty"`
	Hint       string    `json:"hint,omitempty"`
	Releases   []Release `json:"releases"`

	// runs and journalErr are the journal read from a control plane (Config.Journal).
	runs       []journal.Run
	journalErr string
	// kpandaErr says why kpanda's HelmApps could not be read ("" when they could, or none is served).
	kpandaErr string
	// release is the target's release (the row of a Config.Prefetched is matched on it).
	release string
}

// Release is a release found (or looked for) in a cluster.
type Release struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	// Installed is false when the release was not found.
	Installed    bool      `json:"installed"`
	Chart        string    `json:"chart,omitempty"`
	Version      string    `json:"version,omitempty"`
	AppVersion   string    `json:"appVersion,omitempty"`
	Revision     int       `json:"revision,omitempty"`
	Status       string    `json:"status"`
	LastDeployed time.Time `json:"lastDeployed,omitempty"`
	// Latest is the newest stable version in the repository, LatestPatch the newest of the installed minor.
	Latest           string `json:"latest,omitempty"`
	LatestPatch      string `json:"latestPatch,omitempty"`
	UpgradeAvailable bool   `json:"upgradeAvailable"`
	// Skew compares a workspace's skoala-init with the control plane's skoala: ok, warning, error, unknown
	// ("" on the control plane).
	// HelmApp is the kpanda HelmApp (helm.kpanda.io/v1alpha1) of the same name in the release's namespace
	// ("" when none): DCE's UI manages the release too and may run its own helm operations on it.
	HelmApp    string              `json:"helmApp,omitempty"`
	Skew       string              `json:"skew,omitempty"`
	SkewWith   string              `json:"skewWith,omitempty"`
	Components []inspect.Component `json:"components"`
	Error      string              `json:"error,omitempty"`
	Hint       string              `json:"hint,omitempty"`

	// needsInstallHint: not installed, and the hint says how to install it (Gather's comparison writes it).
	needsInstallHint bool
}

// Status values besides Helm's own (deployed, failed, pending-install, pending-upgrade, pending-rollback,
// superseded, uninstalling, uninstalled).
const (
	StatusMissing = "not-installed"
	// StatusNoInit is a registered cluster of --fleet kpanda without skoala-init: listed, not a problem,
	// never installed to.
	StatusNoInit  = "no skoala-init"
	StatusUnknown = "unknown"
)

// Problem reports whether the release needs attention (missing, failed, pending, unreadable).
func (r Release) Problem() bool {
	switch r.Status {
	case "deployed", StatusNoInit:
		return false
	}
	return true
}

// skewOf classifies a workspace release against the control plane's version.
func skewOf(cp, ws string) string {
	if cp == "" || ws == "" {
		return string(semver.SkewUnknown)
	}
	return string(semver.SkewOf(cp, ws))
}
