// Package journal is the record of what every 'upgrade' and 'rollback' run did to the fleet, kept in the
// control-plane cluster, in the release namespace, where any operator with read rights sees it from any
// machine: one ConfigMap (never a Secret: it holds no values and no secrets) with the last MaxRuns runs.
//
// A run is written before its first change and updated after each release, so a run killed midway is
// still described. Each run says who (from a SelfSubjectReview), when, the target version and, per
// cluster and release, the revision and version before and after, the outcome and the steps done (CRDs
// applied, Jobs deleted, the names of the values changed: never a value).
package journal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/skoala-dev/kubectl-skoala/pkg/redact"
)

// Name is the ConfigMap of the journal; Key its data key.
const (
	Name = "kubectl-skoala-journal"
	Key  = "runs.json"
	// MaxRuns is how many runs the journal keeps (the oldest go first).
	MaxRuns = 20
	// SchemaVersion is the version of the runs document.
	SchemaVersion = "skoala.journal/v1"
)

// Kinds of run.
const (
	KindUpgrade  = "upgrade"
	KindRollback = "rollback"
)

// OutcomeRunning is the outcome of a run (or release) that has not ended, or was killed.
const OutcomeRunning = "running"

// Run is one upgrade or rollback run.
type Run struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Who is the identity of the operator (SelfSubjectReview), Host the machine it ran on, Tool the
	// kubectl-skoala version.
	Who     string    `json:"who"`
	Host    string    `json:"host,omitempty"`
	Tool    string    `json:"tool,omitempty"`
	Started time.Time `json:"started"`
	Updated time.Time `json:"updated"`
	// Finished is zero while the run has not ended (or was killed).
	Finished time.Time `json:"finished,omitempty"`
	// Target is the version an upgrade goes to ("" for a rollback).
	Target string `json:"target,omitempty"`
	// Outcome is OutcomeRunning until the run ends, then the verb's outcome.
	Outcome  string    `json:"outcome"`
	Message  string    `json:"message,omitempty"`
	Releases []Release `json:"releases"`
	// Undoes is the run a rollback undid; UndoneBy the rollback that undid this run.
	Undoes   string `json:"undoes,omitempty"`
	UndoneBy string `json:"undoneBy,omitempty"`
}

// Release is what a run did to one release.
type Release struct {
	Context string `json:"context"`
	Role    string `json:"role"`
	Release string `json:"release"`
	Chart   string `json:"chart"`
	// FromRevision and FromVersion are the release before the run (0, "": not installed).
	FromRevision int    `json:"fromRevision,omitempty"`
	FromVersion  string `json:"fromVersion,omitempty"`
	FromStatus   string `json:"fromStatus,omitempty"`
	// ToRevision and ToVersion are what the run left (0: it did not get there).
	ToRevision int    `json:"toRevision,omitempty"`
	ToVersion  string `json:"toVersion,omitempty"`
	Outcome    string `json:"outcome"`
	// Steps are the steps done, in order ("backup", "admission-jobs", "crds:<files>", "helm", "verify",
	// "values:<key>,<key>").
	Steps []string `json:"steps,omitempty"`
	// Backup is the values backup written before the change (a path: never the values).
	Backup string `json:"backup,omitempty"`
}

// Done reports whether the run has ended.
func (r Run) Done() bool { return !r.Finished.IsZero() }

// Find returns the release of the run on context (nil when the run did not list it).
func (r *Run) Find(context, release string) *Release {
	for i := range r.Releases {
		if r.Releases[i].Context == context && r.Releases[i].Release == release {
			return &r.Releases[i]
		}
	}
	return nil
}

// NewID returns a run id: the UTC time and 4 random bytes (sortable, unique enough).
func NewID(now time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

// document is the content of the ConfigMap's key.
type document struct {
	Schema string `json:"schema"`
	Runs   []Run  `json:"runs"`
}

// Store reads and writes the journal of one namespace of the control-plane cluster.
type Store struct {
	Client    kubernetes.Interface
	Namespace string
	// Max is the number of runs kept (MaxRuns when 0).
	Max int
	Now func() time.Time
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Store) max() int {
	if s.Max > 0 {
		return s.Max
	}
	return MaxRuns
}

// List returns the runs, newest first (none when there is no journal).
func (s *Store) List(ctx context.Context) ([]Run, error) {
	cm, err := s.Client.CoreV1().ConfigMaps(s.Namespace).Get(ctx, Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the journal %s/%s: %w", s.Namespace, Name, err)
	}
	doc, err := decode(cm)
	if err != nil {
		return nil, err
	}
	return doc.Runs, nil
}

// Last returns the newest run (nil when there is none).
func (s *Store) Last(ctx context.Context) (*Run, error) {
	runs, err := s.List(ctx)
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	return &runs[0], nil
}

func decode(cm *corev1.ConfigMap) (document, error) {
	var doc document
	raw := cm.Data[Key]
	if strings.TrimSpace(raw) == "" {
		return doc, nil
	}
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		return doc, fmt.Errorf("the journal %s/%s does not decode: %v", cm.Namespace, cm.Name, err)
	}
	sortRuns(doc.Runs)
	return doc, nil
}

func sortRuns(runs []Run) {
	sort.SliceStable(runs, func(i, j int) bool {
		if !runs[i].Started.Equal(runs[j].Started) {
			return runs[i].Started.After(runs[j].Started)
		}
		return runs[i].ID > runs[j].ID
	})
}

