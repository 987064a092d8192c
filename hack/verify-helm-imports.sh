#!/usr/bin/env bash
# hack/verify-helm-imports.sh: the Helm SDK is used in one place. Fails when a package other than
# pkg/helmsdk (and its sub-packages, such as pkg/helmsdk/helmtest) imports helm.sh/helm/..., in its code or
# in its tests. Everything else goes through pkg/helmsdk's own types. It also fails when the Helm 3 SDK
# (helm.sh/helm/v3, security fixes only until 2027-02-10) is required by go.mod or is among the packages any
# package, test or bench program builds with: pkg/helmsdk is on helm.sh/helm/v4.
set -euo pipefail
cd "$(dirname "$0")/.."
MOD=$(go list -m)
ALLOWED="$MOD/pkg/helmsdk"

bad=$(go list -e -f '{{.ImportPath}}{{range .Imports}} {{.}}{{end}}{{range .TestImports}} {{.}}{{end}}{{range .XTestImports}} {{.}}{{end}}' ./... |
  awk -v allowed="$ALLOWED" '
    $1 == allowed || index($1, allowed "/") == 1 { next }
    {
      for (i = 2; i <= NF; i++) if ($i ~ /^helm\.sh\/helm(\/|$)/) { print $1 " imports " $i }
    }' | sort -u)
if [ -n "$bad" ]; then
  echo "verify-helm-imports: only pkg/helmsdk may import the Helm SDK (helm.sh/helm/...):" >&2
  echo "$bad" | sed 's/^/  /' >&2
  echo "Move the Helm calls into pkg/helmsdk and use its types." >&2
  exit 1
fi

# The Helm 3 SDK must not come back: not in go.mod, not among the dependencies of any package or test, not in
# the bench's floor program (hack/bench/testdata/floor, outside ./...).
v3=$( { sed -n 's#^[[:space:]]*\(require[[:space:]]*\)\{0,1\}\(helm\.sh/helm/v3\)[[:space:]]\{1,\}\(v[^ ]*\).*#go.mod requires \2 \3#p' go.mod
  go list -e -deps -test ./... ./hack/bench/testdata/floor 2>/dev/null | sed -n 's#^\(helm\.sh/helm/v3/.*\)#a package builds with \1#p'
} | sort -u)
if [ -n "$v3" ]; then
  echo "verify-helm-imports: the Helm 3 SDK is back; pkg/helmsdk is on helm.sh/helm/v4:" >&2
  echo "$v3" | head -20 | sed 's/^/  /' >&2
  echo "Port the call to helm.sh/helm/v4 (pkg/helmsdk) and run 'go mod tidy'." >&2
  exit 1
fi
echo "verify-helm-imports: ok (helm.sh/helm is imported only under pkg/helmsdk, and no helm.sh/helm/v3 package is built)"
