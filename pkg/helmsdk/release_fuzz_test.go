package helmsdk

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// encodeRecord encodes a release payload as Helm stores it: base64 of (gzipped) JSON.
func encodeRecord(payload []byte, zip bool) []byte {
	if zip {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		_, _ = w.Write(payload)
		_ = w.Close()
		payload = buf.Bytes()
	}
	return []byte(base64.StdEncoding.EncodeToString(payload))
}

const fuzzReleaseJSON = `{"name":"skoala","namespace":"skoala-system","version":3,` +
	`"info":{"status":"deployed","description":"Upgrade complete"},` +
	`"chart":{"metadata":{"name":"skoala","version":"0.28.1","appVersion":"0.28.1"}},` +
	`"config":{"hive":{"configMap":{"database":[{"driver":"mysql","dsn":"skoala:pw@tcp(db:3306)/skoala"}]}}},` +
	`"manifest":"---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: hive\n"}`

// checkDecoded is what every decoded record must satisfy, and the errors every bad one must give.
func checkDecoded(t *testing.T, data []byte) {
	rel, err := DecodeRelease(data)
	if err != nil {
		if rel != nil {
			t.Fatalf("a release and an error: %v", err)
		}
		msg := err.Error()
		for _, p := range []string{"empty release record", "bad base64: ", "bad gzip: ", "bad JSON: ", "release record too large"} {
			if strings.HasPrefix(msg, p) {
				return
			}
		}
		t.Fatalf("unexpected error %q", msg)
	}
	if rel.Name == "" || rel.Values == nil {
		t.Fatalf("decoded a release without a name or values: %+v", rel)
	}
	// Deterministic, and what it decoded encodes back to the same release.
	again, err := DecodeRelease(data)
	if err != nil || again.Name != rel.Name || again.Revision != rel.Revision || again.Status != rel.Status || again.ChartVersion != rel.ChartVersion {
		t.Fatalf("decoding twice differs: %+v / %+v (%v)", rel, again, err)
	}
	js, err := json.Marshal(rel.raw)
	if err != nil {
		return // values that do not re-encode (NaN cannot come from JSON; be lenient)
	}
	back, err := DecodeRelease(encodeRecord(js, true))
	if err != nil {
		t.Fatalf("re-encoded release does not decode: %v", err)
	}
	if back.Name != rel.Name || back.Revision != rel.Revision || back.Status != rel.Status || back.Chart != rel.Chart || back.ChartVersion != rel.ChartVersion {
		t.Fatalf("round trip changed the release: %+v -> %+v", rel, back)
	}
	_ = rel.Objects() // the manifest splitter must not panic on any manifest
}

// FuzzDecodeRelease feeds arbitrary bytes to the release decoder (as read from a Secret's data.release):
// it never panics, fails only with its documented errors, and a record it decodes round-trips.
func FuzzDecodeRelease(f *testing.F) {
	f.Add(encodeRecord([]byte(fuzzReleaseJSON), true))
	f.Add(encodeRecord([]byte(fuzzReleaseJSON), false))
	f.Add([]byte("!!! not base64 !!!"))
	f.Add(encodeRecord(append([]byte{0x1f, 0x8b, 0x08}, "no gzip stream"...), false))
	f.Add(encodeRecord([]byte(`{"name": "skoala", "info": {"status": `), true))
	f.Add([]byte("  \n"))
	f.Fuzz(func(t *testing.T, data []byte) { checkDecoded(t, data) })
}

// FuzzDecodeReleaseJSON fuzzes the JSON inside a well-formed record (gzip and base64 done right), where
// the fuzzer would rarely get by mutating the outer bytes.
func FuzzDecodeReleaseJSON(f *testing.F) {
	f.Add([]byte(fuzzReleaseJSON), true)
	f.Add([]byte(`{"name":"x","version":-1,"info":{"status":"pending-upgrade"},"config":null}`), false)
	f.Add([]byte(`{"name":"","chart":{"metadata":null}}`), true)
	f.Add([]byte(`[1,2,3]`), true)
	f.Fuzz(func(t *testing.T, payload []byte, zip bool) { checkDecoded(t, encodeRecord(payload, zip)) })
}
