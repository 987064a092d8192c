//go:build skoala_yamlonly

package helmsdk

// fastManifest is off: every manifest document is decoded by yaml/v2 (see manifest_reader.go).
const fastManifest = false
