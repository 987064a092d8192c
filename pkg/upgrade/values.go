package upgrade

import (
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"

	"fmt"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/skoala-dev/kubectl-skoala/pkg/dsn"
	"github.com/skoala-dev/kubectl-skoala/pkg/versions"
)

// Chart names.
const (
	ChartSkoala = "skoala"
	ChartInit   = "skoala-init"
)

// TagKeys are the image-tag values the product guide sets to v<version> when upgrading chart to version.
func TagKeys(chart, version string) []string {
	switch chart {
	case ChartSkoala:
		return []string{"hive.image.tag", "sesame.image.tag"}
	case ChartInit:
		keys := []string{"skoala-agent.image.tag", "nacos-operator.image.tag", "sentinel-operator.image.tag"}
		if versions.Compare(version, "0.28.0") >= 0 {
			keys = append(keys, "seata-operator.image.tag")
		}
		return keys
	}
	return nil
}

// TagComponents maps a tag key to the workload whose image it sets.
func TagComponents(chart string, keys []string) []string {
	var out []string
	for _, k := range keys {
		c := strings.SplitN(k, ".", 2)[0]
		if c == "ui" {
			c = "skoala-ui"
		}
		out = append(out, c)
	}
	return out
}

// UITagKey is the skoala UI's image tag, which has its own version line and should not be pinned
// (DaoCloud-docs#6420).
const UITagKey = "ui.image.tag"

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

// Override is one value the upgrade sets, for the plan (Value is masked when secret).
type Override struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	// Reason says why: "image tag", "--image-registry", "--set", ...
	Reason string `json:"reason,omitempty"`
}

// ValuesInput is what NewValues needs.
type ValuesInput struct {
	Chart   string
	Version string
	// Base are the user-supplied values the upgrade starts from (the backup's).
	Base map[string]any
	// Extra are -f files and --set values, merged over Base.
	Extra         map[string]any
	ExtraKeys     []string
	ImageRegistry string
	UITag         string
	DB            *DB
}

// ValuesResult is the new user-supplied values and what changed.
type ValuesResult struct {
	Values    map[string]any
	Overrides []Override
	Dropped   []Override
	Warnings  []string
}

// NewValues computes the user-supplied values of the new revision: the base values, the extra values, the
// image tags set to v<version>, a pinned ui.image.tag dropped unless --ui-tag is given, global.imageRegistry
// for --image-registry, and the database DSN for --db-*.
func NewValues(in ValuesInput) (*ValuesResult, error) {
	vals := cloneValues(in.Base)
	res := &ValuesResult{}
	if len(in.Extra) > 0 {
		vals = helmsdk.MergeValues(vals, in.Extra)
		for _, k := range in.ExtraKeys {
			res.Overrides = append(res.Overrides, Override{Key: k, Value: "(given)", Reason: "-f/--set"})
		}
	}
	tag := versions.Tag(in.Version)
	for _, k := range TagKeys(in.Chart, in.Version) {
		setPath(vals, k, tag)
		res.Overrides = append(res.Overrides, Override{Key: k, Value: tag, Reason: "image tag"})
	}
	if in.Chart == ChartSkoala {
		if in.UITag != "" {
			setPath(vals, UITagKey, in.UITag)
			res.Overrides = append(res.Overrides, Override{Key: UITagKey, Value: in.UITag, Reason: "--ui-tag"})
		} else if old, ok := getPath(vals, UITagKey); ok {
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
			setPath(vals, "hive.configMap.database", []any{map[string]any{"driver": driver, "dsn": d}})
			masked := d
			if p, err := dsn.Parse(d); err == nil {
				masked = p.String()
			}
			res.Overrides = append(res.Overrides, Override{Key: DBDriverKey, Value: driver, Reason: "--db-*"}, Override{Key: DBDSNKey, Value: masked, Reason: "--db-*"})
		}
	}
	if in.ImageRegistry != "" {
		setPath(vals, "global.imageRegistry", in.ImageRegistry)
		res.Overrides = append(res.Overrides, Override{Key: "global.imageRegistry", Value: in.ImageRegistry, Reason: "--image-registry"})
		for _, p := range registryOverrides(vals, "") {
			res.Warnings = append(res.Warnings, fmt.Sprintf("the saved values override an image registry at %s: global.imageRegistry=%s does not apply there", p, in.ImageRegistry))
		}
	}
	// Pinned image tags the upgrade does not set keep old images (domain brief §5 #18).
	set := map[string]bool{UITagKey: true}
	for _, k := range TagKeys(in.Chart, in.Version) {
		set[k] = true
	}
	for _, p := range tagPins(vals, "") {
		if set[p.key] {
			continue
		}
		if s, ok := p.val.(string); ok && s != "" && !versions.Equal(s, in.Version) {
			res.Warnings = append(res.Warnings, fmt.Sprintf("the saved values pin %s=%s: that image stays at %s", p.key, s, s))
		}
	}
	sort.Strings(res.Warnings)
	res.Values = vals
	return res, nil
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

func cloneValues(v map[string]any) map[string]any {
	if v == nil {
		return map[string]any{}
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		return map[string]any{}
	}
	var out map[string]any
	if err := yaml.Unmarshal(b, &out); err != nil || out == nil {
		return map[string]any{}
	}
	return out
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
