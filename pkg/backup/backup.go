// Package backup implements the values backups of 'kubectl skoala backup-values' (and the ones 'upgrade'
// takes before its first change): the user-supplied (or computed) values of a release written as a YAML
// file that `helm upgrade -f` accepts, with a metadata header in YAML comments, created 0600 in a 0700
// directory, written to a temporary file, fsynced and linked into place so that an existing backup is
// never overwritten and a crash never leaves a half-written one.
package backup

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/skoala-dev/kubectl-skoala/pkg/redact"
)

// Kinds of backup file.
const (
	KindValues   = "values"   // user-supplied values (helm get values)
	KindComputed = "computed" // chart defaults coalesced with them (helm get values --all)
)

// Meta is what a backup file records about where its values come from.
type Meta struct {
	Cluster   string    `json:"cluster"`
	Namespace string    `json:"namespace"`
	Release   string    `json:"release"`
	Revision  int       `json:"revision"`
	Chart     string    `json:"chart"`
	Version   string    `json:"version"`
	Status    string    `json:"status,omitempty"`
	Time      time.Time `json:"time"`
	Kind      string    `json:"kind"`
	Redacted  bool      `json:"redacted"`
	// Tool is the kubectl-skoala version that wrote the file.
	Tool string `json:"tool,omitempty"`
}

// Entry is one backup file found by List.
type Entry struct {
	Meta
	Path string      `json:"path"`
	Mode fs.FileMode `json:"-"`
	// ModeString is the file mode as ls shows it (-rw-------).
	ModeString string `json:"mode"`
	Size       int64  `json:"size"`
	// Error says why the header could not be read ("" when it could).
	Error string `json:"error,omitempty"`
}

// headerMagic starts every backup file.
const headerMagic = "# kubectl-skoala backup-values"

// DefaultDir is the backup directory under the user's config dir: $XDG_CONFIG_HOME/kubectl-skoala/backups
// (~/.config/kubectl-skoala/backups on Linux).
func DefaultDir() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("finding the user config directory (set --dir): %w", err)
	}
	return filepath.Join(d, "kubectl-skoala", "backups"), nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// safe makes s usable in a file name (kubeconfig contexts may be ARNs with ':' and '/').
func safe(s string) string {
	s = unsafeName.ReplaceAllString(s, "_")
	s = strings.Trim(s, "._")
	if s == "" {
		return "_"
	}
	return s
}

// FileName is the name of a backup: <cluster>_<namespace>_<release>_r<revision>_<chart>-<version>_<UTC time>
// [.computed][.redacted].yaml.
func FileName(m Meta) string {
	name := fmt.Sprintf("%s_%s_%s_r%d_%s-%s_%s", safe(m.Cluster), safe(m.Namespace), safe(m.Release), m.Revision,
		safe(m.Chart), safe(m.Version), m.Time.UTC().Format("20060102T150405Z"))
	if m.Kind == KindComputed {
		name += ".computed"
	}
	if m.Redacted {
		name += ".redacted"
	}
	return name + ".yaml"
}

// Encode renders the file: the metadata header as YAML comments, then the values.
func Encode(m Meta, values map[string]any) ([]byte, error) {
	if values == nil {
		values = map[string]any{}
	}
	body, err := yaml.Marshal(values)
	if err != nil {
		return nil, fmt.Errorf("encoding the values of %s: %w", m.Release, err)
	}
	var b bytes.Buffer
	b.WriteString(headerMagic + "\n")
	fmt.Fprintf(&b, "# cluster: %s\n", oneLine(m.Cluster))
	fmt.Fprintf(&b, "# namespace: %s\n", oneLine(m.Namespace))
	fmt.Fprintf(&b, "# release: %s\n", oneLine(m.Release))
	fmt.Fprintf(&b, "# revision: %d\n", m.Revision)
	fmt.Fprintf(&b, "# chart: %s\n", oneLine(m.Chart))
	fmt.Fprintf(&b, "# version: %s\n", oneLine(m.Version))
	if m.Status != "" {
		fmt.Fprintf(&b, "# status: %s\n", oneLine(m.Status))
	}
	fmt.Fprintf(&b, "# time: %s\n", m.Time.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "# kind: %s\n", m.Kind)
	fmt.Fprintf(&b, "# redacted: %t\n", m.Redacted)
	if m.Tool != "" {
		fmt.Fprintf(&b, "# tool: kubectl-skoala %s\n", oneLine(m.Tool))
	}
	switch {
	case m.Redacted:
		b.WriteString("# Secrets are masked: this copy is safe to share and NOT usable to restore.\n")
	default:
		fmt.Fprintf(&b, "# Restore: helm upgrade %s <chart> --version %s -n %s -f <this file>\n", oneLine(m.Release), oneLine(m.Version), oneLine(m.Namespace))
		b.WriteString("# This file holds secrets (the database DSN password): keep it private.\n")
	}
	b.Write(body)
	return b.Bytes(), nil
}

