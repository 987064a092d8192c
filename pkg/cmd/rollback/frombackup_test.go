package rollback

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/skoala-dev/kubectl-skoala/pkg/backup"
	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
)

// --from-backup acts where the file says; a --context, -n or --release that names another cluster,
// namespace or release is refused in one line, exit 2, before any cluster is asked (issue 24 §3).
func TestFromBackupRefusesAnotherContextNamespaceOrRelease(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KUBECONFIG", filepath.Join(dir, "kubeconfig")) // no cluster may be reached
	for _, k := range []string{"HELM_KUBECONTEXT", "HELM_NAMESPACE"} {
		t.Setenv(k, "")
	}
	b, err := backup.Encode(backup.Meta{Cluster: "global", Namespace: "skoala-system", Release: "skoala", Revision: 1, Chart: "skoala", Version: "0.28.1",
		Kind: backup.KindValues, Time: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}, map[string]any{"hive": map[string]any{"replicas": 1}})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "global_skoala.yaml")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		set  func(o *Options)
		want string
	}{
		{"--context", func(o *Options) { *o.g.ConfigFlags.Context = "workspace-1" }, "--context workspace-1 names another"},
		{"-n", func(o *Options) { *o.g.ConfigFlags.Namespace = "skoala-prod" }, "-n skoala-prod names another"},
		{"--release", func(o *Options) { o.Fleet.SkoalaRelease, o.releaseSet = "skoala-init", true }, "--release skoala-init names another"},
		{"helm --kube-context", func(o *Options) { o.g.Helm.KubeContext = "workspace-2" }, "--kube-context workspace-2 names another"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := NewOptions(cli.NewGlobals(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &strings.Builder{}, ErrOut: &strings.Builder{}}))
			o.FromBackup, o.BackupDir, o.Yes = file, dir, true
			c.set(o)
			if err := o.Validate(nil); err != nil {
				t.Fatal(err)
			}
			err := o.Run(context.Background())
			if err == nil || exit.CodeOf(err) != exit.Usage || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") || exit.HintOf(err) == "" {
				t.Fatalf("err %v (exit %d, hint %q), want one usage line with %q", err, exit.CodeOf(err), exit.HintOf(err), c.want)
			}
		})
	}
	t.Run("the flags that agree with the file are honoured", func(t *testing.T) {
		o := NewOptions(cli.NewGlobals(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &strings.Builder{}, ErrOut: &strings.Builder{}}))
		o.FromBackup, o.BackupDir, o.Yes = file, dir, true
		*o.g.ConfigFlags.Context, *o.g.ConfigFlags.Namespace = "global", "skoala-system"
		if err := o.Run(context.Background()); err == nil || strings.Contains(err.Error(), "names another") {
			t.Fatalf("err %v, want the missing cluster's error", err)
		}
	})
}
