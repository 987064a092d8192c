// Package bundle implements 'kubectl skoala bundle': one redacted support-bundle zip of the whole fleet
// (status and doctor reports, and per cluster the releases' history and redacted values, the objects of the
// release namespace, nodes, CRD versions, common-mysql and insight-agent, and with Logs the containers'
// logs), bounded in size, written atomically, with a manifest of every file and of every part skipped.
package bundle

import (
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/buildinfo"
)

// SchemaVersion is the version of manifest.json and of the summary.
const SchemaVersion = "skoala.io/bundle/v1"

// Reasons a part is missing from the bundle.
const (
	ReasonForbidden   = "forbidden"
	ReasonTimedOut    = "timed out"
	ReasonUnreachable = "unreachable"
	ReasonOverSize    = "over the size bound"
	ReasonNotPresent  = "not present"
	ReasonFailed      = "failed"
)

// IsGap reports whether a part missing for reason is a gap of the bundle (something that exists and could
// not be collected): everything but a part that is not there and a cut the size bound asked for.
func IsGap(reason string) bool { return reason != ReasonNotPresent && reason != ReasonOverSize }

// Manifest is manifest.json: what the bundle holds and what it lacks, and why.
type Manifest struct {
	Schema    string         `json:"schema"`
	Created   time.Time      `json:"created"`
	Tool      buildinfo.Info `json:"tool"`
	Namespace string         `json:"namespace"`
	// MaxSize is the bound of the archive in bytes.
	MaxSize  int64            `json:"maxSize"`
	Logs     bool             `json:"logs"`
	Clusters []ClusterSummary `json:"clusters"`
	Files    []FileEntry      `json:"files"`
	Skipped  []Skip           `json:"skipped"`
	Cut      []Cut            `json:"cut"`
	// Gaps counts the skipped parts that are gaps (IsGap).
	Gaps int `json:"gaps"`
}

// ClusterSummary is one cluster of the bundle.
type ClusterSummary struct {
	Context   string `json:"context"`
	Role      string `json:"role"`
	Release   string `json:"release"`
	Dir       string `json:"dir"`
	Reachable bool   `json:"reachable"`
	Error     string `json:"error,omitempty"`
	Files     int    `json:"files"`
	Bytes     int64  `json:"bytes"`
	Gaps      int    `json:"gaps"`
}

// FileEntry is one file of the archive (its size before compression).
type FileEntry struct {
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
}

// Skip is a part that is not in the bundle.
type Skip struct {
	// Cluster is the context ("" for the parts at the top).
	Cluster string `json:"cluster,omitempty"`
	// Part names what was to be collected ("objects/secrets", "releases/skoala/history", "logs/hive-x/hive").
	Part   string `json:"part"`
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
}

// Cut is a file the bundle holds in part: the size bound shortened it (KeptBytes > 0, its newest lines
// kept) or left it out (KeptBytes 0), or a log's reading stopped at a deadline or an error (Reason timed
// out or failed: Bytes is what was read, the rest of the log is missing).
type Cut struct {
	Path      string `json:"path"`
	Bytes     int64  `json:"bytes"`
	KeptBytes int64  `json:"keptBytes"`
	Reason    string `json:"reason"`
	Detail    string `json:"detail,omitempty"`
}

// Summary is what the verb prints at the end: where the archive is and what it holds.
type Summary struct {
	Schema   string           `json:"schema"`
	File     string           `json:"file"`
	Bytes    int64            `json:"bytes"`
	MaxSize  int64            `json:"maxSize"`
	Files    int              `json:"files"`
	Clusters []ClusterSummary `json:"clusters"`
	Skipped  []Skip           `json:"skipped"`
	Cut      []Cut            `json:"cut"`
	Gaps     int              `json:"gaps"`
}
