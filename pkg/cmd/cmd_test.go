package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
	"github.com/skoala-dev/kubectl-skoala/pkg/golden"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk/helmtest"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

// fakeClusters is a kubeconfig of fake clusters: the current context and each context's objects. A
// context without an entry does not exist (a kubeconfig error); onCluster runs on every client request.
type fakeClusters struct {
	current   string
	clusters  map[string]*kube.Cluster
	onCluster func(context string)
}

func (f *fakeClusters) Cluster(name string) (*kube.Cluster, error) {
	if f.onCluster != nil {
		f.onCluster(name)
	}
	c, ok := f.clusters[name]
	if !ok {
		return nil, &kube.ConfigError{Context: name, Err: fmt.Errorf("context %q does not exist", name)}
	}
	return c, nil
}

func (f *fakeClusters) CurrentContext() (string, error) { return f.current, nil }

func (f *fakeClusters) Contexts() ([]string, error) {
	var out []string
	for n := range f.clusters {
		out = append(out, n)
	}
	return out, nil
}

func (f *fakeClusters) RequestTimeout() time.Duration { return 0 }

const ns = "skoala-system"

func release(name, chart, v string) k8sruntime.Object {
	return helmtest.Secret(helmtest.Spec{Name: name, Namespace: ns, Revision: 2, Status: "deployed", Chart: chart, Version: v,
		Values: map[string]any{"hive": map[string]any{"image": map[string]any{"tag": "v" + v}}}})
}

func cluster(name string, objs ...k8sruntime.Object) *kube.Cluster {
	c := fake.NewSimpleClientset(objs...)
	c.Discovery().(*fakediscovery.FakeDiscovery).FakedServerVersion = &version.Info{GitVersion: "v1.31.4", Platform: "linux/s390x"}
	return &kube.Cluster{Context: name, Client: c}
}

// theFleet is a control plane at 0.28.1 and a workspace at 0.28.0.
func theFleet() *fakeClusters {
	return &fakeClusters{current: "global", clusters: map[string]*kube.Cluster{
		"global":      cluster("global", release("skoala", "skoala", "0.28.1")),
		"workspace-1": cluster("workspace-1", release("skoala-init", "skoala-init", "0.28.0")),
	}}
}

