package verify

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Absent is how a field the live object lacks is shown.
const Absent = "(absent)"

// Ignore is a JSON pointer (a prefix: everything under it is ignored) that drift leaves out, for every
// object or only for objects of one kind and name ("Deployment/hive:/spec/replicas").
type Ignore struct {
	Kind, Name string
	Path       string
}

// ParseIgnore reads an --ignore value: "PATH" or "KIND/NAME:PATH", PATH a JSON pointer.
func ParseIgnore(s string) (Ignore, error) {
	var ig Ignore
	p := s
	if i := strings.Index(s, ":/"); i > 0 {
		obj := s[:i]
		p = s[i+1:]
		k, n, ok := strings.Cut(obj, "/")
		if !ok || k == "" || n == "" {
			return ig, fmt.Errorf("--ignore %q: the object before ':' must be KIND/NAME", s)
		}
		ig.Kind, ig.Name = k, n
	}
	if !strings.HasPrefix(p, "/") {
		return ig, fmt.Errorf("--ignore %q: want a JSON pointer such as /spec/replicas (or KIND/NAME:/spec/replicas)", s)
	}
	ig.Path = strings.TrimSuffix(p, "/")
	return ig, nil
}

// DefaultIgnores are the fields controllers and the API server own, ignored on every object.
var DefaultIgnores = []string{"/status", "/metadata/managedFields", "/metadata/resourceVersion", "/metadata/uid",
	"/metadata/generation", "/metadata/creationTimestamp"}

// Field is one field the chart sets whose live value differs. Chart and Live are the values as JSON
// (a string without its quotes); for a Secret's data both are empty and Hidden is set: only the digests
// were compared.
type Field struct {
	Path   string `json:"path"`
	Chart  string `json:"chart,omitempty"`
	Live   string `json:"live,omitempty"`
	Hidden bool   `json:"hidden,omitempty"`
}

// diffObject compares the fields the chart's object sets with the live object, ignoring the paths of
// ignore (JSON pointer prefixes). A Secret's data and stringData are compared by digest and never shown.
func diffObject(chart, live map[string]any, ignore []string) []Field {
	d := &differ{ignore: ignore}
	secret := chart["kind"] == "Secret" && chart["apiVersion"] == "v1"
	for _, k := range sortedKeys(chart) {
		p := "/" + escape(k)
		switch {
		case k == "apiVersion" || k == "kind":
			// what the object was read as (typed clients return objects without them)
		case secret && (k == "data" || k == "stringData"):
			d.secretData(p, k == "stringData", chart[k], live["data"])
		default:
			lv, ok := live[k]
			d.walk(p, chart[k], lv, ok)
		}
	}
	return d.out
}

type differ struct {
	ignore []string
	out    []Field
}

func (d *differ) ignored(p string) bool {
	for _, ig := range d.ignore {
		if p == ig || strings.HasPrefix(p, ig+"/") {
			return true
		}
	}
	return false
}

func (d *differ) add(p string, chart, live any, liveOK bool) {
	f := Field{Path: p, Chart: show(chart), Live: Absent}
	if liveOK {
		f.Live = show(live)
	}
	d.out = append(d.out, f)
}

