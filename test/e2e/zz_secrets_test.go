package e2e

// The secret scanner. Its file name sorts last, so its test runs after every other test of the package
// (go test runs a package's tests in source order, file by file): it reads what they captured.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// suiteStart is when this test binary started: the scanner reads the captures of this run only.
var suiteStart = time.Now()

// plantedDSNLiteral finds the password of a DSN written out in a test source: user:<password>@tcp(.
var plantedDSNLiteral = regexp.MustCompile(`[A-Za-z0-9_]+:([^\s"'` + "`" + `]{6,}?)@tcp\(`)

// plantedSecrets lists every password the e2e suite plants: the constants of the safety tests, the DSN
// passwords written out in any test source of this package, and the password hack/mariadb.sh generated.
func plantedSecrets(t *testing.T) []string {
	t.Helper()
	set := map[string]bool{plantedPassword: true, plantedRegistryPassword: true, plantedSecretValue: true,
		kpandaDCEToken: true, kpandaKubeconfigMarker: true, // the DCE access token and kpanda's kubeconfig (kpanda_test.go)
		plantedDebugDSNPassword: true} // the DSN of the --debug output of a failing upgrade (TestHelm4Readiness)
	for _, c := range secretFormCanaries() { // URL-style DSN, rootPwd, repository URL, registry auth
		set[c] = true
	}
	for _, c := range issue24Canaries() { // PEM key, --db-password VALUE, -pSECRET, a ',' in --set, user:pw@registry
		set[c] = true
	}
	files, _ := filepath.Glob(filepath.Join(fleet.Root, "test", "e2e", "*.go"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range plantedDSNLiteral.FindAllStringSubmatch(string(b), -1) {
			pw := m[1]
			if strings.ContainsAny(pw, "%<>{}*") || strings.Contains(pw, "password>") {
				continue // a format verb, a placeholder or a mask, not a password
			}
			set[pw] = true
		}
	}
	if b, err := os.ReadFile(filepath.Join(fleet.Root, ".cache", "mariadb", "env")); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "="); ok && k == "MARIADB_PASSWORD" {
				if v = strings.Trim(v, `"'`); len(v) >= 8 {
					set[v] = true
				}
			}
		}
	}
	// The fleet's image registry password (random per fleet, hack/fleet.sh) and the wrong one the images
	// tests try: registry credentials.
	if pw := fleet.Env["SKOALA_REGISTRY_PASSWORD"]; len(pw) >= 8 {
		set[pw], set["Wr0ng-"+pw] = true, true
	}
	var out []string
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// needle is one form a secret can take in output: as it is, JSON-escaped, or URL-escaped.
type needle struct {
	secret, form string
	b            []byte
}

func needles(secrets []string) []needle {
	var out []needle
	for _, s := range secrets {
		forms := map[string]string{"plain": s, "url-query": url.QueryEscape(s), "url-path": url.PathEscape(s)}
		if j, err := json.Marshal(s); err == nil {
			forms["json"] = strings.Trim(string(j), `"`)
		}
		seen := map[string]bool{}
		for form, v := range forms {
			if !seen[v] {
				seen[v] = true
				out = append(out, needle{secret: s, form: form, b: []byte(v)})
			}
		}
	}
	return out
}

// mask shows enough of a secret to tell which one it is.
func mask(s string) string {
	if len(s) <= 4 {
		return "****"
	}
	return s[:3] + strings.Repeat("*", len(s)-3)
}

// finding is a secret found where it must not be.
type finding struct {
	path string
	line int
	what string
}

func (f finding) String() string { return fmt.Sprintf("%s:%d: %s", f.path, f.line, f.what) }

// scanBytes reports each needle found in data (from offset on), with its line number.
func scanBytes(path string, data []byte, offset int, ns []needle) []finding {
	var out []finding
	for _, n := range ns {
		for i := offset; i < len(data); {
			j := bytes.Index(data[i:], n.b)
			if j < 0 {
				break
			}
			at := i + j
			out = append(out, finding{path: path, line: bytes.Count(data[:at], []byte("\n")) + 1,
				what: fmt.Sprintf("planted password %s (%s)", mask(n.secret), n.form)})
			i = at + len(n.b)
		}
	}
	return out
}

var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// toolCapture reports whether a capture is the output of the tool under test (kubectl-skoala, or the
// plugin run by kubectl or helm), and where its output starts (after the command line, which the test
// wrote). The fixtures' own helm and kubectl commands (helm get values prints the DSN) are not the tool's.
func toolCapture(data []byte) (bool, int) {
	first, _, _ := bytes.Cut(data, []byte("\n"))
	if !bytes.HasPrefix(first, []byte("args: [")) {
		return true, 0 // not a command capture: scan all of it
	}
	// The command line as Result.String writes it: %q of the arguments.
	var args []string
	for _, q := range quoted.FindAllString(string(first), -1) {
		if a, err := strconv.Unquote(q); err == nil {
			args = append(args, a)
		}
	}
	if len(args) == 0 {
		return true, 0
	}
	tool := strings.Contains(args[0], "skoala")
	if !tool && len(args) > 1 && (strings.HasPrefix(args[0], "helm") || args[0] == "kubectl") {
		for _, a := range args[1:] {
			if strings.HasPrefix(a, "-") {
				continue
			}
			tool = a == "skoala"
			break
		}
	}
	start := bytes.Index(data, []byte("\nstdout:\n"))
	if start < 0 {
		start = len(first)
	}
	return tool, start
}

