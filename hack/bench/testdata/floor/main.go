// Command floor is the benchmark's measuring stick for start-up time and binary size: a program that links
// only the libraries the plugin is built on, reached the way `upgrade` and `rollback` reach them (the Helm
// SDK's upgrade, rollback, history, get-values, list and uninstall actions, its chart downloader with the OCI
// registry client, the repository index, cli-runtime's kubeconfig flags, a client-go clientset and cobra), and
// none of the plugin's own code. `make bench` builds it with the flags `make build` uses and reports its
// `--help` time and stripped size next to the plugin's: no plugin built on these libraries can start faster
// or be smaller.
//
// It lives under testdata so that `./...` (and with it the rule that only pkg/helmsdk imports the Helm SDK,
// hack/verify-helm-imports.sh) leaves it out: it is a measurement, not product code.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/cli"
	"helm.sh/helm/v4/pkg/downloader"
	"helm.sh/helm/v4/pkg/getter"
	"helm.sh/helm/v4/pkg/kube"
	"helm.sh/helm/v4/pkg/registry"
	repo "helm.sh/helm/v4/pkg/repo/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
)

func main() {
	flags := genericclioptions.NewConfigFlags(true)
	root := &cobra.Command{
		Use:   "floor CHART VERSION INDEX",
		Short: "Links what the plugin's upgrade and rollback need from its libraries, and nothing else",
		Args:  cobra.ExactArgs(3),
		RunE: func(_ *cobra.Command, args []string) error {
			return run(flags, args)
		},
	}
	flags.AddFlags(root.PersistentFlags())
	if err := root.Execute(); err != nil {
		os.Exit(1)
	}
}

// run calls every library entry point the plugin's verbs call, so that the linker keeps what they keep.
func run(flags *genericclioptions.ConfigFlags, args []string) error {
	rc, err := flags.ToRESTConfig()
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	if _, err := cs.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{}); err != nil {
		return err
	}
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(slog.DiscardHandler))
	if err := cfg.Init(flags, "default", "secret"); err != nil {
		return err
	}
	rcl, err := registry.NewClient()
	if err != nil {
		return err
	}
	dl := downloader.ChartDownloader{Getters: getter.All(cli.New()), RegistryClient: rcl, ContentCache: os.TempDir()}
	path, _, err := dl.DownloadTo(args[0], args[1], os.TempDir())
	if err != nil {
		return err
	}
	ch, err := loader.Load(path)
	if err != nil {
		return err
	}
	idx, err := repo.LoadIndexFile(args[2])
	if err != nil {
		return err
	}
	fmt.Println(len(idx.Entries))
	up := action.NewUpgrade(cfg)
	up.WaitStrategy = kube.StatusWatcherStrategy
	up.WaitOptions = []kube.WaitOption{kube.WithStatusComputeWorkers(8)}
	if _, err := up.RunWithContext(context.Background(), "x", ch, nil); err != nil {
		return err
	}
	rb := action.NewRollback(cfg)
	rb.WaitStrategy = kube.StatusWatcherStrategy
	if err := rb.Run("x"); err != nil {
		return err
	}
	if _, err := action.NewHistory(cfg).Run("x"); err != nil {
		return err
	}
	if _, err := action.NewGetValues(cfg).Run("x"); err != nil {
		return err
	}
	if _, err := action.NewList(cfg).Run(); err != nil {
		return err
	}
	_, err = action.NewUninstall(cfg).Run("x")
	return err
}
