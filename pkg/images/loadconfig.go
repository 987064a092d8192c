package images

import (
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/yaml"
)

// LoadConfig is the part of charts-syncer's configuration (api/config.proto, camelCase keys) that a
// load-image.yaml uses: where the bundles are and where their images (and charts) go. Passwords are never
// written: charts-syncer reads them from TARGET_CONTAINERS_AUTH_PASSWORD and TARGET_AUTH_PASSWORD.
type LoadConfig struct {
	Source LoadSource `json:"source"`
	Target LoadTarget `json:"target"`
}

// LoadSource is charts-syncer's source section for bundles.
type LoadSource struct {
	IntermediateBundlesPath string `json:"intermediateBundlesPath"`
}

// LoadTarget is charts-syncer's target section.
type LoadTarget struct {
	ContainerRegistry   string          `json:"containerRegistry"`
	ContainerRepository string          `json:"containerRepository,omitempty"`
	Repo                *LoadRepo       `json:"repo,omitempty"`
	Containers          *LoadContainers `json:"containers,omitempty"`
}

// LoadRepo is the chart repository the charts go to.
type LoadRepo struct {
	Kind string    `json:"kind"`
	URL  string    `json:"url,omitempty"`
	Path string    `json:"path,omitempty"`
	Auth *LoadAuth `json:"auth,omitempty"`
}

// LoadContainers holds the registry credentials.
type LoadContainers struct {
	Auth *LoadAuth `json:"auth,omitempty"`
}

// LoadAuth is a user; the password is never written (see the environment variables above).
type LoadAuth struct {
	Username string `json:"username,omitempty"`
}

// Chart repository kinds charts-syncer knows.
var LoadRepoKinds = []string{"HELM", "CHARTMUSEUM", "HARBOR", "OCI", "LOCAL", "JFROG"}

// LoadConfigInput is what the load-image.yaml says.
type LoadConfigInput struct {
	BundleDir    string
	Registry     string
	Repository   string
	RegistryUser string
	// RepoKind and RepoURL (or RepoPath for LOCAL) name the chart repository; RepoKind "" leaves it out.
	RepoKind string
	RepoURL  string
	RepoPath string
	RepoUser string
}

// NewLoadConfig builds the configuration.
func NewLoadConfig(in LoadConfigInput) (*LoadConfig, error) {
	c := &LoadConfig{Source: LoadSource{IntermediateBundlesPath: in.BundleDir},
		Target: LoadTarget{ContainerRegistry: in.Registry, ContainerRepository: strings.Trim(in.Repository, "/")}}
	if in.RegistryUser != "" {
		c.Target.Containers = &LoadContainers{Auth: &LoadAuth{Username: in.RegistryUser}}
	}
	if in.RepoKind != "" {
		kind := strings.ToUpper(in.RepoKind)
		ok := false
		for _, k := range LoadRepoKinds {
			ok = ok || k == kind
		}
		if !ok {
			return nil, fmt.Errorf("unknown chart repository kind %q (want one of %s)", in.RepoKind, strings.Join(LoadRepoKinds, ", "))
		}
		r := &LoadRepo{Kind: kind, URL: in.RepoURL, Path: in.RepoPath}
		if in.RepoUser != "" {
			r.Auth = &LoadAuth{Username: in.RepoUser}
		}
		c.Target.Repo = r
	}
	return c, nil
}

// Write writes the load-image.yaml with a header saying which environment variables carry the passwords.
func (c *LoadConfig) Write(w io.Writer, tool string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# charts-syncer load-image.yaml written by %s images load-config.\n", tool)
	b.WriteString("# No password is written here: charts-syncer reads them from the environment:\n")
	if c.Target.Containers != nil {
		b.WriteString("#   TARGET_CONTAINERS_AUTH_PASSWORD  the registry password of target.containers.auth.username\n")
	}
	if c.Target.Repo != nil && c.Target.Repo.Auth != nil {
		b.WriteString("#   TARGET_AUTH_PASSWORD             the chart repository password of target.repo.auth.username\n")
	}
	b.WriteString("# Run: charts-syncer sync --config load-image.yaml\n")
	y, err := yaml.Marshal(c)
	if err != nil {
		return err
	}
	b.Write(y)
	_, err = io.WriteString(w, b.String())
	return err
}
