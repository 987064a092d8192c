package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Cmd is one command line to run, with its environment and the exit codes that count as a good run.
type Cmd struct {
	Path string
	Args []string
	Env  []string
	// OK are the exit codes of a good run (default: 0).
	OK []int
	// RequestLog, when set, is given as SKOALA_REQUEST_LOG (only the plugin reads it).
	RequestLog string
}

func (c Cmd) String() string {
	return strings.TrimSpace(filepath.Base(c.Path) + " " + strings.Join(c.Args, " "))
}

// Sample is one run: wall time from fork to exit, the peak resident memory (getrusage ru_maxrss) and the CPU
// time the process used.
type Sample struct {
	Wall   time.Duration
	MaxRSS int64 // KiB
	CPU    time.Duration
	Code   int
}

// launcherArg, as the first argument, makes the benchmark's own binary a launcher (launch). Linux gives a
// child the high-water RSS of the process that forked it as its ru_maxrss floor (the child shares its
// parent's memory until exec): the benchmark grows to tens of MiB (fixtures, the big index), so it would
// report its own peak for every command. A small launcher forks the command instead, and measures it.
const launcherArg = "-bench-launch"

type launchResult struct {
	WallNs int64 `json:"wallNs"`
	CPUNs  int64 `json:"cpuNs"`
	MaxRSS int64 `json:"maxRssKiB"`
	Code   int   `json:"code"`
}

// launch runs args with the launcher's environment and standard streams and writes the child's figures as
// JSON to file descriptor 3.
func launch(args []string) int {
	res := os.NewFile(3, "result")
	if res == nil || len(args) == 0 {
		fmt.Fprintln(os.Stderr, "bench: the launcher needs a command and file descriptor 3")
		return 2
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, os.Stdout, os.Stderr
	start := time.Now()
	err := cmd.Run()
	r := launchResult{WallNs: int64(time.Since(start)), Code: -1}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		return 1
	}
	if ps := cmd.ProcessState; ps != nil {
		r.Code = ps.ExitCode()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			r.MaxRSS = ru.Maxrss
			r.CPUNs = ru.Utime.Nano() + ru.Stime.Nano()
		}
	}
	if err := json.NewEncoder(res).Encode(r); err != nil {
		return 1
	}
	return 0
}

// run runs c once, through the launcher, and returns its standard output. A run whose exit code is not one
// of c.OK is an error carrying its output.
func run(ctx context.Context, c Cmd, timeout time.Duration) (Sample, string, error) {
	self, err := os.Executable()
	if err != nil {
		return Sample{}, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, self, append([]string{launcherArg, c.Path}, c.Args...)...)
	cmd.Env = c.Env
	if c.RequestLog != "" {
		cmd.Env = append(append([]string(nil), c.Env...), "SKOALA_REQUEST_LOG="+c.RequestLog)
	}
	// The launcher and the command share a process group: a timeout kills both.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	pr, pw, err := os.Pipe()
	if err != nil {
		return Sample{}, "", err
	}
	defer pr.Close()
	cmd.ExtraFiles = []*os.File{pw}
	if err := cmd.Start(); err != nil {
		pw.Close()
		return Sample{}, "", fmt.Errorf("%s: %v", c, err)
	}
	pw.Close()
	resc := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(pr)
		resc <- b
	}()
	err = cmd.Wait()
	var r launchResult
	if jerr := json.Unmarshal(<-resc, &r); jerr != nil {
		if ctx.Err() != nil {
			return Sample{}, "", fmt.Errorf("%s: did not finish within %s", c, timeout)
		}
		return Sample{}, "", fmt.Errorf("%s: the launcher failed (%v)\n%s", c, err, tail(errb.String(), 2000))
	}
	s := Sample{Wall: time.Duration(r.WallNs), MaxRSS: r.MaxRSS, CPU: time.Duration(r.CPUNs), Code: r.Code}
	ok := c.OK
	if len(ok) == 0 {
		ok = []int{0}
	}
	for _, k := range ok {
		if s.Code == k {
			return s, out.String(), nil
		}
	}
	return s, "", fmt.Errorf("%s: exit code %d\nstdout:\n%s\nstderr:\n%s", c, s.Code, tail(out.String(), 2000), tail(errb.String(), 2000))
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// Item is one thing measured: a command, or several run back to back (the manual commands) whose wall
// times add up.
type Item struct {
	ID    string
	Label string
	Cmds  []Cmd
	// Make, when set, gives the commands of each run instead of Cmds (which then only name them in the
	// report): a push into a registry path of the run's own.
	Make func() []Cmd
	// Before, when set, runs before each run and is not measured: it puts back what the run changes (the
	// waves section's upgrades).
	Before func(context.Context) error
}

