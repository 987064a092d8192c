package doctor

import (
	"context"
	"fmt"
	"os"

	"sigs.k8s.io/yaml"

	"github.com/skoala-dev/kubectl-skoala/pkg/product"
	"github.com/skoala-dev/kubectl-skoala/pkg/semver"
)

// Check IDs of the enterprise-package category.
const (
	IDEntManifest    = "enterprise-package.manifest"
	IDEntHelmVersion = "enterprise-package.helm-version"
)

// installerManifest is the part of the DCE installer manifest (manifest.yaml) doctor reads.
type installerManifest struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Components map[string]struct {
		Enable      *bool  `json:"enable"`
		HelmVersion string `json:"helmVersion"`
	} `json:"components"`
}

func enterpriseChecks() []Check {
	withManifest := func(cfg *Config) bool { return cfg.Manifest != "" }
	return []Check{
		{ID: IDEntManifest, Category: CatEnterprise, Scope: ScopeOnce, Applies: withManifest,
			Description: "installer manifest enables skoala", Run: checkManifest},
		{ID: IDEntHelmVersion, Category: CatEnterprise, Scope: ScopeOnce, Applies: withManifest,
			Description: "installer manifest's skoala helmVersion", Needs: []string{IDEntManifest}, Run: checkManifestHelmVersion},
	}
}

func readManifest(path string) (*installerManifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m installerManifest
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s is not valid YAML: %v", path, firstLine(err.Error()))
	}
	return &m, nil
}

func checkManifest(ctx context.Context, e *Env) Outcome {
	path := e.Config.Manifest
	m, err := readManifest(path)
	if err != nil {
		return Fail("give the installer's manifest.yaml (the one dce5-installer reads with -m)", "cannot read the installer manifest: %v", err)
	}
	if m.Kind != "DCEManifest" {
		return Fail("give the installer's manifest.yaml (apiVersion manifest.daocloud.io/v1alpha1, kind DCEManifest)", "%s is not a DCE installer manifest (kind %q)", path, m.Kind)
	}
	s, ok := m.Components[product.ChartSkoala]
	if !ok {
		return Fail(fmt.Sprintf("add components.skoala (enable: true, helmVersion: <version>) to %s", path), "%s has no components.skoala: the installer does not install the Microservice Engine", path)
	}
	if s.Enable != nil && !*s.Enable {
		return Fail(fmt.Sprintf("set components.skoala.enable: true in %s and run ./dce5-installer install-app -m %s", path, path),
			"components.skoala.enable is false in %s: the installer skips the Microservice Engine", path)
	}
	how := "true"
	if s.Enable == nil {
		how = "unset (true since installer v0.3.29; set it explicitly for older ones)"
	}
	return OK("components.skoala.enable is %s in %s", how, path)
}

func checkManifestHelmVersion(ctx context.Context, e *Env) Outcome {
	path := e.Config.Manifest
	m, err := readManifest(path)
	if err != nil {
		return Skip("manifest unreadable")
	}
	hv := m.Components[product.ChartSkoala].HelmVersion
	if hv == "" {
		return Fail(fmt.Sprintf("set components.skoala.helmVersion in %s to a version of the repository ('%s versions skoala')", path, e.Config.Name),
			"components.skoala.helmVersion is not set in %s", path)
	}
	if _, err := semver.Parse(hv); err != nil {
		return Fail("write it as MAJOR.MINOR.PATCH (v0.28.1 or 0.28.1)", "components.skoala.helmVersion %q: %v", hv, err)
	}
	v := semver.Normalize(hv)
	rs, _ := e.repo(ctx)
	if rs.idx == nil {
		return Warn(rs.repo.Hint, "components.skoala.helmVersion is %s; cannot check it against the repository: %s", v, rs.repo.Error)
	}
	if !indexHas(rs.idx, product.ChartSkoala, v) {
		return Fail(fmt.Sprintf("pick a version the repository has ('%s versions skoala'; newest %s)", e.Config.Name, latestOf(rs.idx, product.ChartSkoala)),
			"components.skoala.helmVersion %s is not in repository %s", v, rs.repo.Name)
	}
	msg := fmt.Sprintf("components.skoala.helmVersion %s is in repository %s", v, rs.repo.Name)
	if !indexHas(rs.idx, product.ChartInit, v) {
		return Warn("the manifest has no skoala-init key: the workspaces need skoala-init "+v+" from the addon repository", "%s, but skoala-init %s is not", msg, v)
	}
	return OK("%s (and skoala-init %s)", msg, v)
}
