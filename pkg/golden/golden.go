// Package golden compares test output with testdata/*.golden-style files; `go test ./pkg/... -update`
// rewrites them. It is the one golden helper of the module's tests.
package golden

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/encode"
)

// Update is the -update flag of every test binary that imports this package.
var Update = flag.Bool("update", false, "rewrite the golden files")

// Assert compares got with testdata/<name> of the test's package, rewriting the file first under -update.
func Assert(t testing.TB, name string, got []byte) {
	t.Helper()
	AssertAt(t, filepath.Join("testdata", name), got)
}

// AssertModel compares v, as JSON (encode.JSON: the bytes of -o json), with the file at path, relative to
// the test's package, rewriting it first under -update. A domain package's test pins the report it
// gathers in the testdata of the verb's command package (../cmd/<verb>/testdata/...), where the command's
// test reads it back (ReadModel) to render every view of it: one file, the model's and the JSON view's.
func AssertModel(t testing.TB, path string, v any) {
	t.Helper()
	var b bytes.Buffer
	if err := encode.JSON(&b, v); err != nil {
		t.Fatal(err)
	}
	AssertAt(t, path, b.Bytes())
}

// ReadModel decodes testdata/<name> of the test's package (a JSON file AssertModel wrote) into v.
func ReadModel(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("%v (run go test -update in the domain package that writes it)", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("testdata/%s: %v", name, err)
	}
}

// AssertAt compares got with the file at path, relative to the test's package, rewriting it first under
// -update.
func AssertAt(t testing.TB, p string, got []byte) {
	t.Helper()
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
