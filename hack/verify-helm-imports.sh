#!/usr/bin/env bash
# hack/verify-helm-imports.sh: the Helm SDK is used in one place. Fails when a package other than
# pkg/helmsdk (and its sub-packages, such as pkg/helmsdk/helmtest) imports helm.sh/helm/..., in its code or
# in its tests. Everything else goes through pkg/helmsdk's own types.
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
echo "verify-helm-imports: ok (helm.sh/helm is imported only under pkg/helmsdk)"
