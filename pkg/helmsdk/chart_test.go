package helmsdk

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func writeChart(t *testing.T, dir, name string) string {
	t.Helper()
	root := filepath.Join(dir, name)
	files := map[string]string{
		"Chart.yaml":                         "apiVersion: v2\nname: " + name + "\nversion: 0.57.2\nappVersion: \"0.57.2\"\ndependencies:\n- name: sub\n  version: 0.57.2\n",
		"values.yaml":                        "a: 1\n",
		"templates/cm.yaml":                  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
		"crds/top.yaml":                      "kind: CustomResourceDefinition\n",
		"charts/sub/Chart.yaml":              "apiVersion: v2\nname: sub\nversion: 0.57.2\n",
		"charts/sub/crds/gateway-api.yaml":   "kind: CustomResourceDefinition\n",
		"charts/sub/templates/.gitkeep":      "",
		"charts/sub/crds/not-a-manifest.txt": "x",
	}
	for p, c := range files {
		f := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestLoadChartPath(t *testing.T) {
	dir := t.TempDir()
	t.Run("a chart directory loads with its crds/ files by chart-relative path", func(t *testing.T) {
		c, err := LoadChartPath(writeChart(t, dir, "skoala-init"), "skoala-init")
		if err != nil {
			t.Fatal(err)
		}
		if c.Name != "skoala-init" || c.Version != "0.57.2" {
			t.Errorf("chart %+v", c)
		}
		got := c.CRDFiles()
		if len(got) != 2 || got[0].Path != "charts/sub/crds/gateway-api.yaml" || got[1].Path != "crds/top.yaml" {
			t.Errorf("crd files %+v", got)
		}
	})
	t.Run("a chart of another name is refused", func(t *testing.T) {
		_, err := LoadChartPath(writeChart(t, dir, "insight-agent"), "skoala")
		var ne *ChartNameError
		if !errors.As(err, &ne) || ne.Got != "insight-agent" {
			t.Errorf("got %v", err)
		}
	})
	t.Run("a missing path is an error", func(t *testing.T) {
		if _, err := LoadChartPath(filepath.Join(dir, "none"), ""); err == nil {
			t.Error("no error")
		}
	})
}

func TestMergeValues(t *testing.T) {
	m := MergeValues(map[string]any{"a": map[string]any{"x": 1, "y": 2}}, map[string]any{"a": map[string]any{"y": 3}})
	if m["a"].(map[string]any)["x"] != 1 || m["a"].(map[string]any)["y"] != 3 {
		t.Errorf("%v", m)
	}
}
