package doctor

import (
	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"time"
)

// Status is a check's verdict.
type Status string

// The verdicts.
const (
	StatusOK   Status = "ok"
	StatusWarn Status = "warn"
	StatusFail Status = "fail"
	StatusSkip Status = "skip"
)

// SchemaVersion is the version of the JSON/YAML schema of the report; it changes only when a field is
// removed or changes meaning.
const SchemaVersion = "skoala.doctor/v1"

// Result is the verdict of one check on one cluster (Cluster is "" for checks that run once).
type Result struct {
	ID       string     `json:"id"`
	Category CategoryID `json:"category"`
	Cluster  string     `json:"cluster"`
	Status   Status     `json:"status"`
	Message  string     `json:"message"`
	Hint     string     `json:"hint"`
	// Duration is how long the check took (not part of the JSON: goldens and diffs stay stable).
	Duration time.Duration `json:"-"`
	// Cascade marks a skip because a check it needs did not pass (the table folds these).
	Cascade bool `json:"-"`
	// Description is the check's description (the table names folded checks by it).
	Description string `json:"-"`
}

// Summary counts the verdicts.
type Summary struct {
	OK   int `json:"ok"`
	Warn int `json:"warn"`
	Fail int `json:"fail"`
	Skip int `json:"skip"`
}

// Report is the outcome of a doctor run: the results in display order.
type Report struct {
	Schema    string         `json:"schema"`
	Mode      Mode           `json:"mode"`
	Target    string         `json:"targetVersion,omitempty"`
	Namespace string         `json:"namespace"`
	Clusters  []fleet.Target `json:"clusters"`
	Checks    []Result       `json:"checks"`
	Summary   Summary        `json:"summary"`
	// Success is false when a check failed (warnings do not count here; see FailedStrict).
	Success bool `json:"success"`
	// Elapsed is the wall time of the run (not in the JSON).
	Elapsed time.Duration `json:"-"`
}

// Failed reports whether any check failed.
func (r *Report) Failed() bool { return r.Summary.Fail > 0 }

// FailedStrict reports whether any check failed or warned (--strict).
func (r *Report) FailedStrict() bool { return r.Summary.Fail > 0 || r.Summary.Warn > 0 }

// Failures returns the failed checks.
func (r *Report) Failures() []Result { return r.with(StatusFail) }

// Warnings returns the checks that warned.
func (r *Report) Warnings() []Result { return r.with(StatusWarn) }

// Get returns the result of check id on cluster (cluster "" for the checks that run once).
func (r *Report) Get(id, cluster string) (Result, bool) {
	for _, c := range r.Checks {
		if c.ID == id && c.Cluster == cluster {
			return c, true
		}
	}
	return Result{}, false
}

func (r *Report) with(s Status) []Result {
	var out []Result
	for _, c := range r.Checks {
		if c.Status == s {
			out = append(out, c)
		}
	}
	return out
}

func (r *Report) count() {
	r.Summary = Summary{}
	for _, c := range r.Checks {
		switch c.Status {
		case StatusOK:
			r.Summary.OK++
		case StatusWarn:
			r.Summary.Warn++
		case StatusFail:
			r.Summary.Fail++
		case StatusSkip:
			r.Summary.Skip++
		}
	}
	r.Success = r.Summary.Fail == 0
}
