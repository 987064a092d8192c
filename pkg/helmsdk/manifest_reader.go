//go:build !skoala_yamlonly

package helmsdk

// fastManifest says whether decodeManifestObject tries the line reader (manifest_fast.go) before
// yaml/v2. Building with -tags skoala_yamlonly turns it off, so that `make bench` can measure the plugin
// without it (hack/bench/README.md, "Manifests read without a YAML parser").
const fastManifest = true
