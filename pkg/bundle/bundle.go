package bundle

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/dynamic"

	"github.com/skoala-dev/kubectl-skoala/pkg/buildinfo"
	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

// Defaults of Config.
const (
	DefaultSince   = 24 * time.Hour
	DefaultMaxSize = 100 << 20
)

// ClusterSource gives the clients of a kubeconfig context (*kube.Factory implements it).
type ClusterSource interface {
	Cluster(context string) (*kube.Cluster, error)
}

// Deps are the bundle's collaborators.
type Deps struct {
	Clusters ClusterSource
	// Dynamic gives a context's dynamic client (CRDs, ServiceMonitors); nil means built from its config.
	Dynamic func(context string) dynamic.Interface
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// LogStream opens a container's log; nil means the cluster's GetLogs (tests give a stream of their own).
	LogStream func(ctx context.Context, kc *kube.Cluster, namespace, pod string, opts *corev1.PodLogOptions) (io.ReadCloser, error)
}

// Report is a fleet-wide report at the top of the archive (status.json, doctor.json), gathered by the same
// code as the verb that prints it.
type Report struct {
	Name   string
	Gather func(ctx context.Context) ([]byte, error)
}

// Config is what a bundle collects, with no flags in sight.
type Config struct {
	Namespace        string
	InsightNamespace string
	MySQLNamespace   string
	Targets          []fleet.Target
	Driver           string
	ClusterTimeout   time.Duration
	MaxConcurrency   int
	// Logs collects the containers' logs, each since Since (0: all) and its last Tail lines (<0: all).
	Logs  bool
	Since time.Duration
	Tail  int64
	// MaxSize bounds the archive in bytes.
	MaxSize int64
	// Reports are written at the top (status.json, doctor.json).
	Reports []Report
	// Flags are the flags the bundle was made with (flags.json), secrets masked by the caller.
	Flags map[string]string
	// Progress, when set, is called as files arrive (clusters done, files, bytes).
	Progress func(Progress)
}

// Progress is the state of a running bundle.
type Progress struct {
	ClustersDone, Clusters int
	Files                  int64
	Bytes                  int64
}

// Run collects the bundle of the fleet and writes it to path atomically. It returns the summary; an error
// only when no archive was written (the file exists, the disk is full, ctx was cancelled).
func Run(ctx context.Context, deps Deps, cfg Config, path string) (*Summary, error) {
	now := time.Now
	if deps.Now != nil {
		now = deps.Now
	}
	created := now().UTC()
	if cfg.MaxSize <= 0 {
		cfg.MaxSize = DefaultMaxSize
	}
	// The logs are spooled in a private folder next to the archive, removed in every case.
	spoolDir, err := os.MkdirTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.spool")
	if err != nil {
		return nil, fmt.Errorf("creating the bundle's work folder in %s: %w", filepath.Dir(path), err)
	}
	defer os.RemoveAll(spoolDir)
	var files, bytesN atomic.Int64
	var done atomic.Int64
	progress := func() {
		if cfg.Progress != nil {
			cfg.Progress(Progress{ClustersDone: int(done.Load()), Clusters: len(cfg.Targets), Files: files.Load(), Bytes: bytesN.Load()})
		}
	}
	onFile := func(n int64) { files.Add(1); bytesN.Add(n); progress() }

	cols := make([]*collector, len(cfg.Targets))
	sums := make([]ClusterSummary, len(cfg.Targets))
	dirs := clusterDirs(cfg.Targets)
	var top []*File
	var topSkips []Skip
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, r := range cfg.Reports {
		wg.Add(1)
		go func(r Report) {
			defer wg.Done()
			rctx, cancel := context.WithTimeout(ctx, reportTimeout(cfg))
			defer cancel()
			b, err := r.Gather(rctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				reason := Classify(err)
				if ctx.Err() == nil && rctx.Err() != nil {
					reason = ReasonTimedOut
				}
				topSkips = append(topSkips, Skip{Part: r.Name, Reason: reason, Detail: redactText(err.Error(), nil)})
				return
			}
			top = append(top, &File{Path: r.Name, Data: b})
			onFile(int64(len(b)))
		}(r)
	}
	kube.ForEach(ctx, cfg.Targets, cfg.MaxConcurrency, cfg.ClusterTimeout, func(cctx context.Context, i int, t fleet.Target) {
		c := &collector{cfg: &cfg, t: t, dir: dirs[i], onFile: onFile, spoolDir: spoolDir, logStream: deps.LogStream}
		cols[i] = c
		sums[i] = c.run(cctx, deps.Clusters, deps.Dynamic)
		// A part cut short by the cluster's --timeout says so, whatever error the client made of it.
		if cctx.Err() != nil && ctx.Err() == nil {
			for j := range c.skips {
				if c.skips[j].Reason == ReasonFailed || c.skips[j].Reason == ReasonUnreachable {
					c.skips[j].Reason = ReasonTimedOut
				}
			}
		}
		done.Add(1)
		progress()
	})
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// Every text of the bundle is scrubbed of every secret found in any cluster's values.
	var secrets []string
	var all []*File
	var skips []Skip
	sort.Slice(top, func(i, j int) bool { return top[i].Path < top[j].Path })
	all = append(all, top...)
	skips = append(skips, topSkips...)
	for _, c := range cols {
		secrets = append(secrets, c.secrets...)
	}
	for i, c := range cols {
		sort.SliceStable(c.files, func(a, b int) bool { return c.files[a].Path < c.files[b].Path })
		all = append(all, c.files...)
		skips = append(skips, c.skips...)
		sums[i].Files = len(c.files)
	}
	var logCuts []Cut
	for _, c := range cols {
		logCuts = append(logCuts, c.cuts...)
	}
	for _, f := range all {
		if f.spool != nil {
			f.secrets = secrets // scrubbed block by block as the log is compressed
			continue
		}
		f.Data = []byte(redactText(string(f.Data), secrets))
	}
	info := buildinfo.Get()
	meta := []*File{mustJSON("version.json", info), mustJSON("flags.json", nonNil(cfg.Flags))}
	all = append(meta, all...)
	skips = append([]Skip{{Part: "upgrade-runs", Reason: ReasonNotPresent, Detail: "no upgrade journal exists (this version keeps none)"}}, skips...)

	man := &Manifest{Schema: SchemaVersion, Created: created, Tool: info, Namespace: cfg.Namespace, MaxSize: cfg.MaxSize, Logs: cfg.Logs,
		Clusters: sums, Skipped: skips, Cut: []Cut{}}
	keep := map[string]bool{"manifest.json": true, "version.json": true, "flags.json": true}
	// Reserve room for manifest.json: its size with every file listed, plus the cuts to come.
	reserve := int64(len(manifestJSON(man, all, logCuts))) + 4096
	kept, cuts, err := fit(all, cfg.MaxSize, reserve, keep)
	if err != nil {
		return nil, err
	}
	for {
		mf := &File{Path: "manifest.json", Data: manifestJSON(man, kept, withLogCuts(logCuts, cuts))}
		if err := mf.compress(); err != nil {
			return nil, err
		}
		final := append(append([]*File{}, kept...), mf)
		if archiveSize(final) <= cfg.MaxSize {
			all = final
			break
		}
		reserve += archiveSize(final) - cfg.MaxSize + 1024
		if kept, cuts, err = fit(kept, cfg.MaxSize, reserve+int64(len(mf.comp)), keep); err != nil {
			return nil, err
		}
	}
	n, err := writeAtomic(ctx, path, all, created)
	if err != nil {
		return nil, err
	}
	return summarize(man, path, n), nil
}