// scanCaptures scans the tool's stdout and stderr in every capture written since since.
func scanCaptures(t *testing.T, dir string, since time.Time, ns []needle) (files int, found []finding) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return 0, nil
		}
		t.Fatal(err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() || info.ModTime().Before(since) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		tool, start := toolCapture(data)
		if !tool {
			continue
		}
		files++
		found = append(found, scanBytes(p, data, start, ns)...)
	}
	return files, found
}

// isBackup reports whether a file is a values backup holding secrets (not a redacted copy).
func isBackup(data []byte) bool {
	if !bytes.HasPrefix(data, []byte("# kubectl-skoala backup-values\n")) {
		return false
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "#") {
			break
		}
		if line == "# redacted: true" {
			return false
		}
	}
	return true
}

// scanWritten scans the files the tool wrote since since (backups, --redact copies, anything else): a
// password may be only in a backup of mode 0600 in a directory of mode 0700; redacted copies and every
// other file must hold none. It returns how many files it read and how many were backups holding a password.
func scanWritten(t *testing.T, root string, since time.Time, ns []needle) (files, backups int, found []finding) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && p == root {
				return filepath.SkipDir
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if info, err := d.Info(); err != nil || info.ModTime().Before(since) {
			return nil // a file of an earlier run
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		hits := scanBytes(p, data, 0, ns)
		if len(hits) == 0 {
			return nil
		}
		if !isBackup(data) {
			found = append(found, hits...)
			return nil
		}
		backups++
		st, _ := os.Stat(p)
		dst, _ := os.Stat(filepath.Dir(p))
		if st.Mode().Perm() != 0o600 || dst.Mode().Perm() != 0o700 {
			found = append(found, finding{path: p, what: fmt.Sprintf("a backup holding a password has mode %v in a directory of mode %v, want 0600 in 0700",
				st.Mode().Perm(), dst.Mode().Perm())})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, backups, found
}

// TestSecretsScanFindsNoPlantedPassword reads every byte of the tool's output that the e2e suite captured
// (stdout and stderr of every kubectl-skoala run, plan and diff output included) and every file the safety
// tests let the tool write outside t.TempDir (backups, --redact copies, HOME), and fails on any planted
// password (MySQL and URL-style DSNs, a rootPwd key, repository URL and registry credentials) in any form (plain, JSON- or URL-escaped): only a backup may hold
// one, at mode 0600 in a 0700 directory.
func TestSecretsScanFindsNoPlantedPassword(t *testing.T) {
	secrets := plantedSecrets(t)
	ns := needles(secrets)
	t.Logf("%d planted passwords (%d forms)", len(secrets), len(ns))

	t.Run("the scanner finds a planted password in every form", func(t *testing.T) {
		dir := t.TempDir()
		var body strings.Builder
		body.WriteString(`args: ["kubectl-skoala" "status" "--db-dsn" "u:` + secrets[0] + `@tcp(h)/d"]` + "\nexit: 0\nstdout:\n")
		for _, n := range ns {
			body.WriteString("leak: " + string(n.b) + "\n")
		}
		if err := os.WriteFile(filepath.Join(dir, "00001-canary.txt"), []byte(body.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "00002-fixture.txt"), []byte(`args: ["helm3" "get" "values"]`+"\nexit: 0\nstdout:\n"+secrets[0]+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		files, found := scanCaptures(t, dir, suiteStart, ns)
		if files != 1 || len(found) < len(ns) {
			t.Errorf("the canary capture: %d tool files, %d findings for %d needles", files, len(found), len(ns))
		}
		w := filepath.Join(dir, "written")
		bdir := filepath.Join(w, "backups")
		_ = os.MkdirAll(bdir, 0o700)
		_ = os.WriteFile(filepath.Join(bdir, "a.yaml"), []byte("# kubectl-skoala backup-values\n# redacted: false\ndsn: "+secrets[0]+"\n"), 0o600)
		_ = os.WriteFile(filepath.Join(bdir, "a.redacted.yaml"), []byte("# kubectl-skoala backup-values\n# redacted: true\ndsn: "+secrets[0]+"\n"), 0o600)
		_ = os.WriteFile(filepath.Join(bdir, "b.yaml"), []byte("# kubectl-skoala backup-values\n# redacted: false\ndsn: "+secrets[0]+"\n"), 0o644)
		_ = os.WriteFile(filepath.Join(w, "notes.txt"), []byte(secrets[0]), 0o600)
		_, backups, wf := scanWritten(t, w, suiteStart, ns)
		if backups != 2 || len(wf) != 3 {
			t.Errorf("written canaries: %d backups, findings %v; want 2 backups and 3 findings (redacted copy, 0644 backup, other file)", backups, wf)
		}
	})

	capDir := captureDir()
	since := suiteStart
	if os.Getenv("SKOALA_SCAN_ALL") != "" {
		since = time.Time{} // scan the captures of earlier runs too (go test -run TestSecrets alone)
	}
	files, found := scanCaptures(t, capDir, since, ns)
	written := filepath.Join(capDir, "written")
	wfiles, backups, wfound := scanWritten(t, written, since, ns)
	_, _, hfound := scanWritten(t, filepath.Join(fleet.Dir, "helm"), time.Time{}, ns)
	found = append(append(found, wfound...), hfound...)
	t.Logf("scanned %d captured outputs of the tool in %s and %d written files in %s (%d backups hold a password, as they must)",
		files, capDir, wfiles, written, backups)
	if files == 0 {
		t.Fatalf("the scanner captured no output of the tool in %s: nothing was scanned (run it with the tests whose output it reads, or SKOALA_SCAN_ALL=1 for earlier captures)", capDir)
	}
	for _, f := range found {
		t.Errorf("%s", f)
	}
}
