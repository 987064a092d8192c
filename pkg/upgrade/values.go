package upgrade

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/skoala-dev/kubectl-skoala/pkg/dsn"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/product"
	"github.com/skoala-dev/kubectl-skoala/pkg/semver"
)

// The charts (product facts live in pkg/product).
const (
	ChartSkoala = product.ChartSkoala
	ChartInit   = product.ChartInit
)

// UITagKey is the skoala UI's image tag (product.UITagKey).
const UITagKey = product.UITagKey

// DSN keys of the skoala chart.
const (
	DBDriverKey = "hive.configMap.database[0].driver"
	DBDSNKey    = "hive.configMap.database[0].dsn"
)

// DB is the database of a skoala install (--db-* flags).
type DB struct {
	DSN      string
	Driver   string
	User     string
	Password string
	Host     string
	Port     int
	Name     string
}

// Given reports whether any database flag was given.
func (d DB) Given() bool {
	return d.DSN != "" || d.User != "" || d.Password != "" || d.Host != ""
}

// Build returns the DSN: --db-dsn as given, or built from the parts as the product guide does.
func (d DB) Build() (string, error) {
	if d.DSN != "" {
		if _, err := dsn.Parse(d.DSN); err != nil {
			return "", fmt.Errorf("--db-dsn: %w", err)
		}
		return d.DSN, nil
	}
	return dsn.Build(d.User, d.Password, d.Host, d.Port, d.Name)
}

// Override is one value the upgrade sets, for the plan: which value won and why (Value is masked when
// secret).
type Override struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	// Source is where the value comes from: "-f <file>", "--set", "--set-string", "--set-json", "--set-file",
	// "--set-literal", "guide" (the product guide's image tag), "--ui-tag", "--db-*", "--image-registry".
	Source string `json:"source,omitempty"`
	// Reason says why it won: "image tag", "--set", "--set: given by the user, the guide's v0.57.2 is not
	// applied", ...
	Reason string `json:"reason,omitempty"`
}

// SourceGuide is the source of the image tags the product guide sets.
const SourceGuide = "guide"

// ValuesInput is what NewValues needs.
type ValuesInput struct {
	Chart   string
	Version string
	// Base are the user-supplied values the upgrade starts from (the backup's).
	Base map[string]any
	// User are the -f/--set flags, applied onto Base exactly as 'helm upgrade -f backup.yaml <flags>' does.
	User          *helmsdk.UserValues
	ImageRegistry string
	UITag         string
	DB            *DB
}

// ValuesResult is the new user-supplied values and what changed.
type ValuesResult struct {
	Values map[string]any
	// Overrides are the values the upgrade sets, each with its source and why it won.
	Overrides []Override
	Dropped   []Override
	// ImageTags are the image tags the new revision runs by the values set: the guide's, or the user's where
	// the user set the tag key to a string.
	ImageTags []ImageTag
	Warnings  []string
}

// NewValues computes the user-supplied values of the new revision: the base values with the user's -f/--set
// flags applied as helm applies them, the image tags set to v<version> where the user did not set them, a
// pinned ui.image.tag dropped unless --ui-tag (or the user's flags) set it, global.imageRegistry for
// --image-registry, and the database DSN for --db-*. A copy of the base values that fails stops it.
func NewValues(in ValuesInput) (*ValuesResult, error) {
	vals, err := in.User.Apply(in.Base)
	if err != nil {
		return nil, err
	}
	res := &ValuesResult{}
	for _, k := range in.User.Keys() {
		res.Overrides = append(res.Overrides, Override{Key: k.Key, Value: valueString(k.Value), Source: k.Source, Reason: k.Source})
	}
	tag := semver.Tag(in.Version)
	keys := product.TagKeys(in.Chart, in.Version)
	comps := product.Components(keys)
	for i, k := range keys {
		if u, ok := in.User.Sets(k); ok {
			v, _ := getPath(vals, k)
			why := fmt.Sprintf("%s: given by the user, the guide's %s is not applied", u.Source, tag)
			res.Overrides = append(res.Overrides, Override{Key: k, Value: valueString(v), Source: u.Source, Reason: why})
			if s, ok := v.(string); ok && s != "" {
				res.ImageTags = append(res.ImageTags, ImageTag{Component: comps[i], Key: k, Tag: s})
			}
			continue
		}
		setPath(vals, k, tag)
		res.Overrides = append(res.Overrides, Override{Key: k, Value: tag, Source: SourceGuide, Reason: "image tag"})
		res.ImageTags = append(res.ImageTags, ImageTag{Component: comps[i], Key: k, Tag: tag})
	}
	if in.Chart == ChartSkoala {
		_, userUI := in.User.Sets(UITagKey)
		if in.UITag != "" {
			setPath(vals, UITagKey, in.UITag)
			res.Overrides = append(res.Overrides, Override{Key: UITagKey, Value: in.UITag, Source: "--ui-tag", Reason: "--ui-tag"})
		} else if old, ok := getPath(vals, UITagKey); ok && !userUI {
			deletePath(vals, UITagKey)
			res.Dropped = append(res.Dropped, Override{Key: UITagKey, Value: fmt.Sprint(old), Reason: "pinned UI tag goes stale (DaoCloud-docs#6420); give --ui-tag to pin one"})
		}
		if in.DB != nil && in.DB.Given() {
			d, err := in.DB.Build()
			if err != nil {
				return nil, err
			}
			driver := in.DB.Driver
			if driver == "" {
				driver = "mysql"
			}
			setDB(vals, driver, d)
			masked := d
			if p, err := dsn.Parse(d); err == nil {
				masked = p.String()
			}
			res.Overrides = append(res.Overrides, Override{Key: DBDriverKey, Value: driver, Source: "--db-*", Reason: "--db-*"}, Override{Key: DBDSNKey, Value: masked, Source: "--db-*", Reason: "--db-*"})
		}
	}
	if in.ImageRegistry != "" {
		setPath(vals, "global.imageRegistry", in.ImageRegistry)
		res.Overrides = append(res.Overrides, Override{Key: "global.imageRegistry", Value: in.ImageRegistry, Source: "--image-registry", Reason: "--image-registry"})
		for _, p := range registryOverrides(vals, "") {
			res.Warnings = append(res.Warnings, fmt.Sprintf("the saved values override an image registry at %s: global.imageRegistry=%s does not apply there", p, in.ImageRegistry))
		}
	}
	// Pinned image tags the upgrade does not set keep old images (domain brief §5 #18).
	set := map[string]bool{UITagKey: true}
	for _, k := range keys {
		set[k] = true
	}
	for _, p := range tagPins(vals, "") {
		if set[p.key] {
			continue
		}
		if _, ok := in.User.Sets(p.key); ok {
			continue // the user set it in this run
		}
		if s, ok := p.val.(string); ok && s != "" && !semver.Equal(s, in.Version) {
			res.Warnings = append(res.Warnings, fmt.Sprintf("the saved values pin %s=%s: that image stays at %s", p.key, s, s))
		}
	}
	sort.Strings(res.Warnings)
	res.Values = vals
	return res, nil
}

