// Package catalog implements the logic of 'kubectl skoala versions': the versions of the product's charts
// the Helm repository offers, newest first by semver, with the versions installed on the fleet marked.
package catalog

import (
	"sort"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/semver"
	"github.com/skoala-dev/kubectl-skoala/pkg/status"
)

// SchemaVersion is the schema version of the 'versions' report.
const SchemaVersion = "skoala.versions/v1"

// Report is the result of 'kubectl skoala versions'.
type Report struct {
	Schema     string              `json:"schema"`
	Repository *helmsdk.RepoStatus `json:"repository"`
	Charts     []Chart             `json:"charts"`
	Warnings   []string            `json:"warnings,omitempty"`
}

// Chart lists one chart's versions, newest first by semver.
type Chart struct {
	Chart    string    `json:"chart"`
	Versions []Version `json:"versions"`
}

// Version is one version of a chart.
type Version struct {
	Version    string    `json:"version"`
	AppVersion string    `json:"appVersion"`
	Created    time.Time `json:"created"`
	Prerelease bool      `json:"prerelease,omitempty"`
	Latest     bool      `json:"latest,omitempty"`
	// InstalledOn lists the contexts running this version.
	InstalledOn []string `json:"installedOn,omitempty"`
}

// Build lists the versions of charts in idx (stable only unless all), newest first, marking the
// versions installed according to st (may be nil).
func Build(idx *helmsdk.Index, repo *helmsdk.RepoStatus, charts []string, all bool, st *status.Report) *Report {
	rep := &Report{Schema: SchemaVersion, Repository: repo, Charts: []Chart{}}
	installed := map[string]map[string][]string{} // chart -> version -> contexts
	if st != nil {
		for _, c := range st.Clusters {
			for _, r := range c.Releases {
				if !r.Installed {
					continue
				}
				if installed[r.Chart] == nil {
					installed[r.Chart] = map[string][]string{}
				}
				v := semver.Normalize(r.Version)
				installed[r.Chart][v] = append(installed[r.Chart][v], c.Context)
			}
		}
	}
	for _, chart := range charts {
		cr := Chart{Chart: chart, Versions: []Version{}}
		var vs []string
		for _, v := range idx.Versions(chart) {
			vs = append(vs, v.Version)
		}
		latest := semver.Latest(vs, false)
		for _, v := range idx.Versions(chart) {
			pre := semver.IsPrerelease(v.Version)
			if pre && !all {
				continue
			}
			if _, err := semver.Parse(v.Version); err != nil {
				continue
			}
			e := Version{Version: v.Version, AppVersion: v.AppVersion, Created: v.Created.UTC(), Prerelease: pre, Latest: v.Version == latest}
			e.InstalledOn = installed[chart][semver.Normalize(v.Version)]
			sort.Strings(e.InstalledOn)
			cr.Versions = append(cr.Versions, e)
		}
		sort.SliceStable(cr.Versions, func(i, j int) bool { return semver.Compare(cr.Versions[i].Version, cr.Versions[j].Version) > 0 })
		rep.Charts = append(rep.Charts, cr)
	}
	return rep
}
