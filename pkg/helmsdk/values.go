package helmsdk

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/strvals"
	"sigs.k8s.io/yaml"
)

// ValueOptions are helm's value flags (helm.sh/helm/v4/pkg/cli/values.Options): -f/--values, --set-json,
// --set, --set-string, --set-file and --set-literal.
type ValueOptions struct {
	ValueFiles    []string
	JSONValues    []string
	Values        []string
	StringValues  []string
	FileValues    []string
	LiteralValues []string
}

// UserValues are value flags whose files have been read, ready to be applied onto any base values exactly as
// 'helm upgrade -f base.yaml <flags>' applies them.
type UserValues struct {
	opts  ValueOptions
	files map[string][]byte // -f files and --set-file files, by the path given
	keys  []SetKey
}

// SetKey is one leaf key a value flag sets, in helm's key syntax (a.b[0].c), with the flag that sets it and
// the value it sets (secrets masked by the mask function given to LoadValues).
type SetKey struct {
	Key    string
	Source string
	Value  any
}

// ReadFileFunc reads a file named on the command line ("-" is standard input).
type ReadFileFunc func(path string) ([]byte, error)

// LoadValues reads the files of opts with read and checks that every flag parses as helm parses it. mask
// (nil for none) masks secrets in a flag's values before they are kept for SetKey.Value.
func LoadValues(opts ValueOptions, read ReadFileFunc, mask func(map[string]any) map[string]any) (*UserValues, error) {
	u := &UserValues{opts: opts, files: map[string][]byte{}}
	if mask == nil {
		mask = func(m map[string]any) map[string]any { return m }
	}
	load := func(flag, path string) ([]byte, error) {
		if b, ok := u.files[path]; ok {
			return b, nil
		}
		b, err := read(path)
		if err != nil {
			return nil, fmt.Errorf("%s: reading %s: %w", flag, path, err)
		}
		u.files[path] = b
		return b, nil
	}
	for _, f := range opts.ValueFiles {
		b, err := load("--values", f)
		if err != nil {
			return nil, err
		}
		m, err := parseValuesFile(f, b)
		if err != nil {
			return nil, err
		}
		u.addKeys("-f "+f, mask(m), true)
	}
	for _, a := range opts.FileValues {
		// helm's reader receives each value (a path) of the assignment: read them all now.
		err := strvals.ParseIntoFile(a, map[string]any{}, func(rs []rune) (any, error) {
			b, err := load("--set-file", string(rs))
			return string(b), err
		})
		if err != nil {
			return nil, fmt.Errorf("parsing --set-file %s: %v", firstField(a), err)
		}
	}
	for _, s := range u.sets() {
		m := map[string]any{}
		if err := unterminatedIndex(s.flag, s.arg); err != nil {
			return nil, fmt.Errorf("parsing %s %s: %v", s.flag, firstField(s.arg), err)
		}
		if err := s.parse(u, s.arg, m); err != nil {
			return nil, fmt.Errorf("parsing %s %s: %v", s.flag, firstField(s.arg), scrubArg(err, s.arg))
		}
		u.addKeys(s.flag, mask(m), s.flag == "--set-json")
	}
	return u, nil
}

// unterminatedIndex refuses an assignment whose first key opens a list index it never closes ("a.b[=x"):
// Helm 4's parser takes it for the end of the input and sets nothing, silently; Helm 3's refused it.
func unterminatedIndex(flag, a string) error {
	if flag == "--set-json" {
		return nil
	}
	key := a
	if i := strings.IndexAny(key, "=,"); i >= 0 {
		key = key[:i]
	}
	if i := strings.LastIndexByte(key, '['); i >= 0 && !strings.Contains(key[i:], "]") {
		return errors.New("the list index of the key is not closed with ]")
	}
	return nil
}

// ReadFileOrStdin reads path, or all of stdin when path is "-" (as helm's -f does).
func ReadFileOrStdin(stdin io.Reader, readFile func(string) ([]byte, error)) ReadFileFunc {
	return func(path string) ([]byte, error) {
		if strings.TrimSpace(path) == "-" {
			return io.ReadAll(stdin)
		}
		return readFile(path)
	}
}

// Empty reports whether no value flag was given.
func (u *UserValues) Empty() bool {
	if u == nil {
		return true
	}
	o := u.opts
	return len(o.ValueFiles)+len(o.JSONValues)+len(o.Values)+len(o.StringValues)+len(o.FileValues)+len(o.LiteralValues) == 0
}

// Keys are the leaf keys the flags set, in the order helm applies the flags.
func (u *UserValues) Keys() []SetKey {
	if u == nil {
		return nil
	}
	return append([]SetKey(nil), u.keys...)
}

