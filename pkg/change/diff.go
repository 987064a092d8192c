package change

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"sigs.k8s.io/yaml"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/redact"
)

// FileDiff is the unified diff of one file or resource ("" when unchanged).
type FileDiff struct {
	// Name is "values" or Kind/namespace/name.
	Name string `json:"name"`
	// Change is added, removed, changed or unchanged.
	Change string `json:"change"`
	Diff   string `json:"diff,omitempty"`
}

// ValuesDiff diffs two sets of user-supplied values, every secret shown as its keyed digest (h, one key
// per run): the diff says which secret changed, and a shared diff cannot confirm a guessed password.
func ValuesDiff(h *redact.Hasher, old, new map[string]any, secrets []string) FileDiff {
	a := valuesYAML(h, old, secrets)
	b := valuesYAML(h, new, secrets)
	d := FileDiff{Name: "values", Change: "unchanged"}
	if a != b {
		d.Change = "changed"
		d.Diff = Unified("a/values.yaml", "b/values.yaml", a, b, 3)
	}
	return d
}

func valuesYAML(h *redact.Hasher, v map[string]any, secrets []string) string {
	if v == nil {
		v = map[string]any{}
	}
	b, err := yaml.Marshal(h.Values(v))
	if err != nil {
		return ""
	}
	return h.Scrub(string(b), secrets)
}

// ManifestDiff diffs two rendered manifests resource by resource, in the order kind/namespace/name;
// Secrets' data and every secret the plan knows of show as their keyed digest (h), so a change shows as
// a changed digest.
func ManifestDiff(h *redact.Hasher, old, new string, secrets []string) []FileDiff {
	a := splitDocs(h, old)
	b := splitDocs(h, new)
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	var out []FileDiff
	for _, k := range names {
		x, inA := a[k]
		y, inB := b[k]
		x = h.Scrub(x, secrets)
		y = h.Scrub(y, secrets)
		d := FileDiff{Name: k}
		switch {
		case !inA:
			d.Change = "added"
			d.Diff = Unified("/dev/null", "b/"+k, "", y, 3)
		case !inB:
			d.Change = "removed"
			d.Diff = Unified("a/"+k, "/dev/null", x, "", 3)
		case x == y:
			d.Change = "unchanged"
		default:
			d.Change = "changed"
			d.Diff = Unified("a/"+k, "b/"+k, x, y, 3)
		}
		out = append(out, d)
	}
	return out
}

// splitDocs splits a manifest into normalised YAML documents keyed by Kind/namespace/name.
func splitDocs(h *redact.Hasher, manifest string) map[string]string {
	out := map[string]string{}
	for _, doc := range helmsdk.SplitDocuments(manifest) {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil || obj == nil {
			continue
		}
		kind, _ := obj["kind"].(string)
		md, _ := obj["metadata"].(map[string]any)
		name, _ := md["name"].(string)
		ns, _ := md["namespace"].(string)
		if kind == "" {
			continue
		}
		if kind == "Secret" {
			maskSecret(h, obj)
		}
		b, err := yaml.Marshal(obj)
		if err != nil {
			continue
		}
		key := kind + "/" + name
		if ns != "" {
			key = kind + "/" + ns + "/" + name
		}
		out[key] = string(b)
	}
	return out
}

// maskSecret replaces every value of a Secret's data and stringData by its keyed digest (h), so that a
// diff shows which keys changed and never what they hold, nor lets a reader test a guess.
func maskSecret(h *redact.Hasher, obj map[string]any) {
	for _, field := range []string{"data", "stringData"} {
		m, ok := obj[field].(map[string]any)
		if !ok {
			continue
		}
		for k, v := range m {
			m[k] = h.Sum(fmt.Sprint(v))
		}
	}
}

// Unified returns the unified diff of a and b (line based, go-difflib), with ctx lines of context, or ""
// when equal.
func Unified(nameA, nameB, a, b string, ctx int) string {
	if a == b {
		return ""
	}
	out, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{A: lines(a), B: lines(b), FromFile: nameA, ToFile: nameB, Context: ctx})
	if err != nil { // difflib fails only when its writer does, and a strings.Builder does not
		return ""
	}
	return out
}

// lines splits s into its lines, each ending in a newline (difflib's input).
func lines(s string) []string {
	if s == "" {
		return nil
	}
	ls := strings.SplitAfter(strings.TrimSuffix(s, "\n"), "\n")
	ls[len(ls)-1] += "\n"
	return ls
}
