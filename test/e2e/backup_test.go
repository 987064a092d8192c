package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

type backupJSON struct {
	Schema  string `json:"schema"`
	Dir     string `json:"dir"`
	Backups []struct {
		Cluster  string `json:"cluster"`
		Release  string `json:"release"`
		Revision int    `json:"revision"`
		Version  string `json:"version"`
		Files    []struct {
			Path     string `json:"path"`
			Kind     string `json:"kind"`
			Redacted bool   `json:"redacted"`
		} `json:"files"`
	} `json:"backups"`
	Entries []struct {
		Path     string `json:"path"`
		Cluster  string `json:"cluster"`
		Release  string `json:"release"`
		Kind     string `json:"kind"`
		Redacted bool   `json:"redacted"`
		Mode     string `json:"mode"`
	} `json:"entries"`
	Warnings []string `json:"warnings"`
}

func parseBackup(t *testing.T, r Result) backupJSON {
	t.Helper()
	var b backupJSON
	if err := json.Unmarshal([]byte(r.Stdout), &b); err != nil {
		t.Fatalf("backup-values -o json is not JSON: %v\n%s", err, r)
	}
	return b
}

// TestBackupValues backs up skoala's values (user-supplied, computed and redacted copies): the files are
// 0600 in a 0700 directory, carry their metadata, are listed, never overwritten, never leak the password
// in the redacted copy, and reinstall the release with helm upgrade -f.
func TestBackupValues(t *testing.T) {
	ns := freshNamespace(t, "bkv")
	installSkoala(t, "global", ns, "0.28.1")
	before := helmValues(t, "global", ns, "skoala", false)
	dir := filepath.Join(t.TempDir(), "backups")

	r := Skoala(t, "backup-values", "-n", ns, "-w", "workspace-1", "--dir", dir, "--all", "--redact", "-o", "json")
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s", r.Code, r)
	}
	noPassword(t, r)
	b := parseBackup(t, r)
	if len(b.Backups) != 1 || len(b.Backups[0].Files) != 4 || b.Backups[0].Revision != 1 || b.Backups[0].Version != "0.28.1" {
		t.Fatalf("backups %+v", b.Backups)
	}
	if len(b.Warnings) != 1 || !strings.Contains(b.Warnings[0], "workspace-1") {
		t.Errorf("the missing skoala-init of workspace-1 is not noted: %v", b.Warnings)
	}
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v %v", st.Mode(), err)
	}
	var values string
	for _, f := range b.Backups[0].Files {
		st, err := os.Stat(f.Path)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v %v", f.Path, st.Mode(), err)
		}
		data, _ := os.ReadFile(f.Path)
		for _, h := range []string{"# kubectl-skoala backup-values", "# cluster: global", "# namespace: " + ns, "# release: skoala", "# revision: 1", "# chart: skoala", "# version: 0.28.1", "# time: "} {
			if !strings.Contains(string(data), h+"") {
				t.Errorf("%s lacks header %q", f.Path, h)
			}
		}
		if f.Redacted {
			if strings.Contains(string(data), "Pa$$w0rd") || !strings.Contains(string(data), "******") {
				t.Errorf("redacted copy %s:\n%s", f.Path, data)
			}
		} else if f.Kind == "values" {
			values = f.Path
			if !strings.Contains(string(data), "Pa$$w0rd") {
				t.Errorf("the backup lost the password:\n%s", data)
			}
		}
	}
	t.Run("a second backup never overwrites the first", func(t *testing.T) {
		r := Skoala(t, "backup-values", "-n", ns, "--dir", dir)
		if r.Code != 0 {
			t.Fatalf("exit %d\n%s", r.Code, r)
		}
		l := parseBackup(t, Skoala(t, "backup-values", "--list", "--dir", dir, "-o", "json"))
		if len(l.Entries) != 5 {
			t.Errorf("%d entries, want 5: %+v", len(l.Entries), l.Entries)
		}
		for _, e := range l.Entries {
			if e.Mode != "-rw-------" || e.Release != "skoala" || e.Cluster != "global" {
				t.Errorf("entry %+v", e)
			}
		}
		tbl := Skoala(t, "backup-values", "--list", "--dir", dir)
		if !strings.Contains(tbl.Stdout, "computed (redacted)") || !strings.Contains(tbl.Stdout, "skoala-0.28.1") {
			t.Errorf("list table:\n%s", tbl.Stdout)
		}
	})
	t.Run("the backup reinstalls the release with helm upgrade -f", func(t *testing.T) {
		MustHelm(t, "upgrade", "skoala", "skoala-release/skoala", "--version", "0.28.1", "--kube-context", "global", "-n", ns,
			"--reset-values", "-f", values, "--wait", "--timeout", "2m")
		after := helmValues(t, "global", ns, "skoala", false)
		if !reflect.DeepEqual(after, before) {
			t.Errorf("values after helm -f differ:\nbefore %v\nafter  %v", before, after)
		}
	})
}
