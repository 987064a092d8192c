package upgrade

import (
	"context"
	"fmt"

	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
)

// loadOCI reads the chart versions of --repo oci://HOST/PATH from the registry's tag lists (issue 11;
// helmsdk.LoadOCIRepository); the charts are then downloaded from it by helmsdk.DownloadChart. --refresh
// has nothing to do: the tags are read on every run. It returns the plan's source line.
func loadOCI(ctx context.Context, cfg Config, repo **helmsdk.Repository, idx **helmsdk.Index) (string, error) {
	r, i, err := helmsdk.LoadOCIRepository(ctx, cfg.Env, cfg.Repo, cfg.RequestTimeout)
	if err != nil {
		if h := helmsdk.OCIHint(cfg.Repo, err); h != "" {
			return "", exit.New(exit.Failure, err, h)
		}
		return "", err
	}
	*repo, *idx = r, i
	return fmt.Sprintf("OCI registry %s", r.URL), nil
}
