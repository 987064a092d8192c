package upgrade

import (
	"context"
	"fmt"

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
		run := func(targets []fleet.Target, install bool) error {
			if len(targets) == 0 {
				return nil
			}
			cfg := base
			cfg.TargetVersion = in.TargetVersion
			cfg.Targets = nil
			if in.Offline {
				cfg.Categories = nil
				for _, c := range doctor.Categories {
					if c != doctor.CatRepository {
						cfg.Categories = append(cfg.Categories, c)
					}
				}
			}
			cfg.Targets = targets
			cfg.UpgradeRights = doctorAccess(in.Rights) // issue 12 §5b
			var rep *doctor.Report
			var err error
			if install {
				rep, err = doctor.PreInstall(ctx, deps, cfg)
			} else {
				rep, err = doctor.PreUpgrade(ctx, deps, cfg)
			}
			if err != nil {
				return err
			}
			for _, r := range rep.Failures() {
				where := r.Cluster
				if where == "" {
					where = "fleet"
				}
				if in.Recovering[r.Cluster] && recoverableChecks[r.ID] {
					res.Lines = append(res.Lines, fmt.Sprintf("note  [%s] %s: %s (the upgrade repairs this)", where, r.ID, r.Message))
					continue
				}
				res.Failed = true
				line := fmt.Sprintf("FAIL  [%s] %s: %s", where, r.ID, r.Message)
				if r.Hint != "" {
					line += " (hint: " + r.Hint + ")"
				}
				res.Lines = append(res.Lines, line)
			}
			for _, r := range rep.Warnings() {
				where := r.Cluster
				if where == "" {
					where = "fleet"
				}
				res.Lines = append(res.Lines, fmt.Sprintf("warn  [%s] %s: %s", where, r.ID, r.Message))
			}
			return nil
		}
		if err := run(in.Upgrades, false); err != nil {
			return nil, err
		}
		if err := run(in.Installs, true); err != nil {
			return nil, err
		}
		return res, nil
	}
}
