package upgrade

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/redact"
)

func userValues(t *testing.T, o helmsdk.ValueOptions, files map[string]string) *helmsdk.UserValues {
	t.Helper()
	u, err := helmsdk.LoadValues(o, func(p string) ([]byte, error) {
		s, ok := files[p]
		if !ok {
			return nil, os.ErrNotExist
		}
		return []byte(s), nil
	}, redact.Values)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func twoDatabases() map[string]any {
	v := baseValues()
	v["hive"].(map[string]any)["configMap"].(map[string]any)["database"] = []any{
		map[string]any{"driver": "mysql", "dsn": testDSN, "maxOpen": float64(10)},
		map[string]any{"driver": "mysql", "dsn": "second"},
	}
	return v
}

func TestNewValuesUserFlags(t *testing.T) {
	t.Run("an indexed --set edits the backed-up list entry in place", func(t *testing.T) {
		newDSN := "skoala:N3w-pa55@tcp(db2:3306)/skoala"
		u := userValues(t, helmsdk.ValueOptions{Values: []string{"hive.configMap.database[0].dsn=" + newDSN}}, nil)
		r, err := NewValues(ValuesInput{Chart: ChartSkoala, Version: "0.57.2", Base: twoDatabases(), User: u})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := getPath(r.Values, "hive.configMap.database")
		want := []any{
			map[string]any{"driver": "mysql", "dsn": newDSN, "maxOpen": float64(10)},
			map[string]any{"driver": "mysql", "dsn": "second"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("database %v, want %v", got, want)
		}
		var seen bool
		for _, o := range r.Overrides {
			if o.Key == DBDSNKey {
				seen = true
				if strings.Contains(o.Value, "N3w-pa55") || o.Source != "--set" {
					t.Errorf("override %+v", o)
				}
			}
		}
		if !seen {
			t.Errorf("the plan does not say --set set %s: %+v", DBDSNKey, r.Overrides)
		}
	})
	t.Run("a tag the user sets wins over the guide's, and the plan says so", func(t *testing.T) {
		u := userValues(t, helmsdk.ValueOptions{ValueFiles: []string{"tags.yaml"}, Values: []string{"sesame.image=null"}},
			map[string]string{"tags.yaml": "hive:\n  image:\n    tag: v0.57.2-hotfix1\nui:\n  image:\n    tag: v0.31.0\n"})
		r, err := NewValues(ValuesInput{Chart: ChartSkoala, Version: "0.57.2", Base: baseValues(), User: u})
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := getPath(r.Values, "hive.image.tag"); v != "v0.57.2-hotfix1" {
			t.Errorf("hive.image.tag %v", v)
		}
		if v, ok := getPath(r.Values, "sesame.image"); !ok || v != nil {
			t.Errorf("sesame.image %v %v, want null", v, ok)
		}
		if v, _ := getPath(r.Values, UITagKey); v != "v0.31.0" || len(r.Dropped) != 0 {
			t.Errorf("the ui tag given with -f was dropped: %v %v", v, r.Dropped)
		}
		want := []ImageTag{{Component: "hive", Key: "hive.image.tag", Tag: "v0.57.2-hotfix1"}}
		if !reflect.DeepEqual(r.ImageTags, want) {
			t.Errorf("image tags %v, want %v", r.ImageTags, want)
		}
		var reasons []string
		for _, o := range r.Overrides {
			if strings.HasSuffix(o.Key, "image.tag") && o.Key != UITagKey {
				reasons = append(reasons, o.Key+": "+o.Reason)
			}
		}
		wantReasons := []string{
			"hive.image.tag: -f tags.yaml",
			"hive.image.tag: -f tags.yaml: given by the user, the guide's v0.57.2 is not applied",
			"sesame.image.tag: --set: given by the user, the guide's v0.57.2 is not applied",
		}
		if !reflect.DeepEqual(reasons, wantReasons) {
			t.Errorf("reasons %q, want %q", reasons, wantReasons)
		}
	})
	t.Run("the guide's tags apply where the user set nothing", func(t *testing.T) {
		u := userValues(t, helmsdk.ValueOptions{Values: []string{"hive.replicas=2"}}, nil)
		r, err := NewValues(ValuesInput{Chart: ChartSkoala, Version: "0.57.2", Base: baseValues(), User: u})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.ImageTags) != 2 || r.ImageTags[0].Tag != "v0.57.2" || r.ImageTags[1].Tag != "v0.57.2" {
			t.Errorf("image tags %v", r.ImageTags)
		}
		if v, _ := getPath(r.Values, "hive.replicas"); v != int64(2) {
			t.Errorf("hive.replicas %v (%T)", v, v)
		}
	})
	t.Run("a values copy that fails stops the upgrade", func(t *testing.T) {
		base := baseValues()
		base["bad"] = func() {}
		if r, err := NewValues(ValuesInput{Chart: ChartSkoala, Version: "0.57.2", Base: base}); err == nil {
			t.Errorf("no error; values %v", r.Values)
		}
	})
	t.Run("--db-* edits the first database entry in place", func(t *testing.T) {
		r, err := NewValues(ValuesInput{Chart: ChartSkoala, Version: "0.57.2", Base: twoDatabases(), DB: &DB{DSN: "u:p4ss@tcp(h:3306)/d"}})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := getPath(r.Values, "hive.configMap.database")
		want := []any{
			map[string]any{"driver": "mysql", "dsn": "u:p4ss@tcp(h:3306)/d", "maxOpen": float64(10)},
			map[string]any{"driver": "mysql", "dsn": "second"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("database %v, want %v", got, want)
		}
	})
}

func TestUserConflicts(t *testing.T) {
	u := userValues(t, helmsdk.ValueOptions{Values: []string{"ui.image.tag=v1,global.imageRegistry=r,hive.configMap.database[0].dsn=x"}}, nil)
	got := UserConflicts(u, "v2", "r2", DB{DSN: "a:b@tcp(c)/d"})
	want := []string{
		"--ui-tag and --set both set ui.image.tag",
		"--image-registry and --set both set global.imageRegistry",
		"--db-* and --set both set hive.configMap.database[0].dsn",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%q, want %q", got, want)
	}
	if c := UserConflicts(u, "", "", DB{}); len(c) != 0 {
		t.Errorf("no flag, conflicts %q", c)
	}
}