func (d *differ) walk(p string, chart, live any, liveOK bool) {
	if d.ignored(p) {
		return
	}
	switch c := chart.(type) {
	case map[string]any:
		l, _ := live.(map[string]any)
		if !liveOK || live == nil {
			if len(c) == 0 {
				return // an empty map the server drops
			}
		} else if l == nil {
			d.add(p, chart, live, liveOK)
			return
		}
		for _, k := range sortedKeys(c) {
			lv, ok := l[k]
			d.walk(p+"/"+escape(k), c[k], lv, ok)
		}
	case []any:
		l, isList := live.([]any)
		if (!liveOK || live == nil) && len(c) == 0 {
			return
		}
		if liveOK && live != nil && !isList {
			d.add(p, chart, live, liveOK)
			return
		}
		if !namedList(c) {
			if len(c) != len(l) || !allMaps(c) {
				if !equalValues(chart, live) {
					d.add(p, chart, live, liveOK && live != nil)
				}
				return
			}
			for i := range c {
				d.walk(p+"/"+strconv.Itoa(i), c[i], l[i], true)
			}
			return
		}
		byName := map[string]any{}
		for _, x := range l {
			if m, ok := x.(map[string]any); ok {
				if n, ok := m["name"].(string); ok {
					byName[n] = m
				}
			}
		}
		for i, x := range c {
			n := x.(map[string]any)["name"].(string)
			lv, ok := byName[n]
			d.walk(p+"/"+strconv.Itoa(i), x, lv, ok)
		}
	default:
		if !liveOK || live == nil {
			if zero(chart) {
				return // the server drops false, 0, "" and null
			}
			d.add(p, chart, nil, false)
			return
		}
		if !equalValues(chart, live) {
			d.add(p, chart, live, true)
		}
	}
}

// secretData compares a Secret's data (base64) or stringData (plain) with the live data by SHA-256
// digest, key by key. No value is ever kept.
func (d *differ) secretData(p string, plain bool, chart, live any) {
	c, _ := chart.(map[string]any)
	l, _ := live.(map[string]any)
	for _, k := range sortedKeys(c) {
		fp := p + "/" + escape(k)
		if d.ignored(fp) {
			continue
		}
		want, _ := c[k].(string)
		var wantSum [32]byte
		if plain {
			wantSum = sha256.Sum256([]byte(want))
		} else {
			b, _ := base64.StdEncoding.DecodeString(want)
			wantSum = sha256.Sum256(b)
		}
		lv, ok := l[k].(string)
		if !ok {
			d.out = append(d.out, Field{Path: fp, Live: Absent, Hidden: true})
			continue
		}
		lb, _ := base64.StdEncoding.DecodeString(lv)
		if sha256.Sum256(lb) != wantSum {
			d.out = append(d.out, Field{Path: fp, Hidden: true})
		}
	}
}

// namedList reports whether every element of a list is a map with a "name" (containers, env, ports,
// volumes): such lists are matched by name, not position (the server may reorder or add elements).
func namedList(l []any) bool {
	if len(l) == 0 {
		return false
	}
	seen := map[string]bool{}
	for _, x := range l {
		m, ok := x.(map[string]any)
		if !ok {
			return false
		}
		n, ok := m["name"].(string)
		if !ok || seen[n] {
			return false
		}
		seen[n] = true
	}
	return true
}

func allMaps(l []any) bool {
	for _, x := range l {
		if _, ok := x.(map[string]any); !ok {
			return false
		}
	}
	return true
}

func zero(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case string:
		return x == ""
	case float64:
		return x == 0
	case int64:
		return x == 0
	case int:
		return x == 0
	}
	return false
}

// equalValues compares two leaves (or lists) as the API server would store them: numbers by value, and
// resource quantities ("500m" and 0.5) by amount.
func equalValues(a, b any) bool {
	if fmt.Sprint(norm(a)) == fmt.Sprint(norm(b)) {
		return true
	}
	qa, okA := quantity(a)
	qb, okB := quantity(b)
	return okA && okB && qa.Cmp(qb) == 0
}

func norm(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = norm(x[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = norm(e)
		}
		return out
	}
	return v
}

func quantity(v any) (resource.Quantity, bool) {
	var s string
	switch x := norm(v).(type) {
	case string:
		s = x
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return resource.Quantity{}, false
	}
	q, err := resource.ParseQuantity(s)
	return q, err == nil
}

// show renders a value for the report: a string as it is, anything else as JSON.
func show(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(norm(v))
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// escape escapes a key for a JSON pointer (RFC 6901).
func escape(k string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(k)
}
