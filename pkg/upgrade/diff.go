package upgrade

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/skoala-dev/kubectl-skoala/pkg/backup"
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

// ValuesDiff diffs two sets of user-supplied values, with every secret masked.
func ValuesDiff(old, new map[string]any, secrets []string) FileDiff {
	a := valuesYAML(old, secrets)
	b := valuesYAML(new, secrets)
	d := FileDiff{Name: "values", Change: "unchanged"}
	if a != b {
		d.Change = "changed"
		d.Diff = Unified("a/values.yaml", "b/values.yaml", a, b, 3)
	}
	return d
}

func valuesYAML(v map[string]any, secrets []string) string {
	if v == nil {
		v = map[string]any{}
	}
	b, err := yaml.Marshal(backup.RedactValues(v))
	if err != nil {
		return ""
	}
	return redact.Scrub(string(b), secrets)
}

// ManifestDiff diffs two rendered manifests resource by resource (Secrets' data masked: a change shows as
// a changed digest), in the order kind/namespace/name.
func ManifestDiff(old, new string, secrets []string) []FileDiff {
	a := splitDocs(old)
	b := splitDocs(new)
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
		x = redact.Scrub(x, secrets)
		y = redact.Scrub(y, secrets)
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
func splitDocs(manifest string) map[string]string {
	out := map[string]string{}
	for _, doc := range strings.Split("\n"+manifest, "\n---") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
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
			maskSecret(obj)
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

// maskSecret replaces every value of a Secret's data and stringData by a short digest of it, so that a
// diff shows which keys changed and never what they hold.
func maskSecret(obj map[string]any) {
	for _, field := range []string{"data", "stringData"} {
		m, ok := obj[field].(map[string]any)
		if !ok {
			continue
		}
		for k, v := range m {
			sum := sha256.Sum256([]byte(fmt.Sprint(v)))
			m[k] = "(masked, sha256:" + hex.EncodeToString(sum[:])[:12] + ")"
		}
	}
}

// Unified returns the unified diff of a and b (line based), with ctx lines of context, or "" when equal.
func Unified(nameA, nameB, a, b string, ctx int) string {
	if a == b {
		return ""
	}
	x := splitLines(a)
	y := splitLines(b)
	ops := diffLines(x, y)
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s\n", nameA, nameB)
	// group ops into hunks
	type hunk struct{ start, end int }
	var hunks []hunk
	for i := 0; i < len(ops); i++ {
		if ops[i].kind == ' ' {
			continue
		}
		s := max(i-ctx, 0)
		e := i
		for e < len(ops) {
			if ops[e].kind != ' ' {
				e++
				continue
			}
			// run of equal lines
			r := e
			for r < len(ops) && ops[r].kind == ' ' {
				r++
			}
			if r < len(ops) && r-e <= 2*ctx {
				e = r
				continue
			}
			e = min(e+ctx, len(ops))
			break
		}
		if len(hunks) > 0 && s <= hunks[len(hunks)-1].end {
			hunks[len(hunks)-1].end = e
		} else {
			hunks = append(hunks, hunk{s, e})
		}
		i = e - 1
	}
	for _, h := range hunks {
		aStart, bStart := 0, 0
		for _, op := range ops[:h.start] {
			if op.kind != '+' {
				aStart++
			}
			if op.kind != '-' {
				bStart++
			}
		}
		aLen, bLen := 0, 0
		for _, op := range ops[h.start:h.end] {
			if op.kind != '+' {
				aLen++
			}
			if op.kind != '-' {
				bLen++
			}
		}
		fmt.Fprintf(&sb, "@@ -%s +%s @@\n", rng(aStart, aLen), rng(bStart, bLen))
		for _, op := range ops[h.start:h.end] {
			sb.WriteByte(op.kind)
			sb.WriteString(op.line)
			sb.WriteByte('\n')
		}
	}
	return sb.String()
}

func rng(start, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	if n == 1 {
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

type lineOp struct {
	kind byte
	line string
}

// diffLines is a longest-common-subsequence line diff (manifests are small).
func diffLines(a, b []string) []lineOp {
	n, m := len(a), len(b)
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []lineOp
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case a[i] == b[j]:
			ops = append(ops, lineOp{' ', a[i]})
			i++
			j++
		case lcs[i+1][j] >= lcs[i][j+1]:
			ops = append(ops, lineOp{'-', a[i]})
			i++
		default:
			ops = append(ops, lineOp{'+', b[j]})
			j++
		}
	}
	for ; i < n; i++ {
		ops = append(ops, lineOp{'-', a[i]})
	}
	for ; j < m; j++ {
		ops = append(ops, lineOp{'+', b[j]})
	}
	return ops
}