// Sets reports whether the flags set key (helm's syntax, without list indexes) or a key above it.
func (u *UserValues) Sets(key string) (SetKey, bool) {
	var found SetKey
	ok := false
	for _, k := range u.Keys() {
		if k.Key == key || strings.HasPrefix(key, k.Key+".") || strings.HasPrefix(key, k.Key+"[") {
			found, ok = k, true // the last flag applied wins, as in helm
		}
	}
	return found, ok
}

// Apply returns base with the flags applied in helm's order (helm.sh/helm/v4/pkg/cli/values.Options.MergeValues
// with base as the first -f file): the -f files merged in order, then each --set-json, --set, --set-string,
// --set-file and --set-literal parsed into the result. base is not changed.
func (u *UserValues) Apply(base map[string]any) (map[string]any, error) {
	vals, err := CopyValues(base)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return vals, nil
	}
	for _, f := range u.opts.ValueFiles {
		m, err := parseValuesFile(f, u.files[f])
		if err != nil {
			return nil, err
		}
		vals = MergeValues(vals, m)
	}
	for _, s := range u.sets() {
		if err := s.parse(u, s.arg, vals); err != nil {
			return nil, fmt.Errorf("applying %s %s: %v", s.flag, firstField(s.arg), scrubArg(err, s.arg))
		}
	}
	return vals, nil
}

// CopyValues deep-copies values as helm reads a values file (YAML to JSON-compatible types), failing when
// they cannot be copied.
func CopyValues(v map[string]any) (map[string]any, error) {
	out := map[string]any{}
	if v == nil {
		return out, nil
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("copying values: %w", err)
	}
	if err := yaml.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("copying values: %w", err)
	}
	if out == nil {
		out = map[string]any{}
	}
	return out, nil
}

type setArg struct {
	flag  string
	arg   string
	parse func(u *UserValues, a string, into map[string]any) error
}

// sets are the assignments in the order helm applies them.
func (u *UserValues) sets() []setArg {
	var out []setArg
	add := func(flag string, args []string, parse func(u *UserValues, a string, into map[string]any) error) {
		for _, a := range args {
			out = append(out, setArg{flag, a, parse})
		}
	}
	add("--set-json", u.opts.JSONValues, func(_ *UserValues, a string, m map[string]any) error { return strvals.ParseJSON(a, m) })
	add("--set", u.opts.Values, func(_ *UserValues, a string, m map[string]any) error { return strvals.ParseInto(a, m) })
	add("--set-string", u.opts.StringValues, func(_ *UserValues, a string, m map[string]any) error { return strvals.ParseIntoString(a, m) })
	add("--set-file", u.opts.FileValues, func(u *UserValues, a string, m map[string]any) error {
		return strvals.ParseIntoFile(a, m, func(rs []rune) (any, error) {
			b, ok := u.files[string(rs)]
			if !ok {
				return nil, fmt.Errorf("file %s was not read", string(rs))
			}
			return string(b), nil
		})
	})
	add("--set-literal", u.opts.LiteralValues, func(_ *UserValues, a string, m map[string]any) error { return strvals.ParseLiteralInto(a, m) })
	return out
}

func parseValuesFile(path string, b []byte) (map[string]any, error) {
	v, err := common.ReadValues(b)
	if err != nil {
		return nil, fmt.Errorf("parsing values file %s: %w", path, err)
	}
	return v.AsMap(), nil
}

// scrubArg keeps the value of an assignment (maybe a secret) out of a parse error.
func scrubArg(err error, a string) string {
	msg := err.Error()
	if _, v, ok := strings.Cut(a, "="); ok && len(v) >= 3 {
		msg = strings.ReplaceAll(msg, v, "***")
	}
	return msg
}

// addKeys records the leaf keys of m (one flag's values). Lists are leaves of files and --set-json (they
// replace the whole list); --set and the like address list entries.
func (u *UserValues) addKeys(source string, m map[string]any, listsAreLeaves bool) {
	var rec func(prefix string, v any)
	rec = func(prefix string, v any) {
		switch t := v.(type) {
		case map[string]any:
			if len(t) == 0 && prefix != "" {
				u.keys = append(u.keys, SetKey{Key: prefix, Source: source, Value: t})
				return
			}
			ks := make([]string, 0, len(t))
			for k := range t {
				ks = append(ks, k)
			}
			sort.Strings(ks)
			for _, k := range ks {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				rec(p, t[k])
			}
		case []any:
			if listsAreLeaves {
				u.keys = append(u.keys, SetKey{Key: prefix, Source: source, Value: t})
				return
			}
			for i, x := range t {
				if x == nil {
					continue // padding strvals adds before an index
				}
				rec(prefix+"["+strconv.Itoa(i)+"]", x)
			}
		default:
			u.keys = append(u.keys, SetKey{Key: prefix, Source: source, Value: t})
		}
	}
	rec("", m)
}