// UserConflicts names the flags that set a key the user's -f/--set flags also set (--ui-tag, --image-registry,
// --db-*): one line each, for a usage error.
func UserConflicts(u *helmsdk.UserValues, uiTag, imageRegistry string, db DB) []string {
	var out []string
	check := func(flag, key string) {
		if k, ok := u.Sets(key); ok {
			out = append(out, fmt.Sprintf("%s and %s both set %s", flag, k.Source, k.Key))
		}
	}
	if uiTag != "" {
		check("--ui-tag", UITagKey)
	}
	if imageRegistry != "" {
		check("--image-registry", "global.imageRegistry")
	}
	if db.Given() {
		for _, k := range u.Keys() {
			if k.Key == "hive" || k.Key == "hive.configMap" || strings.HasPrefix(k.Key, "hive.configMap.database") {
				out = append(out, fmt.Sprintf("--db-* and %s both set %s", k.Source, k.Key))
				break
			}
		}
	}
	return out
}

// setDB sets the driver and DSN of the first database entry in place, as
// '--set hive.configMap.database[0].driver=...,hive.configMap.database[0].dsn=...' does: the entry's other
// keys and the other entries stay.
func setDB(vals map[string]any, driver, d string) {
	cur, _ := getPath(vals, "hive.configMap.database")
	list, _ := cur.([]any)
	if len(list) == 0 {
		list = []any{map[string]any{}}
	}
	first, ok := list[0].(map[string]any)
	if !ok {
		first = map[string]any{}
	}
	first["driver"] = driver
	first["dsn"] = d
	list[0] = first
	setPath(vals, "hive.configMap.database", list)
}

// valueString is a value as the plan shows it: a string as is, anything else as JSON.
func valueString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

type pin struct {
	key string
	val any
}

func tagPins(v map[string]any, prefix string) []pin {
	var out []pin
	keys := sortedKeys(v)
	for _, k := range keys {
		p := joinKey(prefix, k)
		switch t := v[k].(type) {
		case map[string]any:
			out = append(out, tagPins(t, p)...)
		default:
			if k == "tag" && strings.HasSuffix(prefix, "image") && prefix != "sidecar.image" {
				out = append(out, pin{p, t})
			}
		}
	}
	return out
}

// registryOverrides lists the per-image registry settings of saved values: a "registry" or
// "imageRegistry" key outside global, or an image repository that names a registry host.
func registryOverrides(v map[string]any, prefix string) []string {
	var out []string
	for _, k := range sortedKeys(v) {
		p := joinKey(prefix, k)
		switch t := v[k].(type) {
		case map[string]any:
			out = append(out, registryOverrides(t, p)...)
		case string:
			if t == "" || p == "global.imageRegistry" {
				continue
			}
			if k == "registry" || k == "imageRegistry" {
				out = append(out, p)
			} else if k == "repository" && strings.HasSuffix(prefix, "image") {
				first := strings.SplitN(t, "/", 2)[0]
				if strings.Contains(t, "/") && (strings.ContainsAny(first, ".:") || first == "localhost") {
					out = append(out, p)
				}
			}
		}
	}
	return out
}

func sortedKeys(v map[string]any) []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func joinKey(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

// setPath sets a dotted key (no list indexes) in v, creating maps on the way.
func setPath(v map[string]any, key string, val any) {
	parts := strings.Split(key, ".")
	m := v
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = val
}

func getPath(v map[string]any, key string) (any, bool) {
	parts := strings.Split(key, ".")
	m := v
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			return nil, false
		}
		m = next
	}
	x, ok := m[parts[len(parts)-1]]
	return x, ok
}

// deletePath deletes a dotted key and the maps it leaves empty.
func deletePath(v map[string]any, key string) {
	parts := strings.Split(key, ".")
	if len(parts) == 1 {
		delete(v, key)
		return
	}
	next, ok := v[parts[0]].(map[string]any)
	if !ok {
		return
	}
	deletePath(next, strings.Join(parts[1:], "."))
	if len(next) == 0 {
		delete(v, parts[0])
	}
}
