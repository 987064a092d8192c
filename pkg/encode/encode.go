// Package encode writes a report's data as JSON or YAML: the bytes every verb's -o json|yaml prints (through
// pkg/render) and that a domain package stores (the support bundle's status.json, doctor.json,
// verify.json). It styles nothing, so a domain package may use it.
package encode

import (
	"encoding/json"
	"io"

	"sigs.k8s.io/yaml"
)

// JSON writes v as indented JSON, without HTML escaping.
func JSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// YAML writes v as YAML (through its JSON form, so the field names are the JSON ones).
func YAML(w io.Writer, v any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
