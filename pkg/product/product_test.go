package product

import (
	"reflect"
	"testing"
)

func TestTagKeys(t *testing.T) {
	for _, c := range []struct {
		name, chart, version string
		want                 []string
	}{
		{"skoala sets hive and sesame", ChartSkoala, "0.57.2", []string{"hive.image.tag", "sesame.image.tag"}},
		{"skoala-init before 0.28.0 leaves seata-operator alone", ChartInit, "0.27.9", []string{"skoala-agent.image.tag", "nacos-operator.image.tag", "sentinel-operator.image.tag"}},
		{"skoala-init from 0.28.0 on sets seata-operator too", ChartInit, "v0.28.0", []string{"skoala-agent.image.tag", "nacos-operator.image.tag", "sentinel-operator.image.tag", "seata-operator.image.tag"}},
		{"an unknown chart has none", "other", "1.0.0", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := TagKeys(c.chart, c.version); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("TagKeys(%q, %q) = %q, want %q", c.chart, c.version, got, c.want)
			}
		})
	}
}

func TestOwnImageComponents(t *testing.T) {
	if got, want := OwnImageComponents(ChartInit, "0.33.3"), []string{"skoala-agent", "nacos-operator", "sentinel-operator", "seata-operator"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got, want := OwnImageComponents(ChartSkoala, "0.28.1"), []string{"hive", "sesame"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got, want := Components([]string{"ui.image.tag", "hive.image.tag"}), []string{"skoala-ui", "hive"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}
