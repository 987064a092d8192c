package kube

import (
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"k8s.io/client-go/transport"
)

// RequestLogEnv names the hidden environment variable that turns on request accounting (for the benchmarks
// of hack/bench; there is no flag): with SKOALA_REQUEST_LOG=PATH, every API request the process makes, on
// every cluster, is appended to PATH as one tab-separated line:
//
//	context  method  path  status  start-ms  duration-ms
//
// status is the HTTP status code, or "error" when no response came; start-ms counts from the start of the
// process (its Go runtime's package initialisation), so a log shows what waited on what. Several processes may append to the
// same file: each line is written by one write(2) on a file opened with O_APPEND.
const RequestLogEnv = "SKOALA_REQUEST_LOG"

var processStart = time.Now()

func init() {
	if p := os.Getenv(RequestLogEnv); p != "" && WrapTransport == nil {
		WrapTransport = RequestLogger(p)
	}
}

// RequestLogger returns a WrapTransport hook that appends one line per request to the file at path.
// Failing to open the file disables the log (the requests themselves are never affected).
func RequestLogger(path string) func(context string) transport.WrapperFunc {
	l := &requestLog{path: path}
	return func(context string) transport.WrapperFunc {
		return func(rt http.RoundTripper) http.RoundTripper {
			return &loggingRoundTripper{next: rt, context: context, log: l}
		}
	}
}

type requestLog struct {
	path string
	once sync.Once
	mu   sync.Mutex
	f    *os.File
}

func (l *requestLog) write(line string) {
	l.once.Do(func() {
		f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err == nil {
			l.f = f
		}
	})
	if l.f == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.f.WriteString(line)
}

type loggingRoundTripper struct {
	next    http.RoundTripper
	context string
	log     *requestLog
}

func (t *loggingRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	status := "error"
	if err == nil && resp != nil {
		status = fmt.Sprint(resp.StatusCode)
	}
	path := req.URL.Path
	if req.URL.RawQuery != "" {
		path += "?" + req.URL.RawQuery
	}
	t.log.write(fmt.Sprintf("%s\t%s\t%s\t%s\t%.1f\t%.1f\n", t.context, req.Method, path, status,
		ms(start.Sub(processStart)), ms(time.Since(start))))
	return resp, err
}

// WrappedRoundTripper lets client-go see through the wrapper (its debugging and cancellation helpers).
func (t *loggingRoundTripper) WrappedRoundTripper() http.RoundTripper { return t.next }

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