func oneLine(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }

// Decode reads a backup file's header and values.
func Decode(data []byte) (Meta, map[string]any, error) {
	m, err := parseHeader(data)
	if err != nil {
		return m, nil, err
	}
	var v map[string]any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return m, nil, fmt.Errorf("the values do not parse: %v", err)
	}
	if v == nil {
		v = map[string]any{}
	}
	return m, v, nil
}

// ErrNotBackup says a file has no kubectl-skoala header.
var ErrNotBackup = errors.New("not a kubectl-skoala backup (no header)")

func parseHeader(data []byte) (Meta, error) {
	var m Meta
	sc := bufio.NewScanner(bytes.NewReader(data))
	first := true
	for sc.Scan() {
		line := sc.Text()
		if first {
			if strings.TrimSpace(line) != headerMagic {
				return m, ErrNotBackup
			}
			first = false
			continue
		}
		if !strings.HasPrefix(line, "# ") {
			break
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "# "), ": ")
		if !ok {
			continue
		}
		switch k {
		case "cluster":
			m.Cluster = v
		case "namespace":
			m.Namespace = v
		case "release":
			m.Release = v
		case "revision":
			m.Revision, _ = strconv.Atoi(v)
		case "chart":
			m.Chart = v
		case "version":
			m.Version = v
		case "status":
			m.Status = v
		case "time":
			m.Time, _ = time.Parse(time.RFC3339, v)
		case "kind":
			m.Kind = v
		case "redacted":
			m.Redacted = v == "true"
		case "tool":
			m.Tool = strings.TrimPrefix(v, "kubectl-skoala ")
		}
	}
	if first {
		return m, ErrNotBackup
	}
	return m, nil
}

// EnsureDir creates dir with mode 0700 (and its parents). It returns a warning when dir already exists and
// others can read it.
func EnsureDir(dir string) (warning string, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating the backup directory %s: %w", dir, err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("reading the backup directory %s: %w", dir, err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("backup directory %s is not a directory", dir)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return fmt.Sprintf("backup directory %s has mode %s: other users may read the backups (chmod 700 it)", dir, st.Mode().Perm()), nil
	}
	return "", nil
}

