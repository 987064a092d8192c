package cli

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
)

const guessKubeconfig = `apiVersion: v1
kind: Config
clusters:
- {name: g, cluster: {server: "https://127.0.0.1:1"}}
- {name: w, cluster: {server: "https://127.0.0.1:2"}}
users:
- {name: u, user: {token: guess-test-token-c4n4ry}}
contexts:
- {name: global, context: {cluster: g, user: u}}
- {name: workspace-1, context: {cluster: w, user: u}}
current-context: global
`

func guessGlobals(t *testing.T, kubeconfig string) *Globals {
	t.Helper()
	g := NewGlobals(genericiooptions.IOStreams{})
	*g.ConfigFlags.KubeConfig = kubeconfig
	return g
}

// TestGuessIsWhatTheLastRunProved: the fleet a --fleet kpanda run proved is kept by its control plane,
// holds names only (no credential, no server), and is given only for the same control plane and releases.
func TestGuessIsWhatTheLastRunProved(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	t.Setenv("HOME", dir)
	kc := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kc, []byte(guessKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	f := NewFleetFlags()
	f.Fleet = FleetKpanda
	g := guessGlobals(t, kc)
	if got := f.Guess(g); got != nil {
		t.Fatalf("a guess before any run: %v", got)
	}
	proven := []fleet.Target{{Context: "global", Role: fleet.RoleControlPlane, Release: f.SkoalaRelease},
		{Context: "workspace-1", Role: fleet.RoleWorkspace, Release: f.InitRelease, Registered: "ws-one"}}
	saveGuess(g.Factory(), "global", proven)
	if got := f.Guess(guessGlobals(t, kc)); !reflect.DeepEqual(got, proven) {
		t.Fatalf("guess %v, want %v", got, proven)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "cache", "kubectl-skoala", "kpanda-*.json"))
	if len(files) != 1 {
		t.Fatalf("guess files %v", files)
	}
	st, _ := os.Stat(files[0])
	b, _ := os.ReadFile(files[0])
	if st.Mode().Perm() != 0o600 || strings.Contains(string(b), "token") || strings.Contains(string(b), "127.0.0.1") {
		t.Errorf("guess file %s (mode %v): %s", files[0], st.Mode().Perm(), b)
	}
	other := NewFleetFlags()
	other.Fleet, other.InitRelease = FleetKpanda, "another-init"
	if got := other.Guess(guessGlobals(t, kc)); got != nil {
		t.Errorf("a guess for other releases: %v", got)
	}
	g2 := guessGlobals(t, kc)
	*g2.ConfigFlags.Context = "workspace-1"
	if got := f.Guess(g2); got != nil {
		t.Errorf("a guess for another control plane: %v", got)
	}
	noFleet := NewFleetFlags()
	if got := noFleet.Guess(guessGlobals(t, kc)); got != nil {
		t.Errorf("a guess without --fleet kpanda: %v", got)
	}
}
