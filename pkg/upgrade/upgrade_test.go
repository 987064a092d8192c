package upgrade

import (
	"strings"
	"testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/product"
)

const password = `Pa$$w0rd:@/?&=x`
const testDSN = "skoala:" + password + "@tcp(mysql.mcamel-system.svc:3306)/skoala?charset=utf8&parseTime=true&loc=Local&timeout=10s"

func baseValues() map[string]any {
	return map[string]any{
		"hive": map[string]any{"configMap": map[string]any{"database": []any{map[string]any{"driver": "mysql", "dsn": testDSN}}}},
		"ui":   map[string]any{"image": map[string]any{"tag": "v0.19.0"}},
		"sesame": map[string]any{"image": map[string]any{
			"repository": "harbor.old.example:8443/skoala/sesame"}},
		"extra": map[string]any{"image": map[string]any{"tag": "v0.20.0"}},
	}
}

func TestNewValues(t *testing.T) {
	t.Run("sets the image tags and drops a pinned ui tag", func(t *testing.T) {
		r, err := NewValues(ValuesInput{Chart: ChartSkoala, Version: "0.57.2", Base: baseValues()})
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := getPath(r.Values, "hive.image.tag"); v != "v0.57.2" {
			t.Errorf("hive tag %v", v)
		}
		if _, ok := getPath(r.Values, "ui.image.tag"); ok {
			t.Errorf("ui tag kept")
		}
		if _, ok := r.Values["ui"]; ok {
			t.Errorf("empty ui map left: %v", r.Values["ui"])
		}
		if len(r.Dropped) != 1 || r.Dropped[0].Value != "v0.19.0" {
			t.Errorf("dropped %v", r.Dropped)
		}
		if !strings.Contains(strings.Join(r.Warnings, "\n"), "extra.image.tag=v0.20.0") {
			t.Errorf("no warning for the pinned tag: %v", r.Warnings)
		}
		// the base is not changed
		if v, _ := getPath(baseValues(), "ui.image.tag"); v != "v0.19.0" {
			t.Errorf("base changed")
		}
	})
	t.Run("keeps the ui tag given with --ui-tag", func(t *testing.T) {
		r, _ := NewValues(ValuesInput{Chart: ChartSkoala, Version: "0.57.2", Base: baseValues(), UITag: "v0.30.0"})
		if v, _ := getPath(r.Values, "ui.image.tag"); v != "v0.30.0" {
			t.Errorf("ui tag %v", v)
		}
	})
	t.Run("skoala-init tags, seata from 0.28.0", func(t *testing.T) {
		if k := product.TagKeys(ChartInit, "0.27.2"); len(k) != 3 {
			t.Errorf("%v", k)
		}
		r, _ := NewValues(ValuesInput{Chart: ChartInit, Version: "0.57.2"})
		if v, _ := getPath(r.Values, "seata-operator.image.tag"); v != "v0.57.2" {
			t.Errorf("seata %v", v)
		}
	})
	t.Run("--image-registry sets global.imageRegistry and warns about per-image registries", func(t *testing.T) {
		r, _ := NewValues(ValuesInput{Chart: ChartSkoala, Version: "0.57.2", Base: baseValues(), ImageRegistry: "10.16.23.145"})
		if v, _ := getPath(r.Values, "global.imageRegistry"); v != "10.16.23.145" {
			t.Errorf("registry %v", v)
		}
		if !strings.Contains(strings.Join(r.Warnings, "\n"), "sesame.image.repository") {
			t.Errorf("warnings %v", r.Warnings)
		}
	})
	t.Run("--db-* builds the DSN and the plan never shows the password", func(t *testing.T) {
		db := &DB{User: "skoala", Password: password, Host: "mysql", Port: 3306, Name: "skoala"}
		r, err := NewValues(ValuesInput{Chart: ChartSkoala, Version: "0.57.2", DB: db})
		if err != nil {
			t.Fatal(err)
		}
		list, _ := getPath(r.Values, "hive.configMap.database")
		d := list.([]any)[0].(map[string]any)["dsn"].(string)
		if !strings.Contains(d, password) {
			t.Errorf("the DSN sent to the cluster lost the password: %s", d)
		}
		for _, o := range r.Overrides {
			if strings.Contains(o.Value, "Pa$$") {
				t.Errorf("override shows the password: %+v", o)
			}
		}
	})
	t.Run("a bad --db-dsn is an error that does not echo it", func(t *testing.T) {
		_, err := NewValues(ValuesInput{Chart: ChartSkoala, Version: "0.57.2", DB: &DB{DSN: "skoala:" + password + "@nope"}})
		if err == nil || strings.Contains(err.Error(), "Pa$$") {
			t.Errorf("err %v", err)
		}
	})
}
