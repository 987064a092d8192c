// Package verify implements 'kubectl skoala verify': is what runs what was installed? For each release of
// the fleet it compares the release's manifest with the live objects (drift), the chart's CRD files with
// the live CRDs, the release record's size with the API server's limit, the images the chart renders with
// the ones running and the registry's digests, and the chart's provenance. Gather builds the Report (a plain
// view model with a stable JSON schema) and changes nothing; the verify command (pkg/cmd/verify) prints it.
package verify

// SchemaVersion is the version of the JSON/YAML schema of the report.
const SchemaVersion = "skoala.verify/v1"

// Report is the result of 'verify'.
type Report struct {
	Schema    string    `json:"schema"`
	Namespace string    `json:"namespace"`
	Clusters  []Cluster `json:"clusters"`
	// Differences counts what makes the exit code 3: drifted fields, missing and unmanaged objects, CRDs
	// that differ, images that differ, a provenance that fails, a cluster or release that cannot be read.
	Differences int `json:"differences"`
	// Warnings are fleet-level notes.
	Warnings []string `json:"warnings,omitempty"`
}

// Cluster is one kubeconfig context of the fleet.
type Cluster struct {
	Context   string    `json:"context"`
	Role      string    `json:"role"`
	Reachable bool      `json:"reachable"`
	Error     string    `json:"error,omitempty"`
	Hint      string    `json:"hint,omitempty"`
	Releases  []Release `json:"releases"`
}

// Release is what verify found of one release.
type Release struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Installed bool   `json:"installed"`
	Chart     string `json:"chart,omitempty"`
	Version   string `json:"version,omitempty"`
	Revision  int    `json:"revision,omitempty"`
	// Objects is how many objects of the manifest were compared.
	Objects int `json:"objects"`
	// Drift lists the objects whose live fields differ from the chart's.
	Drift []ObjectDrift `json:"drift"`
	// Missing are objects of the manifest the cluster lacks; NotInManifest are objects owned by the release
	// (Helm's meta.helm.sh/release-name annotation) that its manifest does not have.
	Missing       []ObjectRef `json:"missing"`
	NotInManifest []ObjectRef `json:"notInManifest"`
	CRDs          []CRD       `json:"crds"`
	Size          *Size       `json:"size,omitempty"`
	Images        []Image     `json:"images"`
	Provenance    *Provenance `json:"provenance,omitempty"`
	// Skipped are the parts that could not be read, with the right that is missing.
	Skipped []Skipped `json:"skipped"`
	Error   string    `json:"error,omitempty"`
	Hint    string    `json:"hint,omitempty"`
}

// ObjectRef names a Kubernetes object.
type ObjectRef struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

func (o ObjectRef) String() string { return o.Kind + "/" + o.Name }

// ObjectDrift is an object whose live fields differ from the ones the chart sets.
type ObjectDrift struct {
	ObjectRef
	Fields []Field `json:"fields"`
}

// CRD states.
const (
	CRDSame      = "same"
	CRDMissing   = "missing"
	CRDLiveOlder = "live-older"
	CRDLiveNewer = "live-newer"
	CRDChanged   = "changed"
)

// CRD is one CRD file of the installed chart against the live CRD.
type CRD struct {
	// File is the chart-relative path of the CRD file.
	File  string `json:"file"`
	Name  string `json:"name"`
	State string `json:"state"`
	// Detail says what differs (versions, bundle versions, fields).
	Detail string  `json:"detail,omitempty"`
	Fields []Field `json:"fields,omitempty"`
}

// Size is the newest release record against the API server's limit.
type Size struct {
	Object   string  `json:"object"`
	Revision int     `json:"revision"`
	Bytes    int     `json:"bytes"`
	Limit    int     `json:"limit"`
	Percent  float64 `json:"percent"`
	Warning  bool    `json:"warning"`
}

// Image states.
const (
	ImageSame          = "same"
	ImageDiffers       = "differs"
	ImageDigestDiffers = "digest-differs"
	ImageTagMoved      = "tag-moved"
	ImageUnknownDigest = "unknown"
	ImageNotRunning    = "not-running"
)

// Image is one container of a workload: the image the chart renders, the one running, and the digests.
type Image struct {
	Workload  string `json:"workload"`
	Container string `json:"container"`
	Chart     string `json:"chart"`
	Running   string `json:"running,omitempty"`
	// RunningDigest is the digest of the pods' imageID; RegistryDigest the registry's digest of Running's
	// reference now; PushedDigest the digest 'images push' recorded for it.
	RunningDigest  string `json:"runningDigest,omitempty"`
	RegistryDigest string `json:"registryDigest,omitempty"`
	PushedDigest   string `json:"pushedDigest,omitempty"`
	State          string `json:"state"`
	Detail         string `json:"detail,omitempty"`
}

// Provenance states.
const (
	ProvenanceVerified   = "verified"
	ProvenanceUnsigned   = "unsigned"
	ProvenanceFailed     = "failed"
	ProvenanceNotChecked = "not-checked"
)

// Provenance is the verification of the installed chart's .prov file with the keyring.
type Provenance struct {
	State    string `json:"state"`
	SignedBy string `json:"signedBy,omitempty"`
	Detail   string `json:"detail,omitempty"`
}

// Skipped is a part of the comparison that could not be read.
type Skipped struct {
	What string `json:"what"`
	// Right is the missing right ("get secrets in namespace skoala-system"), or why else it was skipped.
	Right string `json:"right"`
}

// Differences counts what differs in the release.
func (r Release) Differences() int {
	n := len(r.Missing) + len(r.NotInManifest)
	for _, d := range r.Drift {
		n += len(d.Fields)
	}
	for _, c := range r.CRDs {
		if c.State != CRDSame {
			n++
		}
	}
	for _, im := range r.Images {
		switch im.State {
		case ImageDigestDiffers, ImageTagMoved: // an image the chart does not render is drift already
			n++
		}
	}
	if r.Provenance != nil && r.Provenance.State == ProvenanceFailed {
		n++
	}
	if r.Error != "" {
		n++
	}
	return n
}
