package helmsdk

import (
	"time"

	yamlv2 "go.yaml.in/yaml/v2"
)

// indexDoc is what the plugin reads of a repository index: go.yaml.in/yaml/v2 decodes it directly, leaving
// out what Helm's repo.IndexFile also holds (chart metadata: maintainers, keywords, dependencies, ...). A
// real repository's index is megabytes of YAML that status, versions and doctor read on every call; through
// sigs.k8s.io/yaml (YAML to JSON to Helm's structs, strictly first) it cost more than the cluster requests.
type indexDoc struct {
	APIVersion string                   `yaml:"apiVersion"`
	Generated  *string                  `yaml:"generated"`
	Entries    map[string][]*indexEntry `yaml:"entries"`
}

type indexEntry struct {
	Version     string   `yaml:"version"`
	AppVersion  string   `yaml:"appVersion"`
	Description string   `yaml:"description"`
	Created     *string  `yaml:"created"`
	Deprecated  bool     `yaml:"deprecated"`
	URLs        []string `yaml:"urls"`
	Digest      string   `yaml:"digest"`
}

// parseIndexFast reads an index the fast way. ok is false when it cannot (a YAML error, a time that is not
// RFC 3339, a field of an unexpected type, no apiVersion): parseIndex then reads it as before, with the
// same result or error. One difference is on purpose: a scalar that YAML reads as a number (a digest of
// digits only, a version such as 1.10) keeps its text here, where sigs.k8s.io/yaml turned it into a
// number first (1.1).
func parseIndexFast(b []byte) (idx *Index, ok bool) {
	var f indexDoc
	if err := yamlv2.Unmarshal(b, &f); err != nil || f.APIVersion == "" {
		return nil, false
	}
	idx = &Index{Entries: map[string][]ChartVersion{}}
	if f.Generated != nil {
		t, err := time.Parse(time.RFC3339Nano, *f.Generated)
		if err != nil {
			return nil, false
		}
		idx.Generated = t
	}
	for name, versions := range f.Entries {
		for _, v := range versions {
			if v == nil || v.Version == "" {
				continue
			}
			cv := ChartVersion{Name: name, Version: v.Version, AppVersion: v.AppVersion, Description: v.Description,
				Deprecated: v.Deprecated, URLs: v.URLs, Digest: v.Digest}
			if v.Created != nil {
				t, err := time.Parse(time.RFC3339Nano, *v.Created)
				if err != nil {
					return nil, false
				}
				cv.Created = t
			}
			idx.Entries[name] = append(idx.Entries[name], cv)
		}
	}
	return idx, true
}
