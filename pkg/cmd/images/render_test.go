package images

import (
	"bytes"
	"testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/golden"
	"github.com/skoala-dev/kubectl-skoala/pkg/images"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
)

func goldenReport(t *testing.T, name string, r render.Writer) {
	t.Helper()
	var js, ys, tb bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteYAML(&ys); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteTable(&tb, render.NewPalette(&tb, false)); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, name+".json", js.Bytes())
	golden.Assert(t, name+".yaml", ys.Bytes())
	golden.Assert(t, name+".txt", tb.Bytes())
}

func TestRenderers(t *testing.T) {
	goldenReport(t, "push", render.View(&images.PushReport{Registry: "reg.local:8443", Bundles: []string{"skoala_0.57.2.bundle.tar"}, Pushed: 1, Present: 1, Conflict: 1, Failed: 1,
		Images: []images.PushedImage{
			{Source: "release.daocloud.io/skoala/hive:v0.57.2", Target: "reg.local:8443/skoala/hive:v0.57.2", Digest: "sha256:1111111111111111111111111111111111111111111111111111111111111111", Platforms: []string{"linux/amd64", "linux/arm64"}, Result: images.ResultPushed},
			{Source: "release.daocloud.io/skoala/sesame:v0.57.2", Target: "reg.local:8443/skoala/sesame:v0.57.2", Digest: "sha256:2222222222222222222222222222222222222222222222222222222222222222", Platforms: []string{"linux/amd64"}, Result: images.ResultPresent},
			{Source: "release.daocloud.io/skoala/skoala-ui:v0.57.2", Target: "reg.local:8443/skoala/skoala-ui:v0.57.2", Digest: "sha256:3333333333333333333333333333333333333333333333333333333333333333", Platforms: []string{"linux/amd64"}, Result: images.ResultConflict, Existing: "sha256:4444444444444444444444444444444444444444444444444444444444444444", Message: "the registry's reg.local:8443/skoala/skoala-ui:v0.57.2 is sha256:4444, not the bundle's sha256:3333: left as it is (--overwrite replaces it)"},
			{Source: "release.daocloud.io/istio/proxyv2:1.20.0", Target: "reg.local:8443/istio/proxyv2:1.20.0", Platforms: []string{"linux/amd64"}, Result: images.ResultFailed, Message: "PUT https://reg.local:8443/v2/istio/proxyv2/manifests/1.20.0: DENIED"},
		}}, writePushTable))
	goldenReport(t, "check-missing", render.View(&images.CheckReport{Architectures: []string{"amd64", "arm64"}, Present: 1, Missing: 2,
		Fixes: []string{"kubectl skoala images push --bundle skoala_0.57.2.bundle.tar --registry reg.local:8443"},
		Images: []images.CheckedImage{
			{Need: images.Need{Image: "reg.local:8443/skoala/hive:v0.57.2", Chart: "skoala", Version: "0.57.2"}, Result: images.CheckPresent, Platforms: []string{"linux/amd64", "linux/arm64"}, Digest: "sha256:1111"},
			{Need: images.Need{Image: "reg.local:8443/skoala/sesame:v0.57.2", Chart: "skoala", Version: "0.57.2"}, Result: images.CheckMissing, Message: "not in the registry"},
			{Need: images.Need{Image: "reg.local:8443/skoala/skoala-ui:v0.57.2", Chart: "skoala", Version: "0.57.2"}, Result: images.CheckMissingPlatform, Platforms: []string{"linux/amd64"}, MissingArchitectures: []string{"arm64"}, Message: "no arm64 image (the registry has linux/amd64)"},
		}}, WriteCheckTable))
	goldenReport(t, "check-ok", render.View(&images.CheckReport{Architectures: []string{"amd64"}, Present: 1,
		Images: []images.CheckedImage{{Need: images.Need{Image: "reg.local:8443/skoala/hive:v0.57.2", Chart: "skoala", Version: "0.57.2"}, Result: images.CheckPresent, Platforms: []string{"linux/amd64"}}}}, WriteCheckTable))
}

// TestList renders the list pkg/images's TestList makes of a chart and pins in testdata/list.json.
func TestList(t *testing.T) {
	var rep images.ListReport
	golden.ReadModel(t, "list.json", &rep)
	goldenReport(t, "list", render.View(&rep, writeListTable))
}
