package main

import (
	"fmt"
	"strings"
	"time"
)

// Results is what results.json holds.
type Results struct {
	Schema      string         `json:"schema"`
	Started     time.Time      `json:"started"`
	Finished    time.Time      `json:"finished"`
	Machine     Machine        `json:"machine"`
	Config      Config         `json:"config"`
	Sections    []Section      `json:"sections"`
	Comparisons []Comparison   `json:"comparisons"`
	Figures     []Figure       `json:"figures"`
	Requests    []RequestCount `json:"requests"`
	Binaries    []Binary       `json:"binaries"`
	// Notes are facts about the fixtures a section found (what the verify commands exit with on them).
	Notes []string `json:"notes,omitempty"`
	// BudgetsOK is false when a request budget is exceeded (the benchmark then fails); TargetsOK when
	// any target is missed.
	BudgetsOK bool `json:"budgetsOk"`
	TargetsOK bool `json:"targetsOk"`
}

// Machine describes where the numbers come from.
type Machine struct {
	Cores     int     `json:"cores"`
	MemGiB    float64 `json:"memGiB"`
	GoVersion string  `json:"goVersion"`
	LoadStart string  `json:"loadStart"`
	LoadEnd   string  `json:"loadEnd"`
	Kubectl   string  `json:"kubectl"`
	Helm      string  `json:"helm"`
	Plugin    string  `json:"plugin"`
	// Baseline is the version of the -baseline binary (the Helm 3 SDK build), when given.
	Baseline string `json:"baseline,omitempty"`
}

// Section is how long a section took and the machine's load average after it.
type Section struct {
	Name      string  `json:"name"`
	Seconds   float64 `json:"seconds"`
	LoadAfter string  `json:"loadAfter"`
}

// Config is how the benchmark ran.
type Config struct {
	Runs          int    `json:"runs"`
	RTTms         int    `json:"rttMs"`
	BandwidthKBps int    `json:"bandwidthKBps"`
	Workspaces    []int  `json:"workspaces"`
	Revisions     int    `json:"revisions"`
	Plugin        string `json:"plugin"`
	Baseline      string `json:"baseline,omitempty"`
	Helm          string `json:"helm"`
	Kubectl       string `json:"kubectl"`
}

// Comparison is a ratio of two figures of the same run; Target 0 means for reference only.
type Comparison struct {
	ID    string  `json:"id"`
	Label string  `json:"label"`
	A     string  `json:"a"`
	B     string  `json:"b"`
	AMS   float64 `json:"aMedianMs"`
	BMS   float64 `json:"bMedianMs"`
	Ratio float64 `json:"ratio"`
	// CPURatio is the ratio of the CPU times (user + system) of A and B: what the wall-time ratio tends to
	// on a machine with idle cores.
	CPURatio float64 `json:"cpuRatio"`
	Target   float64 `json:"target,omitempty"`
	Pass     *bool   `json:"pass,omitempty"`
	Note     string  `json:"note,omitempty"`
}

// RequestCount is the API requests of one command line, counted by the plugin (SKOALA_REQUEST_LOG).
type RequestCount struct {
	ID            string  `json:"id"`
	Label         string  `json:"label"`
	Verb          string  `json:"verb"`
	Clusters      int     `json:"clusters"`
	Runs          int     `json:"runs"`
	Total         int     `json:"total"`
	PerClusterAvg float64 `json:"perClusterAvg"`
	PerClusterMax int     `json:"perClusterMax"`
	Budget        float64 `json:"budget"`
	Pass          bool    `json:"pass"`
	Errors        int     `json:"errors,omitempty"`
	// Discovery counts discovery and OpenAPI requests; UnselectedStorage lists of Secrets or ConfigMaps
	// without the release's label selector. Both must be 0.
	Discovery         int            `json:"discovery"`
	UnselectedStorage int            `json:"unselectedStorageReads"`
	Healthy           string         `json:"doctor,omitempty"`
	PeakRSSKiB        int64          `json:"peakRssKiB"`
	ByRequest         map[string]int `json:"byRequest"`
}

// Binary is a binary's size on disk.
type Binary struct {
	Name   string `json:"name"`
	Path   string `json:"path"`
	Bytes  int64  `json:"bytes"`
	Target int64  `json:"targetBytes,omitempty"`
	Pass   *bool  `json:"pass,omitempty"`
	Note   string `json:"note,omitempty"`
}

func boolp(b bool) *bool { return &b }

// evaluate checks the targets and the budgets and writes the notes of missed targets.
func (r *Results) evaluate() {
	for i := range r.Comparisons {
		c := &r.Comparisons[i]
		if c.Target <= 0 {
			continue
		}
		ok := c.Ratio <= c.Target && c.Ratio > 0
		c.Pass = boolp(ok)
		if !ok {
			r.TargetsOK = false
			over := c.Ratio - c.Target
			prec := 2
			if over < 0.01 {
				prec = 3
			}
			c.Note = fmt.Sprintf("missed by %.*fx (%.1f%% over the target)", prec, over, 100*over/c.Target)
		}
	}
	for i := range r.Binaries {
		b := &r.Binaries[i]
		if b.Target > 0 {
			b.Pass = boolp(b.Bytes <= b.Target)
			if !*b.Pass {
				r.TargetsOK = false
				over := b.Bytes - b.Target
				b.Note = fmt.Sprintf("missed by %d KB (%.2f%%)", (over+999)/1000, 100*float64(over)/float64(b.Target))
			}
		}
	}
	for _, q := range r.Requests {
		if !q.Pass {
			r.BudgetsOK = false
		}
	}
}

