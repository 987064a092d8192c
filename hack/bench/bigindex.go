package main

import (
	"fmt"
	"os"
	"path/filepath"

	yamlv2 "go.yaml.in/yaml/v2"
)

// bigIndex writes, into dir, a repository index the size of a real site's (the product repository holds
// many charts and hundreds of versions): the fleet's own index (skoala and skoala-init as the fixtures
// publish them) plus 190 older versions of each and 12 other charts of 200 versions, with Helm's usual
// metadata. The newest versions stay the fixtures', so status reports the same. It returns the file's size.
func bigIndex(src, dir string) (int64, error) {
	b, err := os.ReadFile(src)
	if err != nil {
		return 0, err
	}
	var idx map[string]any
	if err := yamlv2.Unmarshal(b, &idx); err != nil {
		return 0, fmt.Errorf("%s: %w", src, err)
	}
	entries, ok := idx["entries"].(map[any]any)
	if !ok {
		return 0, fmt.Errorf("%s has no entries", src)
	}
	version := func(name string, i int) map[string]any {
		v := fmt.Sprintf("0.%d.%d", i/10, i%10) // 0.0.0 .. 0.19.9: older than every fixture version
		return map[string]any{
			"apiVersion": "v2", "appVersion": v, "name": name, "version": v, "type": "application",
			"created":     fmt.Sprintf("2022-%02d-%02dT08:00:00.%06dZ", 1+i%12, 1+i%28, i),
			"description": "A Helm chart of the DCE 5.0 Microservice Engine (" + name + "), benchmark filler",
			"digest":      fmt.Sprintf("%064x", (i+1)*7919+len(name)),
			"urls":        []string{fmt.Sprintf("charts/%s-%s.tgz", name, v)},
			"annotations": map[string]any{"category": "microservice", "licenses": "Apache-2.0"},
			"maintainers": []any{map[string]any{"name": "skoala", "email": "skoala@example.com"}},
			"keywords":    []string{"skoala", "microservice", "dce"},
			"sources":     []string{"https://example.com/skoala/" + name},
		}
	}
	for _, name := range []string{"skoala", "skoala-init"} {
		list, _ := entries[name].([]any)
		for i := 0; i < 190; i++ {
			list = append(list, version(name, i))
		}
		entries[name] = list
	}
	for c := 0; c < 12; c++ {
		name := fmt.Sprintf("filler-%d", c)
		var list []any
		for i := 0; i < 200; i++ {
			list = append(list, version(name, i))
		}
		entries[name] = list
	}
	out, err := yamlv2.Marshal(idx)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	dst := filepath.Join(dir, filepath.Base(src))
	if err := os.WriteFile(dst, out, 0o644); err != nil {
		return 0, err
	}
	return int64(len(out)), nil
}
