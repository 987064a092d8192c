package images

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// PushRecordEnv names the file of the push record instead of DefaultPushRecord.
const PushRecordEnv = "SKOALA_PUSH_RECORD"

// PushRecord is what 'images push' pushed, by target reference: 'verify' reports a tag whose digest in the
// registry is no longer the one recorded (pushed again with other content). A file, not a ConfigMap:
// 'images push' talks to the registry only, often from a machine with no cluster access.
type PushRecord struct {
	Schema string                 `json:"schema"`
	Images map[string]PushedEntry `json:"images"`
}

// PushedEntry is one reference as pushed.
type PushedEntry struct {
	Digest string    `json:"digest"`
	Source string    `json:"source,omitempty"`
	Pushed time.Time `json:"pushed"`
}

// DefaultPushRecord is $SKOALA_PUSH_RECORD, else <user config dir>/kubectl-skoala/pushed-images.json ("" when
// there is no such directory).
func DefaultPushRecord() string {
	if p := os.Getenv(PushRecordEnv); p != "" {
		return p
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "kubectl-skoala", "pushed-images.json")
}

// LoadPushRecord reads the record at path (an empty record when there is none).
func LoadPushRecord(path string) (*PushRecord, error) {
	r := &PushRecord{Schema: "skoala.pushed-images/v1", Images: map[string]PushedEntry{}}
	if path == "" {
		return r, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the push record: %w", err)
	}
	if err := json.Unmarshal(b, r); err != nil {
		return nil, fmt.Errorf("reading the push record %s: %w", path, err)
	}
	if r.Images == nil {
		r.Images = map[string]PushedEntry{}
	}
	return r, nil
}

// Digests are the recorded digests by reference.
func (r *PushRecord) Digests() map[string]string {
	out := map[string]string{}
	for ref, e := range r.Images {
		out[ref] = e.Digest
	}
	return out
}

// RecordPush adds what a push put in the registry (pushed, or found present) to the record at path,
// written to a temporary file and renamed (mode 0600). A tag left as it was (a conflict) is not recorded.
func RecordPush(path string, rep *PushReport, now time.Time) error {
	if path == "" || rep == nil {
		return nil
	}
	r, err := LoadPushRecord(path)
	if err != nil {
		return err
	}
	var refs []string
	for _, im := range rep.Images {
		if (im.Result == ResultPushed || im.Result == ResultPresent) && im.Digest != "" {
			r.Images[im.Target] = PushedEntry{Digest: im.Digest, Source: im.Source, Pushed: now.UTC()}
			refs = append(refs, im.Target)
		}
	}
	if len(refs) == 0 {
		return nil
	}
	sort.Strings(refs)
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("writing the push record: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".pushed-images-*.json")
	if err != nil {
		return fmt.Errorf("writing the push record: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing the push record: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
