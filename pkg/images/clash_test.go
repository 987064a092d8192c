package images

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/skoala-dev/kubectl-skoala/pkg/images/imagestest"
)

// Two sources that --repository maps to one target, with other content: both are a conflict and neither
// is pushed (before, both were "pushed" and the first one was lost under the second one's tag).
func TestPushTwoSourcesOfOneTargetAreAConflict(t *testing.T) {
	host, opts := testRegistry(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "skoala_0.57.2.bundle.tar")
	refs := []string{"release.daocloud.io/skoala/hive:v1", "docker.m.daocloud.io/other/hive:v1", "release.daocloud.io/skoala/sesame:v1"}
	if err := imagestest.WriteBundle(p, refs, chartFiles(t, "skoala", "0.57.2"), "amd64", "", 64); err != nil {
		t.Fatal(err)
	}
	rep, err := Push(context.Background(), PushConfig{Bundles: openBundles(t, p), Registry: host, Repository: "skoala", Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Conflict != 2 || rep.Pushed != 1 || !rep.Problems() {
		t.Fatalf("want 2 conflicts and 1 pushed, got %+v", rep)
	}
	for _, im := range rep.Images {
		if im.Target == host+"/skoala/hive:v1" && (im.Result != ResultConflict || im.Message == "") {
			t.Errorf("%s -> %s: %s %q, want a conflict naming the other source", im.Source, im.Target, im.Result, im.Message)
		}
	}
	ref, _ := opts.ParseRef(host + "/skoala/hive:v1")
	ro, _ := opts.withGuard().remoteOptions(context.Background())
	if _, err := remote.Head(ref, ro...); !isNotFound(err) {
		t.Errorf("the clashing target was written: %v", err)
	}
	// --overwrite replaces what the registry holds; it does not pick one of two bundle images.
	rep, err = Push(context.Background(), PushConfig{Bundles: openBundles(t, p), Registry: host, Repository: "skoala", Options: opts, Overwrite: true})
	if err != nil || rep.Conflict != 2 {
		t.Fatalf("with --overwrite: %+v, %v; want the 2 conflicts", rep, err)
	}
	_ = os.Remove(p)
}
