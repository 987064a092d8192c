package helmsdk

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// bigIndex is an index the size of a real repository's: 14 charts of 200 versions with Helm's metadata.
func bigIndex(charts, versions int) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nentries:\n")
	for c := 0; c < charts; c++ {
		name := fmt.Sprintf("chart-%d", c)
		if c == 0 {
			name = "skoala"
		}
		fmt.Fprintf(&b, "  %s:\n", name)
		for v := 0; v < versions; v++ {
			ver := fmt.Sprintf("0.%d.%d", v/4, v%4)
			fmt.Fprintf(&b, "  - apiVersion: v2\n    appVersion: %s\n    created: \"2024-01-01T00:00:00.%06dZ\"\n"+
				"    description: A Helm chart for %s\n    digest: \"%064x\"\n    name: %s\n    type: application\n"+
				"    urls:\n    - https://example.com/%s-%s.tgz\n    version: %s\n    annotations:\n      category: x\n"+
				"    maintainers:\n    - name: m\n      email: m@example.com\n    keywords: [a, b]\n", ver, v, name, v*7919, name, name, ver, ver)
		}
	}
	b.WriteString("generated: \"2024-01-01T00:00:00Z\"\n")
	return b.String()
}

func TestParseIndexFastReadsWhatHelmReads(t *testing.T) {
	cases := map[string]string{
		"fuzz seed":        fuzzIndex,
		"big":              bigIndex(3, 20),
		"unknown fields":   "apiVersion: v1\nentries:\n  skoala: [null, {version: ''}, {name: skoala, version: 1.0.0, extra: field}]\n",
		"no generated":     "apiVersion: v1\nentries:\n  skoala:\n  - version: 0.1.0\n    created: 2024-01-02T03:04:05+08:00\n",
		"unquoted created": "apiVersion: v1\nentries:\n  a:\n  - {version: 1.2.3, created: 2024-01-02T03:04:05.123456789Z, deprecated: true, urls: [u1, u2], digest: d}\ngenerated: 2024-01-01T00:00:00Z\n",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			fast, ok := parseIndexFast([]byte(in))
			if !ok {
				t.Fatal("the fast path did not apply")
			}
			slow, err := parseIndexHelm([]byte(in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fast, slow) {
				t.Errorf("fast:\n%+v\nHelm's reader:\n%+v", fast, slow)
			}
		})
	}
	// What the fast path does not read goes the old way, with the old result.
	for name, in := range map[string]string{
		"no apiVersion":     "entries: {}\n",
		"bad time":          "apiVersion: v1\nentries:\n  a:\n  - {version: 1.0.0, created: yesterday}\n",
		"entries not a map": "apiVersion: v1\nentries: [1, 2]\n",
		"broken YAML":       "apiVersion: v1\nentries: {skoala: [ {{\n",
		"empty generated":   "apiVersion: v1\nentries: {}\ngenerated: \"\"\n",
		"empty created":     "apiVersion: v1\nentries:\n  a:\n  - {version: 1.0.0, created: \"\"}\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, ok := parseIndexFast([]byte(in)); ok {
				t.Errorf("the fast path applied")
			}
			got, err := parseIndex([]byte(in))
			want, werr := parseIndexHelm([]byte(in))
			if fmt.Sprint(err) != fmt.Sprint(werr) || !reflect.DeepEqual(got, want) {
				t.Errorf("parseIndex: %+v %v; Helm's reader: %+v %v", got, err, want, werr)
			}
		})
	}
}

func BenchmarkParseIndex(b *testing.B) {
	in := []byte(bigIndex(14, 200))
	b.Logf("index of %d bytes", len(in))
	b.Run("parseIndex", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := parseIndex(in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Helm's reader", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := parseIndexHelm(in); err != nil {
				b.Fatal(err)
			}
		}
	})
}
