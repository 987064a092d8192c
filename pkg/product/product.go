// Package product holds the facts of the DCE 5.0 Microservice Engine that every verb plans and checks
// from: its charts and releases, where they live, which workloads' image tags follow the chart version
// and the values keys that set them. The version-specific upgrade steps (mandatory stops, CRDs, the
// admission Jobs) are in pkg/upgradepath, which builds on these.
package product

import (
	"strings"

	"github.com/skoala-dev/kubectl-skoala/pkg/semver"
)

// The charts: skoala on the control-plane cluster, skoala-init on every workspace cluster.
const (
	ChartSkoala = "skoala"
	ChartInit   = "skoala-init"
)

// Charts lists both charts, control plane first.
var Charts = []string{ChartSkoala, ChartInit}

// The release names of the product guide.
const (
	ReleaseSkoala = "skoala"
	ReleaseInit   = "skoala-init"
)

// Namespaces.
const (
	// Namespace is where both releases live.
	Namespace = "skoala-system"
	// InsightNamespace is where insight-agent lives on the workspaces.
	InsightNamespace = "insight-system"
	// MySQLNamespace is where common-mysql lives.
	MySQLNamespace = "mcamel-system"
)

// The database of a skoala install, as the product guide builds its DSN.
const (
	DefaultDBHost = "mcamel-common-mysql-cluster-mysql-master.mcamel-system.svc.cluster.local"
	DefaultDBUser = "skoala"
	DefaultDBName = "skoala"
)

// RepoName is the name the product guide gives the Helm repository.
const RepoName = "skoala-release"

// UITagKey is the skoala UI's image tag, which has its own version line and is never set to the chart's
// version; a pinned one goes stale (DaoCloud-docs#6420).
const UITagKey = "ui.image.tag"

// SeataOperatorSince is the first skoala-init version whose seata-operator image tag follows the chart
// version (seata-operator.image.tag = v<version>); before it, seata-operator had its own version line.
const SeataOperatorSince = "0.28.0"

// TagKeys are the image-tag values the product guide sets to v<version> when upgrading chart to version:
// hive and sesame for skoala; skoala-agent, nacos-operator and sentinel-operator for skoala-init, and
// seata-operator from SeataOperatorSince on. An unknown chart has none.
func TagKeys(chart, version string) []string {
	switch chart {
	case ChartSkoala:
		return []string{"hive.image.tag", "sesame.image.tag"}
	case ChartInit:
		keys := []string{"skoala-agent.image.tag", "nacos-operator.image.tag", "sentinel-operator.image.tag"}
		if semver.Compare(version, SeataOperatorSince) >= 0 {
			keys = append(keys, "seata-operator.image.tag")
		}
		return keys
	}
	return nil
}

// Component is the workload whose image a values key (such as "hive.image.tag") sets: the key's first
// part, "ui" being the skoala-ui Deployment.
func Component(key string) string {
	c, _, _ := strings.Cut(key, ".")
	if c == "ui" {
		return "skoala-ui"
	}
	return c
}

// Components maps tag keys to their workloads, in order.
func Components(keys []string) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, Component(k))
	}
	return out
}

// OwnImageComponents are the workloads of chart at version whose image tag follows the chart version
// (the workloads of TagKeys; skoala-ui and the gateway components have their own version lines).
func OwnImageComponents(chart, version string) []string {
	return Components(TagKeys(chart, version))
}
