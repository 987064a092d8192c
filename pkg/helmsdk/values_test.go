package helmsdk

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func backedUp() map[string]any {
	return map[string]any{
		"hive": map[string]any{
			"image":     map[string]any{"tag": "v0.30.0"},
			"replicas":  float64(1),
			"configMap": map[string]any{"database": []any{map[string]any{"driver": "mysql", "dsn": "old"}, map[string]any{"driver": "pg", "dsn": "two"}}},
		},
		"keep": "me",
	}
}

func files(m map[string]string) ReadFileFunc {
	return func(p string) ([]byte, error) {
		s, ok := m[p]
		if !ok {
			return nil, os.ErrNotExist
		}
		return []byte(s), nil
	}
}

func TestUserValuesApply(t *testing.T) {
	fs := files(map[string]string{
		"a.yaml": "hive:\n  replicas: 3\n  extra: {x: 1}\nkeep: null\n",
		"b.yaml": "hive:\n  extra: {z: 2}\n",
		"ca.pem": "-----CERT-----\n",
	})
	cases := []struct {
		name string
		opts ValueOptions
		want func(m map[string]any)
	}{
		{"an indexed --set edits that list entry in place", ValueOptions{Values: []string{"hive.configMap.database[0].dsn=new"}}, func(m map[string]any) {
			db := m["hive"].(map[string]any)["configMap"].(map[string]any)["database"].([]any)
			db[0].(map[string]any)["dsn"] = "new"
		}},
		{"files merge in order, null kept for helm to delete", ValueOptions{ValueFiles: []string{"a.yaml", "b.yaml"}}, func(m map[string]any) {
			h := m["hive"].(map[string]any)
			h["replicas"] = float64(3)
			h["extra"] = map[string]any{"x": float64(1), "z": float64(2)}
			m["keep"] = nil
		}},
		{"--set after -f, --set-string after --set", ValueOptions{ValueFiles: []string{"a.yaml"}, Values: []string{"hive.replicas=5", "n=2"}, StringValues: []string{"n=2"}}, func(m map[string]any) {
			h := m["hive"].(map[string]any)
			h["replicas"] = int64(5)
			h["extra"] = map[string]any{"x": float64(1)}
			m["keep"] = nil
			m["n"] = "2"
		}},
		{"escaped commas, null, --set-json, --set-file, --set-literal", ValueOptions{
			Values:        []string{`a=x\,y,hive.image=null`},
			JSONValues:    []string{`j={"k":[1,2]}`},
			FileValues:    []string{"ca=ca.pem"},
			LiteralValues: []string{"lit=a,b=c"},
		}, func(m map[string]any) {
			m["a"] = "x,y"
			m["hive"].(map[string]any)["image"] = nil
			m["j"] = map[string]any{"k": []any{float64(1), float64(2)}}
			m["ca"] = "-----CERT-----\n"
			m["lit"] = "a,b=c"
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u, err := LoadValues(c.opts, fs, nil)
			if err != nil {
				t.Fatal(err)
			}
			base := backedUp()
			got, err := u.Apply(base)
			if err != nil {
				t.Fatal(err)
			}
			want := backedUp()
			c.want(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %v\nwant %v", got, want)
			}
			if !reflect.DeepEqual(base, backedUp()) {
				t.Errorf("Apply changed its base: %v", base)
			}
		})
	}
}

func TestUserValuesKeys(t *testing.T) {
	u, err := LoadValues(ValueOptions{ValueFiles: []string{"a.yaml"}, Values: []string{"hive.configMap.database[0].dsn=u:pw@tcp(h)/d,hive.image=null"}},
		files(map[string]string{"a.yaml": "ui: {image: {tag: v1}}\nl: [1, 2]\n"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, k := range u.Keys() {
		keys = append(keys, k.Source+" "+k.Key)
	}
	want := []string{"-f a.yaml l", "-f a.yaml ui.image.tag", "--set hive.configMap.database[0].dsn", "--set hive.image"}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("keys %q, want %q", keys, want)
	}
	if k, ok := u.Sets("hive.image.tag"); !ok || k.Key != "hive.image" {
		t.Errorf("hive.image=null sets hive.image.tag: %v %v", k, ok)
	}
	if _, ok := u.Sets("sesame.image.tag"); ok {
		t.Error("sesame.image.tag is not set")
	}
	if u.Empty() || !(*UserValues)(nil).Empty() {
		t.Error("Empty")
	}
}

func TestUserValuesErrors(t *testing.T) {
	for name, o := range map[string]ValueOptions{
		"bad --set":                  {Values: []string{"a.b[=secret-value"}},
		"bad --set-json":             {JSONValues: []string{"a={secret-value"}},
		"missing -f":                 {ValueFiles: []string{"none.yaml"}},
		"bad -f":                     {ValueFiles: []string{"bad.yaml"}},
		"missing file of --set-file": {FileValues: []string{"a=none.pem"}},
	} {
		_, err := LoadValues(o, files(map[string]string{"bad.yaml": "a: [secret-value"}), nil)
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if strings.Contains(err.Error(), "secret-value") {
			t.Errorf("%s: the error echoes the value: %v", name, err)
		}
	}
	if _, err := CopyValues(map[string]any{"f": func() {}}); err == nil {
		t.Error("a copy of values that cannot be copied is no error")
	}
}

func TestReadFileOrStdin(t *testing.T) {
	p := filepath.Join(t.TempDir(), "v.yaml")
	if err := os.WriteFile(p, []byte("a: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := ReadFileOrStdin(strings.NewReader("b: 2\n"), os.ReadFile)
	if b, err := r("-"); err != nil || string(b) != "b: 2\n" {
		t.Errorf("stdin: %q %v", b, err)
	}
	if b, err := r(p); err != nil || string(b) != "a: 1\n" {
		t.Errorf("file: %q %v", b, err)
	}
	if _, err := r(p + ".none"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

func TestRepoName(t *testing.T) {
	for _, c := range []struct {
		found *Repository
		want  string
		name  string
	}{
		{&Repository{Name: "dce-skoala"}, "", "dce-skoala"},
		{&Repository{Name: "dce-skoala"}, "other", "dce-skoala"},
		{nil, "mine", "mine"},
		{nil, "https://example.test/chartrepo/skoala", DefaultRepoName},
		{nil, "", DefaultRepoName},
	} {
		if got := RepoName(c.found, c.want); got != c.name {
			t.Errorf("RepoName(%v, %q) = %q, want %q", c.found, c.want, got, c.name)
		}
	}
	if got := AddRepoCommand("mine"); got != "helm repo add mine "+OfficialRepoURL {
		t.Errorf("AddRepoCommand: %s", got)
	}
}
