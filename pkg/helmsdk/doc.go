// Package helmsdk is the one package of kubectl-skoala that imports the Helm SDK (helm.sh/helm/v3).
//
// Everything else speaks this package's own types (Release, Repository, ChartVersion, ...), so the move to
// the Helm 4 SDK (Helm 3 receives security fixes only until 2027-02-10) is a change to this package alone.
// hack/verify-helm-imports.sh enforces it.
package helmsdk
