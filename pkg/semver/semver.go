// Package semver orders and compares skoala versions. Chart versions have no leading "v"; image tags do.
// Versions are ordered by semver, never by index order or date: patch releases of older minors are
// published after newer minors (0.33.3 after 0.34.0).
package semver

import (
	"fmt"
	"sort"
	"strings"

	msemver "github.com/Masterminds/semver/v3"
)

// Parse parses a version, accepting an optional leading "v".
func Parse(s string) (*msemver.Version, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return nil, fmt.Errorf("empty version")
	}
	v, err := msemver.StrictNewVersion(strings.TrimPrefix(t, "v"))
	if err != nil {
		return nil, fmt.Errorf("%q is not a semantic version (want MAJOR.MINOR.PATCH, e.g. 0.28.1)", s)
	}
	return v, nil
}

// Normalize returns the version without a leading "v" (chart-version form), or s unchanged if it does not parse.
func Normalize(s string) string {
	if v, err := Parse(s); err == nil {
		return v.String()
	}
	return s
}

// Tag returns the image tag for a chart version: "v" + version.
func Tag(version string) string { return "v" + Normalize(version) }

// Equal reports whether a and b are the same version, ignoring a leading "v".
func Equal(a, b string) bool {
	va, erra := Parse(a)
	vb, errb := Parse(b)
	if erra != nil || errb != nil {
		return strings.TrimPrefix(a, "v") == strings.TrimPrefix(b, "v")
	}
	return va.Equal(vb)
}

// Compare returns -1, 0 or 1. Versions that do not parse sort below all that do.
func Compare(a, b string) int {
	va, erra := Parse(a)
	vb, errb := Parse(b)
	switch {
	case erra != nil && errb != nil:
		return strings.Compare(a, b)
	case erra != nil:
		return -1
	case errb != nil:
		return 1
	}
	return va.Compare(vb)
}

// Less reports whether a < b.
func Less(a, b string) bool { return Compare(a, b) < 0 }

// SortDesc sorts version strings newest first.
func SortDesc(vs []string) {
	sort.SliceStable(vs, func(i, j int) bool { return Compare(vs[i], vs[j]) > 0 })
}

// IsPrerelease reports whether v has a pre-release part (0.58.0-rc.1).
func IsPrerelease(s string) bool {
	v, err := Parse(s)
	return err == nil && v.Prerelease() != ""
}

// Latest returns the newest version of vs (stable only unless pre is true), or "".
func Latest(vs []string, pre bool) string {
	best := ""
	for _, s := range vs {
		if _, err := Parse(s); err != nil || (!pre && IsPrerelease(s)) {
			continue
		}
		if best == "" || Compare(s, best) > 0 {
			best = s
		}
	}
	return best
}

// LatestPatch returns the newest stable version of vs with the same major.minor as of, or "".
func LatestPatch(vs []string, of string) string {
	base, err := Parse(of)
	if err != nil {
		return ""
	}
	best := ""
	for _, s := range vs {
		v, err := Parse(s)
		if err != nil || v.Prerelease() != "" || v.Major() != base.Major() || v.Minor() != base.Minor() {
			continue
		}
		if best == "" || Compare(s, best) > 0 {
			best = s
		}
	}
	return best
}

// Skew is how far a workspace's skoala-init is from the control plane's skoala.
type Skew string

// Skew levels: the product requires skoala and every skoala-init at the same version.
const (
	SkewNone    Skew = "ok"      // same version
	SkewPatch   Skew = "warning" // patch differs
	SkewMinor   Skew = "error"   // minor or major differs
	SkewUnknown Skew = "unknown" // one side missing or unparsable
)

// SkewOf classifies workspace version ws against control-plane version cp.
func SkewOf(cp, ws string) Skew {
	a, erra := Parse(cp)
	b, errb := Parse(ws)
	if erra != nil || errb != nil {
		return SkewUnknown
	}
	switch {
	case a.Major() != b.Major() || a.Minor() != b.Minor():
		return SkewMinor
	case !a.Equal(b):
		return SkewPatch
	}
	return SkewNone
}

// MinorsBetween counts the minor versions from a to b (b - a) when the majors are equal, else -1.
func MinorsBetween(a, b string) int {
	va, erra := Parse(a)
	vb, errb := Parse(b)
	if erra != nil || errb != nil || va.Major() != vb.Major() {
		return -1
	}
	return int(vb.Minor()) - int(va.Minor())
}

// Crosses reports whether going from -> to passes version at (from < at <= to).
func Crosses(from, to, at string) bool {
	return Compare(from, at) < 0 && Compare(to, at) >= 0
}
