// Package golden compares test output with testdata/*.golden-style files; `go test ./pkg/... -update`
// rewrites them. It is the one golden helper of the module's tests.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// Update is the -update flag of every test binary that imports this package.
var Update = flag.Bool("update", false, "rewrite the golden files")

// Assert compares got with testdata/<name> of the test's package, rewriting the file first under -update.
func Assert(t testing.TB, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *Update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the output (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", p, got, want)
	}
}