// Begin records a new run (newest first), dropping the oldest beyond Max.
func (s *Store) Begin(ctx context.Context, run Run) error {
	if run.Outcome == "" {
		run.Outcome = OutcomeRunning
	}
	if run.Updated.IsZero() {
		run.Updated = s.now().UTC()
	}
	return s.modify(ctx, func(runs []Run) ([]Run, error) {
		runs = append([]Run{scrub(run)}, runs...)
		if len(runs) > s.max() {
			runs = runs[:s.max()]
		}
		return runs, nil
	})
}

// Update changes the run id with fn (its Updated time is set).
func (s *Store) Update(ctx context.Context, id string, fn func(*Run)) error {
	return s.modify(ctx, func(runs []Run) ([]Run, error) {
		for i := range runs {
			if runs[i].ID == id {
				fn(&runs[i])
				runs[i].Updated = s.now().UTC()
				runs[i] = scrub(runs[i])
				return runs, nil
			}
		}
		return nil, fmt.Errorf("the journal %s/%s has no run %s (it keeps the last %d)", s.Namespace, Name, id, s.max())
	})
}

// modify reads, changes and writes the journal, retrying when another writer got there first (every
// write carries the resourceVersion read).
func (s *Store) modify(ctx context.Context, fn func([]Run) ([]Run, error)) error {
	cms := s.Client.CoreV1().ConfigMaps(s.Namespace)
	for attempt := 0; attempt < 5; attempt++ {
		cm, err := cms.Get(ctx, Name, metav1.GetOptions{})
		create := apierrors.IsNotFound(err)
		if err != nil && !create {
			return fmt.Errorf("reading the journal %s/%s: %w", s.Namespace, Name, err)
		}
		if create {
			cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: Name, Namespace: s.Namespace,
				Labels: map[string]string{"app.kubernetes.io/managed-by": "kubectl-skoala"}}}
		}
		doc, err := decode(cm)
		if err != nil && !create {
			// An unreadable journal is started afresh rather than blocking every run.
			doc = document{}
		}
		runs, err := fn(doc.Runs)
		if err != nil {
			return err
		}
		b, err := json.MarshalIndent(document{Schema: SchemaVersion, Runs: runs}, "", " ")
		if err != nil {
			return err
		}
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		cm.Data[Key] = string(b)
		if create {
			_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
		} else {
			_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
		}
		if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("writing the journal %s/%s: %w", s.Namespace, Name, err)
		}
		return nil
	}
	return errors.New("writing the journal: it changed under us five times")
}

// scrub masks whatever looks like a secret in the free-text fields (the journal never holds values, and
// a message may quote an error).
func scrub(r Run) Run {
	r.Message = redact.String(r.Message)
	for i := range r.Releases {
		for j, s := range r.Releases[i].Steps {
			r.Releases[i].Steps[j] = redact.String(s)
		}
	}
	return r
}

// Who names the identity of client's credentials, as a SelfSubjectReview says ("unknown" when the
// server cannot say).
func Who(ctx context.Context, client kubernetes.Interface) string {
	ssr, err := client.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || ssr == nil || ssr.Status.UserInfo.Username == "" {
		return "unknown"
	}
	return ssr.Status.UserInfo.Username
}

// Changed is what the run changed in a release: it got a new revision.
func (r Release) Changed() bool { return r.ToRevision > 0 && r.ToRevision != r.FromRevision }

// Summary is the run in one line: "upgrade 20261202T... to 0.57.2 by admin, 2026-12-02 01:02 UTC: upgraded (3 releases)".
func (r Run) Summary() string {
	var b strings.Builder
	b.WriteString(r.Kind + " " + r.ID)
	if r.Target != "" {
		b.WriteString(" to " + r.Target)
	}
	if r.Undoes != "" {
		b.WriteString(" (undoing " + r.Undoes + ")")
	}
	fmt.Fprintf(&b, " by %s, %s: %s", r.Who, r.Started.UTC().Format("2006-01-02 15:04 UTC"), r.Outcome)
	if !r.Done() {
		b.WriteString(" (not finished: killed, or still running)")
	}
	if r.UndoneBy != "" {
		b.WriteString(", undone by " + r.UndoneBy)
	}
	return b.String()
}

// LastUndoable is the newest upgrade run that no rollback has undone (nil when there is none). A
// rollback run is never undoable by a plain rollback.
func LastUndoable(runs []Run) *Run {
	for i := range runs {
		if runs[i].Kind == KindUpgrade && runs[i].UndoneBy == "" {
			return &runs[i]
		}
	}
	return nil
}

// ByID returns the run id (nil when the journal does not hold it).
func ByID(runs []Run, id string) *Run {
	for i := range runs {
		if runs[i].ID == id {
			return &runs[i]
		}
	}
	return nil
}

// Installed is the version a release runs now, for Half.
type Installed struct {
	Context, Release, Version string
}

// Half says whether the fleet is half-upgraded by run: some of the releases the run lists (and that
// are among installed) run its target, others do not. It returns the contexts at the target and the
// others; both empty when run is not an upgrade that is still in effect.
func Half(run *Run, installed []Installed) (at, behind []string) {
	if run == nil || run.Kind != KindUpgrade || run.UndoneBy != "" || run.Target == "" {
		return nil, nil
	}
	for _, in := range installed {
		if run.Find(in.Context, in.Release) == nil || in.Version == "" {
			continue
		}
		if in.Version == run.Target {
			at = append(at, in.Context)
		} else {
			behind = append(behind, in.Context)
		}
	}
	if len(at) == 0 || len(behind) == 0 {
		return nil, nil
	}
	return at, behind
}
