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
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/skoala-dev/kubectl-skoala/pkg/redact"

	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

// Name is the ConfigMap of the journal; Key its data key.
const (
	Name = "kubectl-skoala-journal"
	Key  = "runs.json"
	// MaxRuns is how many runs the journal keeps (the oldest go first).
	MaxRuns = 20
	// Budget is the size in bytes the document stays under (a ConfigMap holds 1 MiB): beyond it the
	// releases finished runs left as they were are compacted, then the oldest runs are evicted.
	Budget = 768 << 10
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

// OutcomePaused is the outcome of an upgrade run that ended after its canary (--pause-after-canary):
// 'upgrade --resume' continues it. It is one more outcome word: the document's schema is unchanged, and
// a reader that does not know it (an older binary) keeps the run as it keeps any other.
const OutcomePaused = "paused"

// Run is one upgrade or rollback run.
type Run struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Seq is the journal's sequence number of the run, given under the ConfigMap's resourceVersion when
	// the run began: runs are ordered by it, never by a writer's clock (0 in runs written before it).
	Seq int64 `json:"seq,omitempty"`
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
	// Compacted is how many releases the run left as they were that were dropped from the record to keep
	// the journal under its Budget (the releases it changed are never dropped).
	Compacted int `json:"compacted,omitempty"`
}

// Release is what a run did to one release.
type Release struct {
	Context string `json:"context"`
	// Cluster is the identity of the cluster (nil in runs written before it was recorded): a rollback
	// matches a release by it, not by the context name, which differs between kubeconfigs.
	Cluster *ClusterIdentity `json:"cluster,omitempty"`
	Role    string           `json:"role"`
	Release string           `json:"release"`
	Chart   string           `json:"chart"`
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
	// Seq is the sequence number of the newest run (see Run.Seq).
	Seq int64 `json:"seq,omitempty"`
	// MovedAside names the ConfigMaps that hold journals that did not decode, kept as they were.
	MovedAside []string `json:"movedAside,omitempty"`
	Runs       []Run    `json:"runs"`
}

// Journal is what List reads: the runs and what the journal says of itself.
type Journal struct {
	// Runs are newest first.
	Runs []Run
	// MovedAside names the ConfigMaps that hold earlier journals that did not decode: the runs they hold
	// are not in Runs, so "no run to undo" is not known.
	MovedAside []string
}

