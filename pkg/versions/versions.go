// Package versions forwards to pkg/semver, its new name, for the packages that still import it.
//
// TODO(coordinator): switch pkg/upgrade and pkg/cmd/upgrade to pkg/semver after the merge of
// upgrade-core's branch, then delete this package.
package versions

import "github.com/skoala-dev/kubectl-skoala/pkg/semver"

// Skew forwards to semver.Skew.
type Skew = semver.Skew

// The skew levels, forwarded.
const (
	SkewNone    = semver.SkewNone
	SkewPatch   = semver.SkewPatch
	SkewMinor   = semver.SkewMinor
	SkewUnknown = semver.SkewUnknown
)

// The functions, forwarded.
var (
	Parse         = semver.Parse
	Normalize     = semver.Normalize
	Tag           = semver.Tag
	Equal         = semver.Equal
	Compare       = semver.Compare
	Less          = semver.Less
	SortDesc      = semver.SortDesc
	IsPrerelease  = semver.IsPrerelease
	Latest        = semver.Latest
	LatestPatch   = semver.LatestPatch
	SkewOf        = semver.SkewOf
	MinorsBetween = semver.MinorsBetween
	Crosses       = semver.Crosses
)
