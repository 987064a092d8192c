package images

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRecordPushKeepsWhatWasPushed(t *testing.T) {
	p := filepath.Join(t.TempDir(), "d", "pushed.json")
	at := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	rep := &PushReport{Images: []PushedImage{
		{Source: "release.daocloud.io/skoala/hive:v1", Target: "reg:5000/skoala/hive:v1", Digest: "sha256:aa", Result: ResultPushed},
		{Source: "release.daocloud.io/skoala/ui:v1", Target: "reg:5000/skoala/ui:v1", Digest: "sha256:bb", Result: ResultConflict},
	}}
	if err := RecordPush(p, rep, at); err != nil {
		t.Fatal(err)
	}
	rep.Images[0].Digest = "sha256:cc"
	if err := RecordPush(p, rep, at); err != nil {
		t.Fatal(err)
	}
	r, err := LoadPushRecord(p)
	if err != nil {
		t.Fatal(err)
	}
	d := r.Digests()
	if len(d) != 1 || d["reg:5000/skoala/hive:v1"] != "sha256:cc" {
		t.Errorf("record %v, want hive's newest digest only (a conflict is not recorded)", d)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
}