// WriteFile writes data to dir/name atomically and exclusively: a temporary file created 0600 in dir is
// written, fsynced and hard-linked to its name (which fails rather than replace an existing file), then the
// directory is fsynced. When name exists, ".1", ".2", ... is put before the extension. It returns the path.
func WriteFile(dir, name string, data []byte) (string, error) {
	tmp, err := os.CreateTemp(dir, ".backup-*.tmp")
	if err != nil {
		return "", fmt.Errorf("creating a file in %s: %w", dir, err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", fmt.Errorf("setting the mode of %s: %w", tmpName, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", fmt.Errorf("writing %s: %w", tmpName, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("syncing %s: %w", tmpName, err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("closing %s: %w", tmpName, err)
	}
	ext := filepath.Ext(name)
	base := strings.TrimSuffix(name, ext)
	for i := 0; i < 1000; i++ {
		cand := name
		if i > 0 {
			cand = fmt.Sprintf("%s.%d%s", base, i, ext)
		}
		final := filepath.Join(dir, cand)
		err := os.Link(tmpName, final)
		if err == nil {
			syncDir(dir)
			return final, nil
		}
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		// No hard links on this file system: fall back to an exclusive create and a copy.
		if err := writeExclusive(final, data); err != nil {
			if errors.Is(err, fs.ErrExist) {
				continue
			}
			return "", err
		}
		syncDir(dir)
		return final, nil
	}
	return "", fmt.Errorf("too many backups named %s in %s", name, dir)
}

func writeExclusive(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	return f.Close()
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// Source is a release revision to back up.
type Source struct {
	Meta
	// Values are the user-supplied values; Computed the coalesced ones (nil unless asked for).
	Values   map[string]any
	Computed map[string]any
}

// Options say which files Write makes.
type Options struct {
	Dir string
	// Computed also writes the computed values (--all).
	Computed bool
	// Redacted also writes a copy with secrets masked (--redact).
	Redacted bool
}

// Written is one file Write made.
type Written struct {
	Path     string `json:"path"`
	Kind     string `json:"kind"`
	Redacted bool   `json:"redacted"`
}

// Write writes the backups of one release revision: the values, and as asked the computed values and a
// redacted copy of each. The files that hold secrets are checked by reading them back.
func Write(src Source, o Options) ([]Written, error) {
	type file struct {
		kind     string
		redacted bool
		values   map[string]any
	}
	files := []file{{KindValues, false, src.Values}}
	if o.Computed {
		files = append(files, file{KindComputed, false, src.Computed})
	}
	if o.Redacted {
		files = append(files, file{KindValues, true, redact.Values(src.Values)})
		if o.Computed {
			files = append(files, file{KindComputed, true, redact.Values(src.Computed)})
		}
	}
	var out []Written
	for _, f := range files {
		m := src.Meta
		m.Kind = f.kind
		m.Redacted = f.redacted
		data, err := Encode(m, f.values)
		if err != nil {
			return out, err
		}
		p, err := WriteFile(o.Dir, FileName(m), data)
		if err != nil {
			return out, fmt.Errorf("backing up the values of %s on %s: %w", m.Release, m.Cluster, err)
		}
		if !f.redacted {
			if err := verify(p, f.values); err != nil {
				return out, err
			}
		}
		out = append(out, Written{Path: p, Kind: f.kind, Redacted: f.redacted})
	}
	return out, nil
}

// verify reads a backup back and compares its values with what was meant to be written.
func verify(path string, want map[string]any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading back %s: %w", path, err)
	}
	_, got, err := Decode(b)
	if err != nil {
		return fmt.Errorf("reading back %s: %w", path, err)
	}
	if want == nil {
		want = map[string]any{}
	}
	if !sameValues(got, want) {
		return fmt.Errorf("the backup %s does not read back as the values written", path)
	}
	return nil
}

// sameValues compares two value trees through their JSON form (numbers and nested types normalised).
func sameValues(a, b map[string]any) bool {
	ja, err1 := yaml.Marshal(a)
	jb, err2 := yaml.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// Load reads a backup file written by Write.
func Load(path string) (Meta, map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Meta{}, nil, err
	}
	return Decode(b)
}

// List reads the backups in dir, oldest first. Files without a header are skipped; unreadable ones are
// listed with an Error. A missing dir lists nothing.
func List(dir string) ([]Entry, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading the backup directory %s: %w", dir, err)
	}
	var out []Entry
	for _, de := range des {
		if de.IsDir() || strings.HasPrefix(de.Name(), ".") || !strings.HasSuffix(de.Name(), ".yaml") {
			continue
		}
		p := filepath.Join(dir, de.Name())
		e := Entry{Path: p}
		if st, err := os.Stat(p); err == nil {
			e.Mode = st.Mode().Perm()
			e.ModeString = st.Mode().String()
			e.Size = st.Size()
		}
		b, err := readHead(p)
		if err != nil {
			e.Error = err.Error()
			out = append(out, e)
			continue
		}
		m, err := parseHeader(b)
		if errors.Is(err, ErrNotBackup) {
			continue
		}
		e.Meta = m
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Time.Equal(out[j].Time) {
			return out[i].Time.Before(out[j].Time)
		}
		return out[i].Path < out[j].Path
	})
	return out, nil
}

// readHead reads the start of a file, enough for its header.
func readHead(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, 4096)
	n, err := f.Read(buf)
	if n == 0 && err != nil {
		return nil, err
	}
	return buf[:n], nil
}