// withLogCuts merges the cuts made while the logs were read (a deadline, the bound) with those of fit: one
// entry per file, fit's when it cut the file further (its Bytes are the log's whole size either way), with
// the collection's reason kept in Detail when it was another one.
func withLogCuts(logCuts, fitCuts []Cut) []Cut {
	out := append([]Cut{}, fitCuts...)
	idx := map[string]int{}
	for i, c := range out {
		idx[c.Path] = i
	}
	for _, lc := range logCuts {
		i, ok := idx[lc.Path]
		if !ok {
			out = append(out, lc)
			continue
		}
		if lc.Reason != out[i].Reason {
			out[i].Detail = joinDetail(lc.Reason+": "+lc.Detail, out[i].Detail)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func joinDetail(a, b string) string {
	if b == "" {
		return a
	}
	return a + "; " + b
}

func reportTimeout(cfg Config) time.Duration {
	if cfg.ClusterTimeout > 0 {
		return cfg.ClusterTimeout
	}
	return time.Minute
}

// manifestJSON fills the manifest's files, cuts and counts and returns it as JSON.
func manifestJSON(man *Manifest, files []*File, cuts []Cut) []byte {
	man.Files = []FileEntry{}
	for i := range man.Clusters {
		man.Clusters[i].Files, man.Clusters[i].Bytes, man.Clusters[i].Gaps = 0, 0, 0
	}
	byDir := map[string]int{}
	for i, c := range man.Clusters {
		byDir[c.Dir+"/"] = i
	}
	for _, f := range files {
		man.Files = append(man.Files, FileEntry{Path: f.Path, Bytes: f.size()})
		for d, i := range byDir {
			if len(f.Path) > len(d) && f.Path[:len(d)] == d {
				man.Clusters[i].Files++
				man.Clusters[i].Bytes += f.size()
			}
		}
	}
	man.Files = append(man.Files, FileEntry{Path: "manifest.json"})
	man.Cut = append([]Cut{}, cuts...)
	man.Gaps = 0
	for _, s := range man.Skipped {
		if IsGap(s.Reason) {
			man.Gaps++
			for i, c := range man.Clusters {
				if c.Context == s.Cluster && s.Cluster != "" {
					man.Clusters[i].Gaps++
				}
			}
		}
	}
	b, _ := json.MarshalIndent(man, "", "  ")
	return append(b, '\n')
}

func summarize(man *Manifest, path string, n int64) *Summary {
	return &Summary{Schema: SchemaVersion, File: path, Bytes: n, MaxSize: man.MaxSize, Files: len(man.Files),
		Clusters: man.Clusters, Skipped: man.Skipped, Cut: man.Cut, Gaps: man.Gaps}
}

func mustJSON(path string, v any) *File {
	b, _ := json.MarshalIndent(v, "", "  ")
	return &File{Path: path, Data: append(b, '\n')}
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// clusterDirs names each cluster's folder after its context (made safe for a path, unique).
func clusterDirs(ts []fleet.Target) []string {
	out := make([]string, len(ts))
	seen := map[string]int{}
	for i, t := range ts {
		d := unsafeName.ReplaceAllString(t.Context, "_")
		if d == "" || d == "." || d == ".." || keepName(d) {
			d = "cluster-" + d
		}
		if n := seen[d]; n > 0 {
			d = fmt.Sprintf("%s-%d", d, n+1)
		}
		seen[d]++
		out[i] = d
	}
	return out
}

func keepName(d string) bool {
	return bytes.HasSuffix([]byte(d), []byte(".json"))
}
