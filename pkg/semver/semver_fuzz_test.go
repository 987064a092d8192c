package semver

import (
	"sort"
	"testing"
)

// FuzzCompare checks that Compare is a total order on any strings: reflexive, antisymmetric, transitive,
// consistent with Equal, Less and SortDesc (versions that do not parse sort below those that do).
func FuzzCompare(f *testing.F) {
	for _, s := range [][3]string{
		{"0.28.1", "v0.28.1", "0.33.3"},
		{"0.58.0-rc.1", "0.58.0", "0.57.2"},
		{"1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-alpha"},
		{"1.0.0+build.1", "1.0.0+build.2", "1.0.0"},
		{"garbage", "", "0.0.0"},
		{"1.0.0-01", "1.0.0-1", "1.0.0-x"},
		{" 0.28.1", "0.28.1 ", "V0.28.1"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		for _, x := range []string{a, b, c} {
			if Compare(x, x) != 0 {
				t.Fatalf("Compare(%q, %q) = %d", x, x, Compare(x, x))
			}
		}
		pairs := [][2]string{{a, b}, {b, c}, {a, c}}
		for _, p := range pairs {
			x, y := p[0], p[1]
			cxy, cyx := Compare(x, y), Compare(y, x)
			if cxy < -1 || cxy > 1 {
				t.Fatalf("Compare(%q, %q) = %d", x, y, cxy)
			}
			if cxy != -cyx {
				t.Fatalf("not antisymmetric: Compare(%q, %q) = %d, Compare(%q, %q) = %d", x, y, cxy, y, x, cyx)
			}
			if Less(x, y) != (cxy < 0) {
				t.Fatalf("Less(%q, %q) disagrees with Compare", x, y)
			}
			_, ex := Parse(x)
			_, ey := Parse(y)
			if ex == nil && ey == nil && Equal(x, y) != (cxy == 0) {
				t.Fatalf("Equal(%q, %q) = %v but Compare = %d", x, y, Equal(x, y), cxy)
			}
			if (ex == nil) != (ey == nil) && (ex == nil) != (cxy > 0) {
				t.Fatalf("Compare(%q, %q) = %d: a version that parses must sort above one that does not", x, y, cxy)
			}
		}
		// Transitivity, in every order of the three.
		vs := []string{a, b, c}
		for _, p := range [][3]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}} {
			x, y, z := vs[p[0]], vs[p[1]], vs[p[2]]
			if Compare(x, y) <= 0 && Compare(y, z) <= 0 && Compare(x, z) > 0 {
				t.Fatalf("not transitive: %q <= %q <= %q but %q > %q", x, y, z, x, z)
			}
		}
		sorted := []string{a, b, c}
		SortDesc(sorted)
		if !sort.SliceIsSorted(sorted, func(i, j int) bool { return Compare(sorted[i], sorted[j]) > 0 }) {
			t.Fatalf("SortDesc(%q, %q, %q) = %q", a, b, c, sorted)
		}
		if l := Latest([]string{a, b, c}, true); l != "" {
			for _, x := range []string{a, b, c} {
				if _, err := Parse(x); err == nil && Compare(l, x) < 0 {
					t.Fatalf("Latest(%q, %q, %q) = %q, but %q is newer", a, b, c, l, x)
				}
			}
		}
	})
}
