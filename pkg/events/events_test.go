package events

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/change"
)

func TestStream(t *testing.T) {
	var b bytes.Buffer
	w := New(&b, "upgrade")
	w.now = func() time.Time { return time.Date(2026, 12, 6, 8, 0, 0, 123000000, time.UTC) }
	w.Observe(change.Event{Type: change.EventPlan, Run: "r1", Context: "global", Release: "skoala", Namespace: "skoala-system", Chart: "skoala", ToVersion: "0.57.2", FromVersion: "0.57.1", FromRevision: 3})
	w.Observe(change.Event{Type: change.EventProgress, Run: "r1", Context: "global", Release: "skoala", Message: "not in the stream"})
	w.Observe(change.Event{Type: change.EventWave, Run: "r1", Wave: 0, Releases: 1})
	w.Observe(change.Event{Type: change.EventWait, Run: "r1", Context: "global", Release: "skoala", Kind: "Deployment", Name: "hive", Ready: 0, Total: 1, Elapsed: 2500 * time.Millisecond})
	w.Observe(change.Event{Type: change.EventReleaseDone, Run: "r1", Context: "global", Release: "skoala", Outcome: "failed", FromRevision: 3, ToRevision: 4,
		Error: "dial mysql://skoala:Pa55word@db:3306/skoala failed"})
	w.Done("failed", 3)
	var lines []map[string]any
	sc := bufio.NewScanner(&b)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%v: %s", err, sc.Text())
		}
		lines = append(lines, m)
	}
	if len(lines) != 5 {
		t.Fatalf("%d lines:\n%s", len(lines), b.String())
	}
	for i, m := range lines {
		if m["schema"] != Schema || m["seq"] != float64(i+1) || m["verb"] != "upgrade" || m["run"] != "r1" || m["time"] != "2026-12-06T08:00:00.123000000Z" {
			t.Errorf("line %d: %v", i, m)
		}
	}
	if lines[0]["from_revision"] != float64(3) || lines[0]["wave"] != float64(0) || lines[0]["namespace"] != "skoala-system" {
		t.Errorf("plan %v", lines[0])
	}
	if _, has := lines[1]["context"]; has || lines[1]["releases"] != float64(1) {
		t.Errorf("wave %v", lines[1])
	}
	if lines[2]["elapsed_ms"] != float64(2500) || lines[2]["ready"] != float64(0) || lines[2]["kind"] != "Deployment" {
		t.Errorf("wait %v", lines[2])
	}
	if e := lines[3]["error"].(string); strings.Contains(e, "Pa55word") {
		t.Errorf("the password is in the stream: %s", e)
	}
	if lines[4]["type"] != "done" || lines[4]["exit_code"] != float64(3) {
		t.Errorf("done %v", lines[4])
	}
}
