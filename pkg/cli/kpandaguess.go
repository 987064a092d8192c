package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

// The guess of a --fleet kpanda fleet: what the last run of a control plane proved, kept in the user's
// cache directory ($XDG_CACHE_HOME or ~/.cache, kubectl-skoala/kpanda-<hash>.json) as kubectl keeps its
// discovery there. It holds context and cluster names only, never a credential or a kubeconfig, and
// never a cluster reached through the kpanda API. A read-only verb may start reading the guessed
// clusters beside the discovery of this run (one round per cluster instead of two); what it read counts
// only for a target this run's discovery proves again (status.Config.Prefetched).

const guessSchema = "skoala.kpanda-guess/v1"

type guessFile struct {
	Schema       string         `json:"schema"`
	ControlPlane string         `json:"controlPlane"`
	Targets      []fleet.Target `json:"targets"`
}

// guessPath is the file of the control plane cp: by its context and its API server ("" when there is
// no cache directory or the factory is not a kubeconfig's).
func guessPath(fac ClusterFactory, cp string) string {
	kf, ok := fac.(*kube.Factory)
	if !ok {
		return ""
	}
	raw, err := kf.RawConfig()
	if err != nil || raw.Contexts[cp] == nil {
		return ""
	}
	server := ""
	if c := raw.Clusters[raw.Contexts[cp].Cluster]; c != nil {
		server = c.Server
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	sum := sha256.Sum256([]byte(cp + "\x00" + server))
	return filepath.Join(dir, "kubectl-skoala", "kpanda-"+hex.EncodeToString(sum[:8])+".json")
}

// Guess returns the targets the last --fleet kpanda run on this control plane proved, control plane
// first (nil without --fleet kpanda or without a guess).
func (f *FleetFlags) Guess(g *Globals) []fleet.Target {
	if f.Fleet != FleetKpanda {
		return nil
	}
	cp, err := g.Factory().CurrentContext()
	if err != nil {
		return nil
	}
	path := guessPath(g.Factory(), cp)
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var gf guessFile
	if json.Unmarshal(b, &gf) != nil || gf.Schema != guessSchema || gf.ControlPlane != cp || len(gf.Targets) == 0 ||
		gf.Targets[0].Context != cp || gf.Targets[0].Role != fleet.RoleControlPlane {
		return nil
	}
	for _, t := range gf.Targets {
		if t.Release != f.SkoalaRelease && t.Release != f.InitRelease {
			return nil // another --release: not this fleet's guess
		}
	}
	return gf.Targets
}

// saveGuess records the targets proven by a kubeconfig context of fac (best effort: a cache).
func saveGuess(fac ClusterFactory, cp string, proven []fleet.Target) {
	path := guessPath(fac, cp)
	if path == "" {
		return
	}
	b, err := json.Marshal(guessFile{Schema: guessSchema, ControlPlane: cp, Targets: proven})
	if err != nil {
		return
	}
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return
	}
	if os.MkdirAll(filepath.Dir(path), 0o700) != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".kpanda-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), path) != nil {
		_ = os.Remove(tmp.Name())
	}
}