// Store reads and writes the journal of one namespace of the control-plane cluster.
type Store struct {
	Client    kubernetes.Interface
	Namespace string
	// Max is the number of runs kept (MaxRuns when 0).
	Max int
	// Budget is the size in bytes the document stays under (Budget when 0).
	Budget int
	Now    func() time.Time
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

func (s *Store) budget() int {
	if s.Budget > 0 {
		return s.Budget
	}
	return Budget
}

// List returns the runs, newest first (none when there is no journal). A journal that does not decode
// is a *CorruptError.
func (s *Store) List(ctx context.Context) ([]Run, error) {
	j, err := s.Read(ctx)
	if err != nil {
		return nil, err
	}
	return j.Runs, nil
}

// Read returns the journal (empty when there is none). A journal that does not decode is a *CorruptError.
func (s *Store) Read(ctx context.Context) (*Journal, error) {
	cm, err := s.Client.CoreV1().ConfigMaps(s.Namespace).Get(ctx, Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return &Journal{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the journal %s/%s: %w", s.Namespace, Name, err)
	}
	doc, err := decode(cm)
	if err != nil {
		return nil, err
	}
	return &Journal{Runs: doc.Runs, MovedAside: doc.MovedAside}, nil
}

// Last returns the newest run (nil when there is none).
func (s *Store) Last(ctx context.Context) (*Run, error) {
	runs, err := s.List(ctx)
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	return &runs[0], nil
}

// CorruptError is a journal that does not decode (or has a schema this version does not read). It is
// never overwritten: the next write keeps it under another name (MovedAside) and starts a new journal.
type CorruptError struct {
	Namespace, Name string
	Reason          string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("the journal %s/%s does not decode (%s)", e.Namespace, e.Name, e.Reason)
}

func decode(cm *corev1.ConfigMap) (document, error) {
	var doc document
	raw := cm.Data[Key]
	if strings.TrimSpace(raw) == "" {
		for k := range cm.Data {
			if k != Key {
				return doc, &CorruptError{Namespace: cm.Namespace, Name: cm.Name, Reason: "it holds no " + Key + " but other data"}
			}
		}
		if len(cm.BinaryData) > 0 {
			return doc, &CorruptError{Namespace: cm.Namespace, Name: cm.Name, Reason: "it holds no " + Key + " but other data"}
		}
		return doc, nil
	}
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		return doc, &CorruptError{Namespace: cm.Namespace, Name: cm.Name, Reason: redact.String(err.Error())}
	}
	if doc.Schema != "" && doc.Schema != SchemaVersion {
		return doc, &CorruptError{Namespace: cm.Namespace, Name: cm.Name, Reason: fmt.Sprintf("schema %q, this version reads %s", doc.Schema, SchemaVersion)}
	}
	sortRuns(doc.Runs)
	return doc, nil
}

// sortRuns puts the newest first: by the journal's sequence number; runs written before it had one
// (Seq 0) come after every numbered run, by their start time.
func sortRuns(runs []Run) {
	sort.SliceStable(runs, func(i, j int) bool {
		if runs[i].Seq != runs[j].Seq {
			return runs[i].Seq > runs[j].Seq
		}
		if !runs[i].Started.Equal(runs[j].Started) {
			return runs[i].Started.After(runs[j].Started)
		}
		return runs[i].ID > runs[j].ID
	})
}

// Begin records a new run (newest first, with the next sequence number), dropping the oldest beyond Max
// and beyond the Budget. It fails (and nothing is recorded) when the run cannot be kept under the Budget.
func (s *Store) Begin(ctx context.Context, run Run) error {
	if run.Outcome == "" {
		run.Outcome = OutcomeRunning
	}
	if run.Updated.IsZero() {
		run.Updated = s.now().UTC()
	}
	return s.modify(ctx, run.ID, func(doc *document) error {
		doc.Seq++
		run.Seq = doc.Seq
		doc.Runs = append([]Run{scrub(run)}, doc.Runs...)
		if len(doc.Runs) > s.max() {
			doc.Runs = doc.Runs[:s.max()]
		}
		return nil
	})
}

// Update changes the run id with fn (its Updated time is set).
func (s *Store) Update(ctx context.Context, id string, fn func(*Run)) error {
	return s.modify(ctx, id, func(doc *document) error {
		for i := range doc.Runs {
			if doc.Runs[i].ID == id {
				fn(&doc.Runs[i])
				doc.Runs[i].Updated = s.now().UTC()
				doc.Runs[i] = scrub(doc.Runs[i])
				return nil
			}
		}
		return fmt.Errorf("the journal %s/%s has no run %s (it keeps the last %d)", s.Namespace, Name, id, s.max())
	})
}

// TooBigError is a journal that cannot hold the run being written under its budget.
type TooBigError struct {
	Namespace string
	Size      int
	Budget    int
}

func (e *TooBigError) Error() string {
	return fmt.Sprintf("the journal %s/%s cannot keep this run under its budget of %d bytes (%d bytes with only this run)", e.Namespace, Name, e.Budget, e.Size)
}

// modify reads, changes and writes the journal, retrying when another writer got there first (every
// write carries the resourceVersion read, so the sequence number is given once). A journal that does not
// decode is first kept under another name (moveAside), never overwritten. keep is the run written: it is
// never evicted to fit the budget.
func (s *Store) modify(ctx context.Context, keep string, fn func(*document) error) error {
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
		old := cm.DeepCopy()
		doc, err := decode(cm)
		var ce *CorruptError
		if errors.As(err, &ce) {
			kept, merr := s.moveAside(ctx, cm)
			if merr != nil {
				return fmt.Errorf("%v, and it could not be kept under another name before a new one is started: %w", ce, merr)
			}
			doc = document{MovedAside: []string{kept}}
		}
		if err := fn(&doc); err != nil {
			return err
		}
		b, err := s.fit(&doc, keep)
		if err != nil {
			return err
		}
		if create {
			cm.Data = map[string]string{Key: string(b)}
			_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
		} else {
			_, err = cms.Patch(ctx, Name, types.MergePatchType, replacePatch(old, string(b)), metav1.PatchOptions{})
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

// replacePatch is the JSON merge patch that makes old's data {Key: doc} and nothing else, on the
// condition that it is still at the resourceVersion read (a merge patch that names a resourceVersion is
// refused with a conflict otherwise). A patch, not an update: hack/rbac/upgrade.yaml grants patch on
// ConfigMaps, as the charts need it.
func replacePatch(old *corev1.ConfigMap, doc string) []byte {
	data := map[string]any{Key: doc}
	for k := range old.Data {
		if k != Key {
			data[k] = nil
		}
	}
	patch := map[string]any{"metadata": map[string]any{"resourceVersion": old.ResourceVersion}, "data": data}
	if len(old.BinaryData) > 0 {
		bin := map[string]any{}
		for k := range old.BinaryData {
			bin[k] = nil
		}
		patch["binaryData"] = bin
	}
	b, _ := json.Marshal(patch)
	return b
}

// fit encodes doc under the budget: first the releases that finished runs left as they were are
// compacted (dropped and counted), then the oldest runs are evicted, never the run keep. It fails when
// keep alone does not fit.
func (s *Store) fit(doc *document, keep string) ([]byte, error) {
	doc.Schema = SchemaVersion
	b, err := json.Marshal(doc)
	if err != nil || len(b) <= s.budget() {
		return b, err
	}
	for i := len(doc.Runs) - 1; i >= 0; i-- { // oldest first
		compact(&doc.Runs[i])
	}
	for {
		if b, err = json.Marshal(doc); err != nil || len(b) <= s.budget() {
			return b, err
		}
		evicted := false
		for i := len(doc.Runs) - 1; i >= 0; i-- {
			if doc.Runs[i].ID != keep {
				doc.Runs = append(doc.Runs[:i], doc.Runs[i+1:]...)
				evicted = true
				break
			}
		}
		if !evicted {
			return nil, &TooBigError{Namespace: s.Namespace, Size: len(b), Budget: s.budget()}
		}
	}
}

// compact drops the releases a finished run left as they were (no new revision, not running).
func compact(r *Run) {
	if !r.Done() {
		return
	}
	kept := r.Releases[:0]
	for _, rel := range r.Releases {
		if rel.Changed() || rel.Outcome == OutcomeRunning {
			kept = append(kept, rel)
			continue
		}
		r.Compacted++
	}
	r.Releases = kept
}

// moveAside copies the ConfigMap cm (a journal that does not decode) to <Name>-corrupt-<UTC time>, as it
// is, and returns that name.
func (s *Store) moveAside(ctx context.Context, cm *corev1.ConfigMap) (string, error) {
	cms := s.Client.CoreV1().ConfigMaps(s.Namespace)
	base := Name + "-corrupt-" + s.now().UTC().Format("20060102-150405")
	for i := 0; i < 5; i++ {
		name := base
		if i > 0 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		kept := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.Namespace,
			Labels:      map[string]string{"app.kubernetes.io/managed-by": "kubectl-skoala"},
			Annotations: map[string]string{"skoala.io/moved-aside-from": Name}},
			Data: cm.Data, BinaryData: cm.BinaryData}
		_, err := cms.Create(ctx, kept, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			continue
		}
		if err != nil {
			return "", err
		}
		return name, nil
	}
	return "", fmt.Errorf("%s and 4 more names are taken", base)
}

// ClusterIdentity is who a cluster is, whatever a kubeconfig calls it: the API server's URL and the UID
// of its kube-system namespace. A rollback matches the releases of a run by it (by the UID; the URL is
// for people, as one cluster has several). Callers that proved a cluster's identity otherwise (--fleet
// kpanda) supply it; Identify reads it.
type ClusterIdentity struct {
	Server        string `json:"server,omitempty"`
	KubeSystemUID string `json:"kubeSystemUID,omitempty"`
}

// Identities are the clusters' identities by context name.
type Identities map[string]ClusterIdentity

// Identify reads the identity of the cluster of client at server (the UID is empty when kube-system
// may not be read: then the context name is what matches).
func Identify(ctx context.Context, client kubernetes.Interface, server string) ClusterIdentity {
	id := ClusterIdentity{Server: server}
	if uid, err := kube.KubeSystemUID(ctx, client); err == nil {
		id.KubeSystemUID = uid
	}
	return id
}

// Matches says whether the release was recorded on the cluster id that a kubeconfig calls context: by
// the kube-system UID when both sides know it, else by the context name (runs written before identities
// were recorded, or an identity that may not read kube-system).
func (r Release) Matches(id ClusterIdentity, context string) bool {
	if r.Cluster != nil && r.Cluster.KubeSystemUID != "" && id.KubeSystemUID != "" {
		return r.Cluster.KubeSystemUID == id.KubeSystemUID
	}
	return r.Context == context
}

// FindOn returns the release of the run on the cluster id, called context here (nil when the run did
// not list it).
func (r *Run) FindOn(id ClusterIdentity, context, release string) *Release {
	for i := range r.Releases {
		if r.Releases[i].Release == release && r.Releases[i].Matches(id, context) {
			return &r.Releases[i]
		}
	}
	return nil
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

// Resumable reports whether 'upgrade --resume' may continue the run: an upgrade run not undone that
// did not end upgraded (paused, failed, timed out, rolled back, interrupted, or killed while running).
func (r Run) Resumable() bool {
	return r.Kind == KindUpgrade && r.UndoneBy == "" && r.Outcome != "upgraded" && r.Outcome != "up-to-date"
}

// LastResumable is the newest upgrade run when 'upgrade --resume' may continue it (nil otherwise: a
// newer upgrade run that ended, or none, is never skipped over to an older one).
func LastResumable(runs []Run) *Run {
	for i := range runs {
		if runs[i].Kind != KindUpgrade {
			continue
		}
		if runs[i].Resumable() {
			return &runs[i]
		}
		return nil
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
