package bundle

import (
	"bytes"
	"context"

	"github.com/skoala-dev/kubectl-skoala/pkg/doctor"
	"github.com/skoala-dev/kubectl-skoala/pkg/encode"
	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/status"
	"github.com/skoala-dev/kubectl-skoala/pkg/verify"
)

// StatusReport is status.json: what 'status -o json' prints for the same fleet (the repository index from
// the cache, not refreshed).
func StatusReport(src fleet.ClusterSource, env helmsdk.Env, repo string, cfg status.Config) Report {
	return Report{Name: "status.json", Gather: func(ctx context.Context) ([]byte, error) {
		r, idx, warnings := helmsdk.LoadRepository(ctx, env, repo, false, cfg.ClusterTimeout)
		cfg.Repo, cfg.Index = r, idx
		rep := status.Gather(ctx, src, cfg)
		rep.Warnings = append(rep.Warnings, warnings...)
		var b bytes.Buffer
		err := encode.JSON(&b, rep)
		return b.Bytes(), err
	}}
}

// DoctorReport is doctor.json: what 'doctor -o json' prints for the same fleet.
func DoctorReport(deps doctor.Deps, cfg doctor.Config) Report {
	return Report{Name: "doctor.json", Gather: func(ctx context.Context) ([]byte, error) {
		rep, err := doctor.Run(ctx, deps, cfg, nil)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		err = encode.JSON(&b, rep)
		return b.Bytes(), err
	}}
}

// VerifyReport is verify.json: what 'verify --no-images -o json' prints for the same fleet (no registry
// is asked, no chart downloaded: the CRDs are those the release records keep). Secret values are compared
// by digest and never written.
func VerifyReport(src fleet.ClusterSource, cfg verify.Config) Report {
	return Report{Name: "verify.json", Gather: func(ctx context.Context) ([]byte, error) {
		cfg.Images, cfg.Chart, cfg.Provenance = nil, nil, nil
		rep := verify.Gather(ctx, src, cfg)
		var b bytes.Buffer
		err := encode.JSON(&b, rep)
		return b.Bytes(), err
	}}
}