func verdict(p *bool) string {
	switch {
	case p == nil:
		return "reference"
	case *p:
		return "**met**"
	default:
		return "**missed**"
	}
}

func fmtMS(ms float64) string {
	if ms >= 1000 {
		return fmt.Sprintf("%.2f s", ms/1000)
	}
	return fmt.Sprintf("%.0f ms", ms)
}

// cell escapes the pipes of a table cell (a shell pipeline in a label or a command).
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func mb(b int64) string { return fmt.Sprintf("%.2f MB (%.1f MiB)", float64(b)/1e6, float64(b)/(1<<20)) }

// Markdown renders the results as the tables the README shows.
func (r *Results) Markdown() string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("\n### kubectl-skoala benchmark\n\n")
	p("%s; %d cores, %.0f GiB; load average %s at the start, %s at the end. Medians of %d runs; ratios are A/B of the same run.\n",
		r.Started.Format("2006-01-02 15:04 UTC"), r.Machine.Cores, r.Machine.MemGiB, r.Machine.LoadStart, r.Machine.LoadEnd, r.Config.Runs)
	var loads []string
	for _, s := range r.Sections {
		loads = append(loads, fmt.Sprintf("%s %s", s.Name, strings.Fields(s.LoadAfter + " ?")[0]))
	}
	if len(loads) > 0 {
		p("Load average (1 min) after each section: %s.\n", strings.Join(loads, ", "))
	}
	p("Latency: toxiproxy, RTT %d ms, %d KB/s each way per cluster. kubectl %s; %s; kubectl-skoala %s.\n\n",
		r.Config.RTTms, r.Config.BandwidthKBps, strings.TrimPrefix(r.Machine.Kubectl, "Client Version: "), "helm "+r.Machine.Helm, r.Machine.Plugin)
	if r.Config.Baseline != "" {
		p("Baseline (-baseline, the B of the `v4 vs v3` rows): %s, kubectl-skoala %s.\n\n", r.Config.Baseline, r.Machine.Baseline)
	}

	if len(r.Comparisons) > 0 {
		p("| comparison | A | B | A/B | target | | CPU A/B |\n|---|---:|---:|---:|---:|---|---:|\n")
		for _, c := range r.Comparisons {
			t := "-"
			if c.Target > 0 {
				t = fmt.Sprintf("<= %.1fx", c.Target)
			}
			note := verdict(c.Pass)
			if c.Note != "" {
				note += ": " + c.Note
			}
			p("| %s | %s | %s | %.2fx | %s | %s | %.2fx |\n", cell(c.Label), fmtMS(c.AMS), fmtMS(c.BMS), c.Ratio, t, note, c.CPURatio)
		}
		p("\n")
	}
	for _, n := range r.Notes {
		p("- %s\n", n)
	}
	if len(r.Notes) > 0 {
		p("\n")
	}
	if len(r.Requests) > 0 {
		p("| API requests (counted by the plugin) | clusters | requests | per cluster: mean / max | budget (max) | peak RSS | |\n|---|---:|---:|---:|---:|---:|---|\n")
		for _, q := range r.Requests {
			note := "**within budget**"
			switch {
			case float64(q.PerClusterMax) > q.Budget:
				note = "**OVER BUDGET**"
			case q.Discovery > 0:
				note = fmt.Sprintf("**FAILED: %d discovery/OpenAPI requests**", q.Discovery)
			case q.UnselectedStorage > 0:
				note = fmt.Sprintf("**FAILED: %d unselected reads of Helm storage**", q.UnselectedStorage)
			}
			if q.Healthy != "" {
				note += "; doctor: " + q.Healthy
			}
			p("| %s | %d | %d | %.1f / %d | %.0f | %.0f MiB | %s |\n", q.Label, q.Clusters, q.Total, q.PerClusterAvg, q.PerClusterMax, q.Budget, float64(q.PeakRSSKiB)/1024, note)
		}
		p("\n")
		for _, q := range r.Requests {
			if q.Clusters > 2 {
				continue
			}
			var parts []string
			for _, k := range sortedKeys(q.ByRequest) {
				parts = append(parts, fmt.Sprintf("%d× `%s`", q.ByRequest[k], k))
			}
			p("- %s: %s\n", q.Label, strings.Join(parts, ", "))
		}
		p("\n")
	}
	if len(r.Binaries) > 0 {
		p("| binary (stripped) | size | target | |\n|---|---:|---:|---|\n")
		for _, bin := range r.Binaries {
			t := "-"
			if bin.Target > 0 {
				t = fmt.Sprintf("<= %.0f MB", float64(bin.Target)/1e6)
			}
			note := verdict(bin.Pass)
			if bin.Note != "" {
				note += ": " + bin.Note
			}
			p("| %s | %s | %s | %s |\n", bin.Name, mb(bin.Bytes), t, note)
		}
		p("\n")
	}
	if len(r.Figures) > 0 {
		p("<details><summary>Every figure (median, min, max of the wall time; median CPU time; median peak RSS)</summary>\n\n")
		p("| figure | commands | median | min | max | CPU | peak RSS |\n|---|---|---:|---:|---:|---:|---:|\n")
		for _, f := range r.Figures {
			cmds := strings.Join(f.Commands, "` + `")
			if len(cmds) > 110 {
				cmds = cmds[:107] + "..."
			}
			p("| %s | `%s` | %s | %s | %s | %s | %.0f MiB |\n", f.ID, cell(cmds), fmtMS(f.MedianMS), fmtMS(f.MinMS), fmtMS(f.MaxMS), fmtMS(f.CPUMS), float64(f.MaxRSSKiB)/1024)
		}
		p("\n</details>\n")
	}
	return b.String()
}
