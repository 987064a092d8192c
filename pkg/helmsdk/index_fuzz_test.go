package helmsdk

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fuzzIndex = `apiVersion: v1
entries:
  skoala:
  - apiVersion: v2
    appVersion: 0.28.1
    created: "2023-08-01T10:00:00Z"
    digest: 0123abcd
    name: skoala
    urls:
    - skoala-0.28.1.tgz
    version: 0.28.1
  - name: skoala
    version: 0.58.0-rc.1
  skoala-init:
  - name: skoala-init
    version: 0.33.3
    deprecated: true
generated: "2023-08-01T10:00:00Z"
`

// FuzzParseIndex feeds arbitrary bytes to the repository index reader (Helm's cached index.yaml): it
// never panics, every entry it keeps has a version and the name of its chart, it is deterministic, and
// LoadIndex agrees with it on a file of the same bytes.
func FuzzParseIndex(f *testing.F) {
	f.Add([]byte(fuzzIndex))
	f.Add([]byte(fuzzIndex[:len(fuzzIndex)/2]))
	f.Add([]byte("apiVersion: v1\nentries: {skoala: [ {{\n"))
	f.Add([]byte("\x00\x01PK\x03\x04 not yaml \xff"))
	f.Add([]byte("entries: {}\n"))
	f.Add([]byte("apiVersion: v1\nentries:\n  skoala: [null, {version: ''}, {name: skoala, version: 1.0.0, extra: field}]\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	dir := f.TempDir()
	n := 0
	f.Fuzz(func(t *testing.T, data []byte) {
		idx, err := parseIndex(data)
		if err != nil {
			if idx != nil {
				t.Fatalf("an index and an error: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "empty file") && !strings.HasPrefix(err.Error(), "not a valid index") {
				t.Fatalf("unexpected error %q", err)
			}
			return
		}
		total := 0
		for name, vs := range idx.Entries {
			for _, v := range vs {
				total++
				if v.Version == "" || v.Name != name {
					t.Fatalf("entry of %s kept without a version or with another name: %+v", name, v)
				}
			}
			if len(idx.Versions(name)) != len(vs) {
				t.Fatalf("Versions(%s) differs", name)
			}
		}
		if len(idx.Charts()) != len(idx.Entries) {
			t.Fatalf("Charts() lists %d of %d charts", len(idx.Charts()), len(idx.Entries))
		}
		again, err := parseIndex(data)
		if err != nil || len(again.Entries) != len(idx.Entries) {
			t.Fatalf("parsing twice differs: %v", err)
		}
		// LoadIndex (what the verbs call) on the same bytes agrees (every 64th input: it writes a file).
		if n++; n%64 == 0 {
			p := filepath.Join(dir, "index.yaml")
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			li, err := LoadIndex(p)
			if err != nil || len(li.Entries) != len(idx.Entries) || li.Path != p {
				t.Fatalf("LoadIndex disagrees with parseIndex: %v", err)
			}
		}
		_ = total
	})
}
