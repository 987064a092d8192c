package upgrade

import (
	"context"

	authv1 "k8s.io/api/authorization/v1"

	"github.com/skoala-dev/kubectl-skoala/pkg/doctor"
	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
)

// PreflightInput is what the pre-upgrade checks look at.
type PreflightInput struct {
	// Upgrades are the targets whose release is upgraded (or resumed), Installs those installed.
	Upgrades []fleet.Target
	Installs []fleet.Target
	// TargetVersion is the version the plan goes to (the newest of the plan's targets).
	TargetVersion string
	// Recovering are the contexts whose release the upgrade brings back from a failed or pending state:
	// there the release-status and component-health failures are what the upgrade fixes, not reasons to
	// stop it.
	Recovering map[string]bool
	// Offline is set when every chart comes from --chart: the repository is not checked.
	Offline bool
	// Rights are the rights the plan uses on each context (planRights); the permissions check asks about
	// these instead of its fixed list.
	Rights map[string][]authv1.ResourceAttributes
}

// PreflightFunc runs the pre-upgrade checks. A nil func means none are available.
type PreflightFunc func(ctx context.Context, in PreflightInput) (*PreflightResult, error)

// recoverableChecks are the doctor checks an upgrade of a failed or interrupted release repairs.
var recoverableChecks = map[string]bool{
	doctor.IDCPRelease: true, doctor.IDCPHive: true, doctor.IDCPSesame: true, doctor.IDCPUI: true,
	doctor.IDCPImageTags: true, doctor.IDWSRelease: true, doctor.IDWSComponents: true, doctor.IDWSImageTags: true,
}

// DoctorPreflight runs doctor's pre-upgrade checks (doctor.PreUpgrade) on the releases to upgrade and its
// pre-install checks (doctor.PreInstall) on the ones to install. base carries the namespace, driver,
// repository and timeouts.
func DoctorPreflight(deps doctor.Deps, base doctor.Config) PreflightFunc {
	return func(ctx context.Context, in PreflightInput) (*PreflightResult, error) {
		res := &PreflightResult{Ran: true}
		for _, run := range []struct {
			targets []fleet.Target
			check   func(context.Context, doctor.Deps, doctor.Config) (*doctor.Report, error)
		}{{in.Upgrades, doctor.PreUpgrade}, {in.Installs, doctor.PreInstall}} {
			if len(run.targets) == 0 {
				continue
			}
			rep, err := run.check(ctx, deps, preflightConfig(base, in, run.targets))
			if err != nil {
				return nil, err
			}
			res.add(rep, in.Recovering)
		}
		return res, nil
	}
}

// preflightConfig is base for the targets, without the repository checks when offline.
func preflightConfig(base doctor.Config, in PreflightInput, targets []fleet.Target) doctor.Config {
	cfg := base
	cfg.TargetVersion = in.TargetVersion
	cfg.Targets = targets
	cfg.UpgradeRights = doctorAccess(in.Rights)
	if in.Offline {
		cfg.Categories = nil
		for _, c := range doctor.Categories {
			if c != doctor.CatRepository {
				cfg.Categories = append(cfg.Categories, c)
			}
		}
	}
	return cfg
}

// add records the failures (those the upgrade repairs marked so) and the warnings of rep.
func (res *PreflightResult) add(rep *doctor.Report, recovering map[string]bool) {
	for _, r := range rep.Failures() {
		repaired := recovering[r.Cluster] && recoverableChecks[r.ID]
		res.Failed = res.Failed || !repaired
		res.Checks = append(res.Checks, PreflightCheck{Result: r, Repaired: repaired})
	}
	for _, r := range rep.Warnings() {
		res.Checks = append(res.Checks, PreflightCheck{Result: r})
	}
}
