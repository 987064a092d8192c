package doctor

// Check IDs of the control-plane category.
const (
	IDCPNamespace  = "control-plane.namespace"
	IDCPRelease    = "control-plane.release"
	IDCPHive       = "control-plane.hive"
	IDCPSesame     = "control-plane.sesame"
	IDCPUI         = "control-plane.skoala-ui"
	IDCPImageTags  = "control-plane.image-tags"
	IDCPPinnedTags = "control-plane.pinned-tags"
	IDCPRegistry   = "control-plane.registry"
	IDCPKpandaOps  = "control-plane.kpanda-operations"
)

var installed = []Mode{ModeDefault, ModePreUpgrade}

// The checks that look at a release need only that it can be read, not that it is deployed: a failed or
// pending release is exactly when its components' health says why.

func controlPlaneChecks() []Check {
	comp := func(id, desc string, names ...string) Check {
		return Check{ID: id, Category: CatControlPlane, Scope: ScopeControlPlane, Modes: installed, Description: desc,
			Needs: []string{IDCPNamespace}, Uses: join(readRelease, readWorkloads), Run: checkComponent(names...)}
	}
	return []Check{
		{
			ID: IDCPNamespace, Category: CatControlPlane, Scope: ScopeControlPlane,
			Description: "the namespace of the release exists",
			Needs:       []string{IDReachable}, Uses: readNamespaces,
			Run: checkNamespace,
		},
		{
			ID: IDCPRelease, Category: CatControlPlane, Scope: ScopeControlPlane, Modes: installed,
			Description: "the skoala release is deployed",
			Needs:       []string{IDReachable, IDCPNamespace}, Uses: readRelease,
			Run: checkRelease,
		},
		comp(IDCPHive, "hive available", "hive"),
		comp(IDCPSesame, "sesame available", "sesame"),
		// Releases up to 0.13 named the UI workload "ui".
		comp(IDCPUI, "skoala-ui available", "skoala-ui", "ui"),
		{
			ID: IDCPImageTags, Category: CatControlPlane, Scope: ScopeControlPlane, Modes: installed,
			Description: "image tags match the chart version",
			Needs:       []string{IDCPNamespace}, Uses: join(readRelease, readWorkloads),
			Run: checkImageTags,
		},
		{
			ID: IDCPPinnedTags, Category: CatControlPlane, Scope: ScopeControlPlane, Modes: installed,
			Description: "no stale *.image.tag pinned in the values",
			Needs:       []string{IDCPNamespace}, Uses: readRelease,
			Run: checkPinnedTags,
		},
		{
			ID: IDCPRegistry, Category: CatControlPlane, Scope: ScopeControlPlane, Modes: installed,
			Description: "images from one registry (global.imageRegistry)",
			Needs:       []string{IDCPNamespace}, Uses: join(readRelease, readWorkloads),
			Run: checkRegistry,
		},
		{
			ID: IDCPKpandaOps, Category: CatControlPlane, Scope: ScopeControlPlane,
			Description: kpandaOpsDescription,
			Needs:       []string{IDReachable}, Uses: readJobs,
			Run: checkKpandaOperations,
		},
		{
			ID: IDCPDrift, Category: CatControlPlane, Scope: ScopeControlPlane, Modes: installed,
			Description: driftDescription,
			Needs:       []string{IDCPNamespace}, Uses: join(readRelease, readWorkloads),
			Run: checkDrift,
		},
	}
}