// helmHome writes Helm's repositories.yaml and the cached index of skoala-release (modified at a fixed
// time) into a temporary directory and points HELM_* at it.
func helmHome(t *testing.T, indexTime time.Time) string {
	t.Helper()
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	repos := "apiVersion: v1\nrepositories:\n- name: skoala-release\n  url: " + helmsdk.OfficialRepoURL + "\n"
	var b strings.Builder
	b.WriteString("apiVersion: v1\nentries:\n")
	for _, chart := range []string{"skoala", "skoala-init"} {
		fmt.Fprintf(&b, "  %s:\n", chart)
		for i, v := range []string{"0.28.0", "0.28.1", "0.33.3", "0.34.0", "0.58.0-rc.1"} {
			fmt.Fprintf(&b, "  - name: %s\n    version: %s\n    appVersion: %s\n    apiVersion: v2\n    created: \"2026-01-%02dT10:00:00Z\"\n    urls: [%s-%s.tgz]\n", chart, v, v, i+1, chart, v)
		}
	}
	idx := filepath.Join(cache, "skoala-release-index.yaml")
	for p, s := range map[string]string{filepath.Join(dir, "repositories.yaml"): repos, idx: b.String()} {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(idx, indexTime, indexTime); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HELM_REPOSITORY_CONFIG", filepath.Join(dir, "repositories.yaml"))
	t.Setenv("HELM_REPOSITORY_CACHE", cache)
	return dir
}

// cmdTestCase is one command line: arguments in; stdout, stderr and the exit code out, over fakes (as
// Helm's cmdTestCase). The goldens are testdata/<golden>.out and .err; the temporary Helm home reads $HOME.
type cmdTestCase struct {
	name   string
	args   []string
	golden string
	code   int
	// clusters defaults to theFleet(); noRepo leaves repositories.yaml out.
	clusters *fakeClusters
	noRepo   bool
	// freshIndex dates the index two hours back from now rather than 2026-02-01 (doctor judges its age).
	freshIndex bool
	// mask replaces, in stdout and stderr, each key by its value (a test server's address, ...).
	mask map[string]string
	// dynamic is the dynamic client and REST mapper of every cluster (verify).
	dynamic func(c *kube.Cluster) (dynamic.Interface, meta.RESTMapper, error)
}

func runCmd(t *testing.T, ctx context.Context, tc cmdTestCase) (string, string, int) {
	t.Helper()
	for _, k := range []string{"HELM_NAMESPACE", "HELM_KUBECONTEXT", "HELM_PLUGIN_NAME", "HELM_DRIVER", "HELM_DEBUG", "NO_COLOR"} {
		t.Setenv(k, "")
	}
	home := t.TempDir()
	if !tc.noRepo {
		at := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
		if tc.freshIndex {
			at = time.Now().Add(-2 * time.Hour)
		}
		home = helmHome(t, at)
	} else {
		t.Setenv("HELM_REPOSITORY_CONFIG", filepath.Join(home, "repositories.yaml"))
		t.Setenv("HELM_REPOSITORY_CACHE", filepath.Join(home, "cache"))
	}
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	g := cli.NewGlobals(streams)
	g.Name = "kubectl skoala"
	if tc.clusters == nil {
		tc.clusters = theFleet()
	}
	g.Clusters = tc.clusters
	// Helm's clients of the fake clusters: the release records are the Secrets of the fake clientset
	// (Helm's own Secrets driver), and the Kubernetes client prints instead of applying.
	g.HelmClients = func(c *kube.Cluster, namespace, _ string, _ func(string, ...any)) (*helmsdk.Client, error) {
		return helmsdk.NewFakeClient(c.Client, namespace), nil
	}
	g.Dynamic = tc.dynamic
	code := execute(ctx, streams, newCmdSkoala(g), tc.args)
	pairs := []string{home, "$HELM_HOME", runtime.Version(), "$GOVERSION", runtime.GOOS + "/" + runtime.GOARCH, "$PLATFORM"}
	for k, v := range tc.mask {
		pairs = append(pairs, k, v)
	}
	clean := strings.NewReplacer(pairs...).Replace
	return clean(out.String()), clean(errOut.String()), code
}

func runCmdTests(t *testing.T, cases []cmdTestCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runCmd(t, context.Background(), tc)
			if code != tc.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			golden.Assert(t, tc.golden+".out", []byte(stdout))
			golden.Assert(t, tc.golden+".err", []byte(stderr))
		})
	}
}

func TestVerbs(t *testing.T) {
	ws := []string{"-w", "workspace-1"}
	with := func(a ...[]string) []string {
		var out []string
		for _, x := range a {
			out = append(out, x...)
		}
		return out
	}
	var cases []cmdTestCase
	for _, o := range []string{"table", "json", "yaml"} {
		cases = append(cases,
			cmdTestCase{name: "version --client -o " + o, args: []string{"version", "--client", "-o", o}, golden: "version-client-" + o},
			cmdTestCase{name: "version -o " + o, args: []string{"version", "-o", o}, golden: "version-" + o},
			cmdTestCase{name: "versions -o " + o, args: with([]string{"versions", "-o", o}, ws), golden: "versions-" + o},
			cmdTestCase{name: "status -o " + o, args: with([]string{"status", "-o", o}, ws), golden: "status-" + o},
			cmdTestCase{name: "doctor --category repository -o " + o, args: []string{"doctor", "--category", "repository", "-o", o}, golden: "doctor-repository-" + o, freshIndex: true},
			cmdTestCase{name: "backup-values --list -o " + o, args: []string{"backup-values", "--list", "--dir", "testdata/no-backups", "-o", o}, golden: "backup-list-" + o},
		)
	}
	cases = append(cases,
		cmdTestCase{name: "versions skoala-init --all --no-clusters", args: []string{"versions", "skoala-init", "--all", "--no-clusters"}, golden: "versions-init-all"},
		cmdTestCase{name: "versions without a repository fails", args: []string{"versions", "--no-clusters"}, golden: "versions-no-repo", code: 1, noRepo: true},
		cmdTestCase{name: "status of a context the kubeconfig lacks fails", args: []string{"status"}, golden: "status-unknown-context", code: 1,
			clusters: &fakeClusters{current: "gone", clusters: map[string]*kube.Cluster{}}},
		cmdTestCase{name: "status --exit-code", args: with([]string{"status", "--exit-code", "-o", "json"}, ws), golden: "status-exit-code", code: 3},
		cmdTestCase{name: "an unknown verb is a usage error", args: []string{"frobnicate"}, golden: "unknown-verb", code: 2},
		cmdTestCase{name: "an unknown flag is a usage error", args: []string{"status", "--frobnicate"}, golden: "unknown-flag", code: 2},
		cmdTestCase{name: "a bad -o is a usage error", args: []string{"status", "-o", "xml"}, golden: "bad-output", code: 2},
		cmdTestCase{name: "a bad --color is a usage error", args: []string{"status", "--color", "sometimes"}, golden: "bad-color", code: 2},
	)
	runCmdTests(t, cases)
}

