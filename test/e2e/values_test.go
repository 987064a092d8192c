package e2e

import (
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// TestUpgradeValuesMatchHelm is a differential test of -f/--set against the real helm 3 CLI: two releases of
// the skoala chart 0.57.2 start from the same values; for each case, 'kubectl skoala upgrade <flags>' upgrades
// one and 'helm upgrade -f <the plugin's backup> <flags>' the other, to the same chart, and the user-supplied
// values of both ('helm get values -o json') must then be equal, key for key.
func TestUpgradeValuesMatchHelm(t *testing.T) {
	nsA := freshNamespace(t, "uvs")
	nsB := freshNamespace(t, "uvh")
	dsn := strings.ReplaceAll(upgradeDSN(nsA), ",", `\,`)
	start := []string{
		"--set", "hive.configMap.database[0].driver=mysql", "--set-string", "hive.configMap.database[0].dsn=" + dsn,
		"--set", "hive.configMap.database[1].driver=postgres", "--set-string", "hive.configMap.database[1].dsn=replica",
		"--set", "hive.image.tag=v0.57.2,sesame.image.tag=v0.57.2",
		"--set", "e2e.nested.keep=1,e2e.nested.drop=x,e2e.list={a,b,c}",
	}
	InstallChart(t, "global", nsA, "common-mysql", "common-mysql", "1.0.0")
	inParallel(t, 0,
		func() { InstallChart(t, "global", nsA, "skoala", "skoala", "0.57.2", start...) },
		func() { InstallChart(t, "global", nsB, "skoala", "skoala", "0.57.2", start...) })
	dir := t.TempDir()
	files := map[string]string{
		"nested.yaml": "e2e:\n  nested:\n    port: 80\n    deep: {a: {b: 1}}\n  ratio: 0.25\n",
		"null.yaml":   "e2e:\n  list: null\n",
	}
	for name, content := range files {
		writeFile(t, dir, name, content, 0o600)
	}
	dsn2 := strings.Replace(dsn, "timeout=10s", "timeout=20s", 1)
	cases := []struct {
		name string
		args []string
	}{
		{"an indexed list entry", []string{"--set-string", "hive.configMap.database[0].dsn=" + dsn2}},
		{"nested maps and numbers, -f then --set", []string{"-f", filepath.Join(dir, "nested.yaml"), "--set", "e2e.nested.port=8080,e2e.nested.deep.a.c=2,e2e.count=3"}},
		{"null deletes", []string{"-f", filepath.Join(dir, "null.yaml"), "--set", "e2e.nested.drop=null"}},
		{"escaped commas, strings and lists", []string{"--set", `e2e.csv=a\,b\,c`, "--set-string", "e2e.zip=01234", "--set", "e2e.big=12345678901,e2e.more[1]=y"}},
	}
	backups := filepath.Join(dir, "backups")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, b := helmValues(t, "global", nsA, "skoala", false), helmValues(t, "global", nsB, "skoala", false)
			if d := valuesDiff(a, b); len(d) > 0 {
				t.Fatalf("the two releases do not start from the same values:\n%s", strings.Join(d, "\n"))
			}
			args := append([]string{"upgrade", "-n", nsA, "--backup-dir", backups, "--timeout", "2m", "--yes", "-o", "json"}, c.args...)
			r := Skoala(t, args...)
			if r.Code != 0 {
				t.Fatalf("upgrade exit %d, want 0\n%s", r.Code, r)
			}
			noPassword(t, r)
			u := parseUpgrade(t, r)
			if len(u.Releases) != 1 || u.Releases[0].Result == nil || len(u.Releases[0].Result.Backups) != 1 {
				t.Fatalf("upgrade report: %+v\n%s", u, r.Stdout)
			}
			MustHelm(t, append([]string{"upgrade", "skoala", "skoala-release/skoala", "--version", "0.57.2", "--kube-context", "global", "-n", nsB,
				"-f", u.Releases[0].Result.Backups[0], "--wait", "--timeout", "2m"}, c.args...)...)
			got, want := helmValues(t, "global", nsA, "skoala", false), helmValues(t, "global", nsB, "skoala", false)
			if d := valuesDiff(got, want); len(d) > 0 {
				t.Errorf("after 'upgrade %s' the values differ from helm's (- skoala, + helm):\n%s", strings.Join(c.args, " "), strings.Join(d, "\n"))
			}
		})
	}
}

// valuesDiff lists the leaf keys whose values differ between a and b (secrets never printed: the DSNs are
// compared, not shown).
func valuesDiff(a, b map[string]any) []string {
	fa, fb := map[string]any{}, map[string]any{}
	flattenValues("", a, fa)
	flattenValues("", b, fb)
	keys := map[string]bool{}
	for k := range fa {
		keys[k] = true
	}
	for k := range fb {
		keys[k] = true
	}
	var out []string
	for k := range keys {
		va, oka := fa[k]
		vb, okb := fb[k]
		if oka == okb && reflect.DeepEqual(va, vb) {
			continue
		}
		show := func(v any, ok bool) string {
			switch {
			case !ok:
				return "(absent)"
			case strings.HasSuffix(k, ".dsn"):
				return "(a DSN)"
			}
			return fmt.Sprintf("%#v", v)
		}
		out = append(out, fmt.Sprintf("  %s: - %s + %s", k, show(va, oka), show(vb, okb)))
	}
	sort.Strings(out)
	return out
}

func flattenValues(prefix string, v any, out map[string]any) {
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 0 {
			out[prefix] = t
		}
		for k, x := range t {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flattenValues(p, x, out)
		}
	case []any:
		if len(t) == 0 {
			out[prefix] = t
		}
		for i, x := range t {
			flattenValues(fmt.Sprintf("%s[%d]", prefix, i), x, out)
		}
	default:
		out[prefix] = t
	}
}
