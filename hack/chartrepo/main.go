// Command chartrepo serves a directory of packaged Helm charts (index.yaml + *.tgz) over plain HTTP on loopback,
// for the local test fleet (hack/fleet.sh). It is a test fixture, not a product component.
//
// Fault injection, for tests of the plugin's repository handling:
//
//	/fault/500/<anything>   answers 500 Internal Server Error
//	/fault/hang/<anything>  never answers; the handler returns only when the client goes away
//
// Every other path is served from -dir (no directory listings).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	dir := flag.String("dir", ".", "directory to serve (index.yaml and chart archives)")
	addr := flag.String("addr", "127.0.0.1:0", "listen address (host:port; port 0 picks a free port)")
	pidfile := flag.String("pidfile", "", "write the process id to this file")
	urlfile := flag.String("urlfile", "", "write the base URL (http://host:port) to this file once listening")
	flag.Parse()

	abs, err := filepath.Abs(*dir)
	if err != nil {
		log.Fatalf("chartrepo: %v", err)
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		log.Fatalf("chartrepo: -dir %s is not a directory", abs)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("chartrepo: listen %s: %v", *addr, err)
	}
	url := "http://" + ln.Addr().String()
	if *pidfile != "" {
		if err := os.WriteFile(*pidfile, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644); err != nil {
			log.Fatalf("chartrepo: %v", err)
		}
	}
	if *urlfile != "" {
		if err := os.WriteFile(*urlfile, []byte(url+"\n"), 0o644); err != nil {
			log.Fatalf("chartrepo: %v", err)
		}
	}

	srv := &http.Server{
		Handler:           handler(abs),
		ReadHeaderTimeout: 10 * time.Second,
	}
	log.Printf("chartrepo: serving %s on %s", abs, url)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
		_ = srv.Close() // hanging fault handlers end when their connections close
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("chartrepo: %v", err)
	}
	log.Printf("chartrepo: stopped")
}

func handler(dir string) http.Handler {
	files := http.FileServer(noListing{http.Dir(dir)})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := 0
		rec := &statusRecorder{ResponseWriter: w}
		switch {
		case strings.HasPrefix(r.URL.Path, "/fault/500/"):
			http.Error(w, "injected fault: internal server error", http.StatusInternalServerError)
			status = http.StatusInternalServerError
		case strings.HasPrefix(r.URL.Path, "/fault/hang/"):
			log.Printf("%s %s hang (until the client goes away)", r.Method, r.URL.Path)
			<-r.Context().Done()
			status = 0
		default:
			files.ServeHTTP(rec, r)
			status = rec.status
		}
		// Only method, path and status: never headers (they may carry credentials) or query strings.
		log.Printf("%s %s %d", r.Method, r.URL.Path, status)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// noListing hides directory listings: a chart repository serves files only.
type noListing struct{ fs http.FileSystem }

func (n noListing) Open(name string) (http.File, error) {
	f, err := n.fs.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		_ = f.Close()
		return nil, os.ErrNotExist
	}
	return f, nil
}
