package helmsdk

import (
	"context"
	"fmt"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/product"
)

// RepoStatus is the skoala repository as the reports show it: which one, its cached index, and why
// versions cannot be compared when they cannot.
type RepoStatus struct {
	Name      string    `json:"name,omitempty"`
	URL       string    `json:"url,omitempty"`
	Index     string    `json:"index,omitempty"`
	IndexTime time.Time `json:"indexTime,omitempty"`
	Refreshed bool      `json:"refreshed,omitempty"`
	// Error says why versions could not be compared ("" when they could).
	Error string `json:"error,omitempty"`
	Hint  string `json:"hint,omitempty"`
}

// RefreshWarning is the warning of a --refresh that failed, when the cached index is used instead.
func RefreshWarning(repo string, err error) string {
	return fmt.Sprintf("could not refresh the index of %s, using the cached one: %v", repo, err)
}

// LoadRepository finds the skoala repository in repositories.yaml (want: a name or URL, "" to find it by
// the official URL, then by name) and loads its cached index, refreshing it first when asked. It never
// fails: the returned status says why there is no index (nil then), and a refresh that failed is a
// warning (RefreshWarning) with the cached index used. status, versions and doctor all load it here.
func LoadRepository(ctx context.Context, env Env, want string, refresh bool, timeout time.Duration) (*RepoStatus, *Index, []string) {
	if IsOCI(want) {
		return loadOCIStatus(ctx, env, want, timeout) // oci.go
	}
	var warnings []string
	repos, err := LoadRepositories(env.RepositoryConfig, env.RepositoryCache)
	if err != nil {
		return &RepoStatus{Error: err.Error(), Hint: "add the repository: " + AddRepoCommand(want)}, nil, nil
	}
	r, err := FindRepository(repos, want)
	if err != nil {
		return &RepoStatus{Error: fmt.Sprintf("%v in %s", err, env.RepositoryConfig), Hint: "add it: " + AddRepoCommand(want)}, nil, nil
	}
	out := &RepoStatus{Name: r.Name, URL: r.URL, Index: r.IndexPath}
	if refresh {
		if err := RefreshIndex(ctx, r, timeout); err != nil {
			warnings = append(warnings, RefreshWarning(r.Name, err))
		} else {
			out.Refreshed = true
		}
	}
	idx, err := LoadIndex(r.IndexPath)
	if err != nil {
		out.Error = err.Error()
		out.Hint = fmt.Sprintf("download it with 'helm repo update %s' (or --refresh)", r.Name)
		return out, nil, warnings
	}
	out.IndexTime = idx.ModTime.UTC()
	if len(idx.Versions(product.ChartSkoala)) == 0 && len(idx.Versions(product.ChartInit)) == 0 {
		out.Error = fmt.Sprintf("the index of repository %s has no skoala or skoala-init chart", r.Name)
		out.Hint = fmt.Sprintf("is %s the skoala repository? the official one is %s", r.URL, OfficialRepoURL)
		return out, nil, warnings
	}
	return out, idx, warnings
}
