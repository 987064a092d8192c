package backup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const dsnValue = `skoala:Pa$$w0rd:@/?&=x@tcp(mysql.mcamel-system.svc:3306)/skoala?charset=utf8&parseTime=true`

func meta() Meta {
	return Meta{Cluster: "arn:aws:eks/global", Namespace: "skoala-system", Release: "skoala", Revision: 3,
		Chart: "skoala", Version: "0.28.1", Status: "deployed", Time: time.Date(2026, 11, 2, 3, 4, 5, 0, time.UTC), Tool: "v1.0.0"}
}

func values() map[string]any {
	return map[string]any{
		"hive": map[string]any{"configMap": map[string]any{"database": []any{map[string]any{"driver": "mysql", "dsn": dsnValue}}}},
		"ui":   map[string]any{"image": map[string]any{"tag": "v0.19.0"}},
		"auth": map[string]any{"token": "s3cr3t-token", "replicas": 2},
	}
}

func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "backups")
	if w, err := EnsureDir(dir); err != nil || w != "" {
		t.Fatalf("EnsureDir: %q %v", w, err)
	}
	st, _ := os.Stat(dir)
	if st.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v, want 0700", st.Mode().Perm())
	}
	src := Source{Meta: meta(), Values: values(), Computed: map[string]any{"x": 1}}
	got, err := Write(src, Options{Dir: dir, Computed: true, Redacted: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("wrote %d files, want 4: %+v", len(got), got)
	}
	t.Run("names carry cluster, release, revision, chart version and UTC time", func(t *testing.T) {
		want := "arn_aws_eks_global_skoala-system_skoala_r3_skoala-0.28.1_20261102T030405Z.yaml"
		if filepath.Base(got[0].Path) != want {
			t.Errorf("name %s, want %s", filepath.Base(got[0].Path), want)
		}
	})
	t.Run("files are 0600 and read back as the values", func(t *testing.T) {
		for _, f := range got {
			st, err := os.Stat(f.Path)
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v %v", f.Path, st.Mode().Perm(), err)
			}
		}
		m, v, err := Load(got[0].Path)
		if err != nil {
			t.Fatal(err)
		}
		if m.Release != "skoala" || m.Revision != 3 || m.Version != "0.28.1" || m.Cluster != "arn:aws:eks/global" || !m.Time.Equal(meta().Time) {
			t.Errorf("meta %+v", m)
		}
		if !sameValues(v, values()) {
			t.Errorf("values differ: %v", v)
		}
	})
	t.Run("the redacted copy has no secret", func(t *testing.T) {
		for _, f := range got {
			if !f.Redacted {
				continue
			}
			b, _ := os.ReadFile(f.Path)
			if strings.Contains(string(b), "Pa$$w0rd") || strings.Contains(string(b), "s3cr3t") {
				t.Errorf("%s leaks a secret:\n%s", f.Path, b)
			}
		}
	})
	t.Run("an existing backup is never overwritten", func(t *testing.T) {
		again, err := Write(src, Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if again[0].Path == got[0].Path || !strings.HasSuffix(again[0].Path, "Z.1.yaml") {
			t.Errorf("second backup %s", again[0].Path)
		}
	})
	t.Run("list finds them all, oldest first", func(t *testing.T) {
		l, err := List(dir)
		if err != nil || len(l) != 5 {
			t.Fatalf("list: %d %v", len(l), err)
		}
		os.WriteFile(filepath.Join(dir, "other.yaml"), []byte("a: 1\n"), 0o600)
		l, _ = List(dir)
		if len(l) != 5 {
			t.Errorf("a file without header is listed")
		}
	})
}

func TestListMissingDir(t *testing.T) {
	l, err := List(filepath.Join(t.TempDir(), "none"))
	if err != nil || l != nil {
		t.Fatalf("%v %v", l, err)
	}
}

func TestEnsureDirWarnsWhenOpen(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	w, err := EnsureDir(dir)
	if err != nil || !strings.Contains(w, "chmod 700") {
		t.Fatalf("%q %v", w, err)
	}
}
