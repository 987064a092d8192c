package upgradepath

import (
	"reflect"
	"testing"
)

func kinds(steps []Step) []string {
	var out []string
	for _, s := range steps {
		out = append(out, string(s.Kind)+"@"+s.At)
	}
	return out
}

func TestStepsSkoalaInitAcrossCRDReleases(t *testing.T) {
	got := kinds(Steps("skoala-init", "0.28.1", "0.57.2"))
	want := []string{"admission-jobs@", "crds@0.35.0", "crds@0.37.0", "crds@0.52.1"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got := kinds(Steps("skoala-init", "0.52.0", "0.52.1")); !reflect.DeepEqual(got, []string{"admission-jobs@", "crds@0.52.1"}) {
		t.Fatalf("0.52.0 -> 0.52.1: %v", got)
	}
	if got := kinds(Steps("skoala-init", "0.37.1", "0.52.0")); !reflect.DeepEqual(got, []string{"admission-jobs@"}) {
		t.Fatalf("0.37.1 -> 0.52.0: %v", got)
	}
	if s := Steps("skoala-init", "0.20.0", "0.28.1"); !s[0].Mandatory {
		t.Fatal("admission Jobs must be mandatory across 0.24.2")
	}
	if s := Steps("skoala-init", "0.28.0", "0.28.1"); s[0].Mandatory {
		t.Fatal("admission Jobs are advisable, not mandatory, above 0.24.2")
	}
	if len(Steps("skoala-init", "", "0.57.2")) != 0 || len(Steps("skoala-init", "0.57.2", "0.57.2")) != 0 {
		t.Fatal("an install or a no-op has no upgrade steps")
	}
}

func TestStepsSkoalaDBMigration(t *testing.T) {
	got := kinds(Steps("skoala", "0.18.0", "0.28.1"))
	if !reflect.DeepEqual(got, []string{"db-migration@0.19.0", "note@0.23.0"}) {
		t.Fatalf("got %v", got)
	}
	if len(Steps("skoala", "0.28.1", "0.57.2")) != 0 {
		t.Fatal("no skoala steps above 0.23")
	}
}

func TestStops(t *testing.T) {
	avail := []string{"0.18.0", "0.19.2", "0.19.4", "0.22.1", "0.22.2", "0.28.1"}
	if got := Stops("0.18.0", "0.28.1", avail); !reflect.DeepEqual(got, []string{"0.19.4", "0.22.2"}) {
		t.Fatalf("got %v", got)
	}
	if got := Stops("0.28.1", "0.57.2", avail); len(got) != 0 {
		t.Fatalf("got %v", got)
	}
	if got := Stops("0.20.0", "0.28.1", nil); !reflect.DeepEqual(got, []string{"0.22.x"}) {
		t.Fatalf("got %v", got)
	}
}

func TestThresholds(t *testing.T) {
	if MinKubernetes("skoala-init", "0.12.0") != "1.25.0" || MinKubernetes("skoala-init", "0.11.0") != "" || MinKubernetes("skoala", "0.57.0") != "" {
		t.Fatal("MinKubernetes")
	}
	if !NeedsInsightNamespace("0.31.1") || NeedsInsightNamespace("0.31.2") {
		t.Fatal("NeedsInsightNamespace")
	}
}