// TestExecuteExitCodes is the exit-code contract of Main: 0/1/2/3/124/130.
func TestExecuteExitCodes(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		name    string
		ctx     context.Context
		err     error
		code    int
		wantErr string
	}{
		{"exits 0 on success", context.Background(), nil, 0, ""},
		{"exits 1 on a failure", context.Background(), errors.New("boom"), 1, "error: boom\n"},
		{"exits 1 with the hint of a failure", context.Background(), exit.Failf("do this", "cluster %s: down", "a"), 1, "error: cluster a: down\nhint: do this\n"},
		{"exits 2 on a usage error, with where help is", context.Background(), exit.Usagef("--x and --y are mutually exclusive"), 2, "error: --x and --y are mutually exclusive\nhint: see 'kubectl skoala t --help' for usage\n"},
		{"exits 3 silently when problems were found", context.Background(), exit.Silent{Code: exit.Problems}, 3, ""},
		{"exits 124 on a timeout", context.Background(), exit.New(exit.Timeout, errors.New("rollout of skoala timed out"), ""), 124, "error: rollout of skoala timed out\n"},
		{"exits 130 when interrupted", cancelled, fmt.Errorf("while reading cluster a: %w", context.Canceled), 130, "error: interrupted\n"},
		{"exits 1 on a cancellation that was no interrupt", context.Background(), context.Canceled, 1, "error: context canceled\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			root := &cobra.Command{Use: "kubectl-skoala", SilenceErrors: true, SilenceUsage: true,
				Annotations: map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl skoala"}}
			root.AddCommand(&cobra.Command{Use: "t", RunE: func(*cobra.Command, []string) error { return c.err }})
			code := execute(c.ctx, genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, root, []string{"t"})
			if code != c.code || errOut.String() != c.wantErr {
				t.Fatalf("execute = %d, stderr %q; want %d, %q", code, errOut.String(), c.code, c.wantErr)
			}
		})
	}
}

// TestInterruptWhileReadingClustersExits130: a Ctrl-C that arrives while a verb reads the clusters (the
// gathering of status, doctor and backup-values) ends it with 130. (upgrade builds its Helm clients from
// the cluster's REST config, which these fakes lack: its planning interrupt is tested by its own package.)
func TestInterruptWhileReadingClustersExits130(t *testing.T) {
	for _, verb := range [][]string{
		{"status", "-w", "workspace-1"},
		{"doctor", "-w", "workspace-1", "--category", "kubernetes"},
		{"backup-values", "-w", "workspace-1"},
	} {
		t.Run(verb[0], func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			f := theFleet()
			f.onCluster = func(name string) {
				if name == "workspace-1" {
					cancel() // the Ctrl-C: signal.NotifyContext cancels the context Main runs the verb in
				}
			}
			args := append(append([]string{}, verb...), "--dir", t.TempDir(), "--backup-dir", t.TempDir())
			args = trimUnknown(verb[0], args)
			stdout, stderr, code := runCmd(t, ctx, cmdTestCase{args: args, clusters: f})
			if code != exit.Interrupted || !strings.Contains(stderr, "error: interrupted") {
				t.Fatalf("exit code %d, stderr %q (stdout %q); want 130 and 'error: interrupted'", code, stderr, stdout)
			}
		})
	}
}

// trimUnknown drops --dir where the verb has no such flag, and --backup-dir.
func trimUnknown(verb string, args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if (args[i] == "--dir" && verb != "backup-values") || args[i] == "--backup-dir" {
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}
