package bundle

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

// lines is a log of n lines made as it is read (never whole in memory), then, when block is set, a
// stream that blocks until ctx ends (a log the deadline cuts).
type lines struct {
	ctx   context.Context
	i, n  int
	buf   []byte
	block bool
}

func (l *lines) Read(p []byte) (int, error) {
	for len(l.buf) < len(p) && l.i < l.n {
		l.buf = append(l.buf, fmt.Sprintf("I1201 line %09d of the log %s\n", l.i, strings.Repeat("x", 40))...)
		l.i++
	}
	if len(l.buf) > 0 {
		n := copy(p, l.buf)
		l.buf = l.buf[n:]
		return n, nil
	}
	if l.block {
		<-l.ctx.Done()
		return 0, l.ctx.Err()
	}
	return 0, io.EOF
}

func (l *lines) Close() error { return nil }

func lastLine(n int) string { return fmt.Sprintf("line %09d of the log", n-1) }

func runWithLogs(t *testing.T, cfg Config, current func(ctx context.Context) io.ReadCloser, afterRun ...func()) (*Manifest, map[string][]byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "b.zip")
	cfg.Namespace, cfg.InsightNamespace, cfg.MySQLNamespace = ns, "insight-system", "mcamel-system"
	cfg.Targets = []fleet.Target{{Context: "global", Role: fleet.RoleControlPlane, Release: "skoala"}}
	cfg.Logs, cfg.Tail = true, -1
	deps := Deps{Clusters: fakeSource{"global": controlPlane()}, Dynamic: dynFake,
		LogStream: func(ctx context.Context, _ *kube.Cluster, _, _ string, o *corev1.PodLogOptions) (io.ReadCloser, error) {
			if o.Previous {
				return io.NopCloser(strings.NewReader("previous container\n")), nil
			}
			return current(ctx), nil
		}}
	if _, err := Run(context.Background(), deps, cfg, path); err != nil {
		t.Fatal(err)
	}
	for _, f := range afterRun {
		f()
	}
	out := readArchive(t, path)
	var man Manifest
	if err := json.Unmarshal(out["manifest.json"], &man); err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*")); len(m) != 0 {
		t.Errorf("the work folder is left behind: %v", m)
	}
	return &man, out
}

const hiveLog = "global/logs/hive-0/hive.log"

func cutOf(man *Manifest, path string) *Cut {
	for i := range man.Cut {
		if man.Cut[i].Path == path {
			return &man.Cut[i]
		}
	}
	return nil
}

// A log larger than the bound keeps its newest lines (not its oldest), and manifest.json says it was cut
// and how large it was.
func TestLogLargerThanTheBoundKeepsItsNewestLinesAndIsMarkedCut(t *testing.T) {
	const n = 300000 // about 25 MiB
	man, files := runWithLogs(t, Config{MaxSize: 2 << 20, ClusterTimeout: time.Minute}, func(ctx context.Context) io.ReadCloser { return &lines{ctx: ctx, n: n} })
	log := files[hiveLog]
	if !bytes.HasPrefix(log, []byte(cutMarker)) || !bytes.Contains(log, []byte(lastLine(n))) {
		t.Fatalf("the log (%d bytes) does not keep its newest lines after the cut marker: ends %q", len(log), log[max(0, len(log)-120):])
	}
	c := cutOf(man, hiveLog)
	if c == nil || c.Reason != ReasonOverSize || c.Bytes < 20<<20 || c.KeptBytes == 0 || c.KeptBytes > 2<<20 {
		t.Fatalf("manifest cut of %s: %+v, want over the size bound with the log's whole size", hiveLog, c)
	}
}

// A log whose reading the cluster's deadline stopped is marked cut (timed out) in manifest.json, and its
// text says where it stops.
func TestLogCutByTheDeadlineIsMarkedCut(t *testing.T) {
	man, files := runWithLogs(t, Config{MaxSize: 8 << 20, ClusterTimeout: 2 * time.Second}, func(ctx context.Context) io.ReadCloser {
		return &lines{ctx: ctx, n: 100, block: true}
	})
	c := cutOf(man, hiveLog)
	if c == nil || c.Reason != ReasonTimedOut || c.Bytes == 0 {
		t.Fatalf("manifest cut of %s: %+v (cuts %+v), want timed out", hiveLog, c, man.Cut)
	}
	log := files[hiveLog]
	if !bytes.Contains(log, []byte(lastLine(100))) || !bytes.HasSuffix(log, []byte(fmt.Sprintf(stopMarker, ReasonTimedOut))) {
		t.Fatalf("the log does not end with the stop marker: %q", log[max(0, len(log)-200):])
	}
}

// A log is streamed, not held: the heap grows by far less than the log's size while the bundle runs.
func TestLogIsStreamedNotHeldInMemory(t *testing.T) {
	const n = 90000 // about 6 MiB
	// Garbage is collected at once, so that the heap's peak is what the bundle holds, not what it dropped.
	defer debug.SetGCPercent(debug.SetGCPercent(5))
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak {
				peak = m.HeapAlloc
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	man, files := runWithLogs(t, Config{MaxSize: 64 << 20, ClusterTimeout: time.Minute}, func(ctx context.Context) io.ReadCloser {
		return &lines{ctx: ctx, n: n}
	}, func() { close(stop); <-done })
	if c := cutOf(man, hiveLog); c != nil {
		t.Fatalf("the log was cut: %+v", c)
	}
	if got := len(files[hiveLog]); got < 5<<20 || !bytes.Contains(files[hiveLog], []byte(lastLine(n))) {
		t.Fatalf("the log holds %d bytes", got)
	}
	// The archive read back by the test (after Run) is not part of the peak. Held whole, the log
	// took 6 MiB and at least two more copies (the read buffer's growth, the redacted text).
	if grew := int64(peak) - int64(base.HeapAlloc); grew > 6<<20 {
		t.Errorf("the heap grew by %d MiB while the bundle read a 6 MiB log", grew>>20)
	} else {
		t.Logf("the heap grew by %.1f MiB while the bundle read a 6 MiB log", float64(grew)/(1<<20))
	}
}