// runItem runs the commands of an item back to back: wall and CPU add up, memory is the largest.
func runItem(ctx context.Context, it Item, timeout time.Duration) (Sample, error) {
	var total Sample
	cmds := it.Cmds
	if it.Make != nil {
		cmds = it.Make()
	}
	if it.Before != nil {
		if err := it.Before(ctx); err != nil {
			return total, fmt.Errorf("before %s: %w", it.ID, err)
		}
	}
	for _, c := range cmds {
		s, _, err := run(ctx, c, timeout)
		if err != nil {
			return total, err
		}
		total.Wall += s.Wall
		total.CPU += s.CPU
		total.MaxRSS = max(total.MaxRSS, s.MaxRSS)
	}
	return total, nil
}

// Figure is the summary of an item's runs.
type Figure struct {
	ID        string    `json:"id"`
	Label     string    `json:"label"`
	Commands  []string  `json:"commands"`
	Runs      int       `json:"runs"`
	MedianMS  float64   `json:"medianMs"`
	MinMS     float64   `json:"minMs"`
	MaxMS     float64   `json:"maxMs"`
	CPUMS     float64   `json:"cpuMedianMs"`
	MaxRSSKiB int64     `json:"maxRssKiB"`
	WallMS    []float64 `json:"wallMs"`
	Retries   int       `json:"retries,omitempty"`
}

func msOf(d time.Duration) float64 { return math.Round(float64(d.Microseconds())/10) / 100 }

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func summarize(it Item, samples []Sample, retries int) Figure {
	f := Figure{ID: it.ID, Label: it.Label, Runs: len(samples), Retries: retries}
	for _, c := range it.Cmds {
		f.Commands = append(f.Commands, c.String())
	}
	var cpu []float64
	var rss []float64
	for _, s := range samples {
		f.WallMS = append(f.WallMS, msOf(s.Wall))
		cpu = append(cpu, msOf(s.CPU))
		rss = append(rss, float64(s.MaxRSS))
	}
	f.MedianMS = median(f.WallMS)
	f.CPUMS = median(cpu)
	f.MaxRSSKiB = int64(median(rss))
	if len(f.WallMS) > 0 {
		f.MinMS, f.MaxMS = f.WallMS[0], f.WallMS[0]
		for _, w := range f.WallMS {
			f.MinMS = math.Min(f.MinMS, w)
			f.MaxMS = math.Max(f.MaxMS, w)
		}
	}
	return f
}

// Rounds runs every item once per round, runs rounds, in an order that rotates from round to round (A B C,
// B C A, C A B, ...) so that no item always goes first or last; the machine's drift is shared by all.
// One warm-up round comes first and is not counted (page cache, kubectl's discovery cache, TLS session
// state of nothing: every run is a new process). A failed run is retried up to 2 times per round, after heal.
// heal, when not nil, is called after a failed run (it waits for the fleet to be healthy again).
func Rounds(ctx context.Context, items []Item, runs int, timeout time.Duration, progress func(string), heal func() error) ([]Figure, error) {
	samples := make([][]Sample, len(items))
	retries := make([]int, len(items))
	for r := -1; r < runs; r++ {
		for k := range items {
			i := k
			if r >= 0 {
				i = (k + r) % len(items)
			}
			var s Sample
			var err error
			for try := 0; try < 3; try++ {
				if s, err = runItem(ctx, items[i], timeout); err == nil {
					break
				}
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				if try == 2 {
					break
				}
				retries[i]++
				progress(fmt.Sprintf("run of %s failed (retrying): %v", items[i].ID, firstLines(err.Error(), 6)))
				time.Sleep(time.Second)
				if heal != nil {
					if herr := heal(); herr != nil {
						return nil, fmt.Errorf("%v (after: %v)", herr, err)
					}
				}
			}
			if err != nil {
				return nil, err
			}
			if r >= 0 {
				samples[i] = append(samples[i], s)
			}
		}
	}
	out := make([]Figure, len(items))
	for i, it := range items {
		out[i] = summarize(it, samples[i], retries[i])
	}
	return out, nil
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " | ")
}
