package helmsdk

import (
	"strings"

	yamlv2 "go.yaml.in/yaml/v2"
)

// SplitDocuments splits a rendered manifest into its YAML documents, in order, as Helm's
// releaseutil.SplitManifests does (a line starting with "---" separates documents; empty documents are
// dropped) but with a line scan instead of a backtracking regular expression over the whole manifest,
// which costs more than decoding the objects did.
func SplitDocuments(manifest string) []string {
	var docs []string
	start := 0 // start of the current document in manifest
	flush := func(end int) {
		if d := strings.TrimSpace(manifest[start:end]); d != "" {
			docs = append(docs, d)
		}
	}
	for pos := 0; pos < len(manifest); {
		end := strings.IndexByte(manifest[pos:], '\n')
		if end < 0 {
			end = len(manifest)
		} else {
			end += pos + 1
		}
		if strings.HasPrefix(manifest[pos:end], "---") {
			flush(pos)
			start = pos + 3
		}
		pos = end
	}
	flush(len(manifest))
	return docs
}

// manifestDoc is what SplitManifest reads of a document; go.yaml.in/yaml/v2 decodes it directly (about
// five times faster than sigs.k8s.io/yaml's YAML-to-JSON-to-struct round trip).
type manifestDoc struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name      string `yaml:"name"`
		Namespace string `yaml:"namespace"`
	} `yaml:"metadata"`
	Spec struct {
		Template struct {
			Spec manifestPodSpec `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type manifestPodSpec struct {
	InitContainers []manifestContainer `yaml:"initContainers"`
	Containers     []manifestContainer `yaml:"containers"`
}

type manifestContainer struct {
	Name  string `yaml:"name"`
	Image string `yaml:"image"`
}

// decodeManifestObject reads one document with go.yaml.in/yaml/v2 into the fields the plugin uses; ok is false
// for a document that is not an object.
func decodeManifestObject(doc string) (ManifestObject, bool) {
	var o manifestDoc
	if err := yamlv2.Unmarshal([]byte(doc), &o); err != nil {
		return ManifestObject{}, false
	}
	if o.Kind == "" {
		return ManifestObject{}, false
	}
	mo := ManifestObject{APIVersion: o.APIVersion, Kind: o.Kind, Name: o.Metadata.Name, Namespace: o.Metadata.Namespace}
	ps := o.Spec.Template.Spec
	for _, c := range ps.InitContainers {
		mo.Containers = append(mo.Containers, Container{Name: c.Name, Image: c.Image, Init: true})
	}
	for _, c := range ps.Containers {
		mo.Containers = append(mo.Containers, Container{Name: c.Name, Image: c.Image})
	}
	return mo, true
}
