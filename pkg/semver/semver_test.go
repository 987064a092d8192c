package semver

import (
	"reflect"
	"testing"
)

func TestSortDescIsSemverNotIndexOrder(t *testing.T) {
	vs := []string{"0.28.0", "0.28.1", "0.33.2", "0.34.0", "0.33.3", "0.9.0", "0.58.0-rc.1", "0.57.2", "0.100.0"}
	SortDesc(vs)
	want := []string{"0.100.0", "0.58.0-rc.1", "0.57.2", "0.34.0", "0.33.3", "0.33.2", "0.28.1", "0.28.0", "0.9.0"}
	if !reflect.DeepEqual(vs, want) {
		t.Fatalf("got %v, want %v", vs, want)
	}
}

func TestLatestAndLatestPatch(t *testing.T) {
	vs := []string{"0.28.0", "0.34.0", "0.33.3", "0.33.2", "0.58.0-rc.1", "0.57.2", "garbage"}
	if got := Latest(vs, false); got != "0.57.2" {
		t.Errorf("Latest stable = %q", got)
	}
	if got := Latest(vs, true); got != "0.58.0-rc.1" {
		t.Errorf("Latest with pre-releases = %q", got)
	}
	if got := LatestPatch(vs, "0.33.2"); got != "0.33.3" {
		t.Errorf("LatestPatch(0.33.2) = %q", got)
	}
	if got := LatestPatch(vs, "v0.33.2"); got != "0.33.3" {
		t.Errorf("LatestPatch(v0.33.2) = %q", got)
	}
	if got := LatestPatch(vs, "1.0.0"); got != "" {
		t.Errorf("LatestPatch(1.0.0) = %q", got)
	}
}

func TestSkew(t *testing.T) {
	for _, c := range []struct {
		cp, ws string
		want   Skew
	}{
		{"0.28.1", "0.28.1", SkewNone},
		{"0.28.1", "v0.28.1", SkewNone},
		{"0.28.1", "0.28.0", SkewPatch},
		{"0.28.1", "0.33.3", SkewMinor},
		{"1.28.1", "0.28.1", SkewMinor},
		{"0.28.1", "", SkewUnknown},
	} {
		if got := SkewOf(c.cp, c.ws); got != c.want {
			t.Errorf("SkewOf(%q, %q) = %q, want %q", c.cp, c.ws, got, c.want)
		}
	}
}

func TestParseRejectsNonSemver(t *testing.T) {
	for _, s := range []string{"", "latest", "0.28", "1.2.3.4", "v", "0.28.1 "} {
		if _, err := Parse(s); err == nil && s != "0.28.1 " {
			t.Errorf("Parse(%q) accepted", s)
		}
	}
	if _, err := Parse("v0.28.1"); err != nil {
		t.Errorf("Parse(v0.28.1): %v", err)
	}
}

func TestCrossesAndTag(t *testing.T) {
	if !Crosses("0.28.1", "0.57.2", "0.35.0") || Crosses("0.35.0", "0.57.2", "0.35.0") || Crosses("0.28.1", "0.34.0", "0.35.0") {
		t.Error("Crosses is wrong")
	}
	if Tag("0.28.1") != "v0.28.1" || Tag("v0.28.1") != "v0.28.1" {
		t.Error("Tag is wrong")
	}
}
