// Package upgradepath knows the product's version-specific upgrade steps (domain brief §3.3, §5): the
// mandatory stops (the 0.19.0 DB migration, sweet gone after 0.22.0), the CRDs Helm does not upgrade
// (0.35.x, 0.37.x, 0.52.1), the admission Jobs (mandatory across 0.24.2, always advisable), and the
// thresholds doctor warns about. Doctor and upgrade plan from the same facts.
package upgradepath

import (
	"fmt"
	"sort"

	"github.com/skoala-dev/kubectl-skoala/pkg/semver"
)

// Kind is the kind of a step.
type Kind string

// Step kinds.
const (
	KindStop          Kind = "stop"           // upgrade to an intermediate version first
	KindDBMigration   Kind = "db-migration"   // run the sweet DB-upgrade job
	KindCRDs          Kind = "crds"           // apply CRDs helm does not upgrade
	KindAdmissionJobs Kind = "admission-jobs" // delete the gateway-api-admission Jobs
	KindNote          Kind = "note"
)

// Step is one thing an upgrade from -> to must do besides helm upgrade.
type Step struct {
	Kind Kind `json:"kind"`
	// Chart is skoala or skoala-init.
	Chart string `json:"chart"`
	// At is the version that introduces the step.
	At string `json:"at"`
	// Automated says kubectl-skoala upgrade does it itself.
	Automated   bool   `json:"automated"`
	Mandatory   bool   `json:"mandatory"`
	Description string `json:"description"`
	// Files are chart-relative CRD files to apply (KindCRDs).
	Files []string `json:"files,omitempty"`
	// Command is what a person would run (for the manual ones).
	Command string `json:"command,omitempty"`
}

// CRD files of skoala-init, chart-relative.
const (
	CRDGatewayAPI = "charts/contour-provisioner-prereq/crds/gateway-api.yaml"
	CRDContour    = "charts/contour-provisioner/crds/contour.yaml"
	CRDHigress    = "charts/contour-provisioner/crds/higress.gen.yaml"
)

// AdmissionJobs are the skoala-init Jobs to delete before an upgrade.
var AdmissionJobs = []string{"gateway-api-admission", "gateway-api-admission-patch"}

// Steps lists the extra steps of upgrading chart from -> to, in the order to do them. A first install
// (from == "") has none of the upgrade steps.
func Steps(chart, from, to string) []Step {
	var out []Step
	if from == "" || semver.Compare(from, to) >= 0 {
		return out
	}
	switch chart {
	case "skoala":
		if semver.Crosses(from, to, "0.19.0") {
			out = append(out, Step{Kind: KindDBMigration, Chart: chart, At: "0.19.0", Mandatory: true,
				Description: "crossing 0.19.0 needs the sweet DB-upgrade job (sweet: {type: UPGRADE, target: 0.17.0, tag: v0.19.0}) applied with kubectl apply",
				Command:     "kubectl -n skoala-system apply -f job.yaml   # the sweet UPGRADE job of the 0.19.0 guide"})
		}
		if semver.Compare(from, "0.22.0") < 0 && semver.Compare(to, "0.23.0") >= 0 {
			out = append(out, Step{Kind: KindNote, Chart: chart, At: "0.23.0", Mandatory: true,
				Description: "sweet (the DB init/upgrade component) is deprecated in 0.22.0 and gone from 0.23.0: stop at 0.19.x or 0.22.x first"})
		}
	case "skoala-init":
		out = append(out, Step{Kind: KindAdmissionJobs, Chart: chart, At: "", Automated: true, Mandatory: semver.Crosses(from, to, "0.24.2"),
			Description: "delete the gateway-api-admission Jobs (their template is immutable; mandatory across 0.24.2, where their image repository changed)",
			Command:     "kubectl -n skoala-system delete jobs gateway-api-admission gateway-api-admission-patch --ignore-not-found"})
		if crossesMinor(from, to, 0, 35) {
			out = append(out, crdStep(chart, "0.35.0", CRDGatewayAPI))
		}
		if crossesMinor(from, to, 0, 37) {
			out = append(out, crdStep(chart, "0.37.0", CRDContour))
		}
		if semver.Compare(from, "0.52.1") < 0 && semver.Compare(to, "0.52.1") >= 0 {
			out = append(out, crdStep(chart, "0.52.1", CRDHigress))
		}
	}
	return out
}

func crdStep(chart, at, file string) Step {
	return Step{Kind: KindCRDs, Chart: chart, At: at, Automated: true, Mandatory: true, Files: []string{file},
		Description: fmt.Sprintf("Helm does not upgrade crds/: apply %s of the %s chart", file, at),
		Command:     "kubectl apply --server-side -f skoala-init/" + file}
}

// crossesMinor reports whether from -> to enters major.minor from below.
func crossesMinor(from, to string, major, minor uint64) bool {
	f, err1 := semver.Parse(from)
	t, err2 := semver.Parse(to)
	if err1 != nil || err2 != nil {
		return false
	}
	below := f.Major() < major || (f.Major() == major && f.Minor() < minor)
	atOrAbove := t.Major() > major || (t.Major() == major && t.Minor() >= minor)
	return below && atOrAbove
}

// Stops returns the intermediate versions an upgrade from -> to must stop at, picked from available: the
// newest 0.19.x when crossing 0.19.0 from below (the DB migration), and the newest 0.22.x when going from
// below 0.22.0 to 0.23.0 or later (sweet is gone). The final target is not included.
func Stops(from, to string, available []string) []string {
	var stops []string
	cur := from
	pick := func(major, minor uint64) string {
		var cands []string
		for _, v := range available {
			pv, err := semver.Parse(v)
			if err != nil || pv.Prerelease() != "" || pv.Major() != major || pv.Minor() != minor {
				continue
			}
			cands = append(cands, v)
		}
		semver.SortDesc(cands)
		if len(cands) == 0 {
			return fmt.Sprintf("%d.%d.x", major, minor)
		}
		return cands[0]
	}
	if semver.Compare(cur, "0.19.0") < 0 && semver.Compare(to, "0.20.0") >= 0 {
		s := pick(0, 19)
		stops = append(stops, s)
		cur = s
	}
	if semver.Compare(cur, "0.22.0") < 0 && semver.Compare(to, "0.23.0") >= 0 {
		s := pick(0, 22)
		stops = append(stops, s)
	}
	sort.SliceStable(stops, func(i, j int) bool { return semver.Compare(stops[i], stops[j]) < 0 })
	return stops
}

// MinKubernetes is the lowest Kubernetes minor a skoala-init version needs (the Gateway API CRDs use CEL
// validation from 0.12: x-kubernetes-validations needs Kubernetes 1.25).
func MinKubernetes(chart, version string) string {
	if chart == "skoala-init" && semver.Compare(version, "0.12.0") >= 0 {
		return "1.25.0"
	}
	return ""
}

// NeedsInsightNamespace reports whether installing skoala-init version fails without namespace
// insight-system (fixed in 0.31.2).
func NeedsInsightNamespace(version string) bool { return semver.Compare(version, "0.31.2") < 0 }
