#!/usr/bin/env bash
# hack/verify-readme.sh fails when the README's flags section or docs/flags.md is not the live flag set
# (run hack/update-readme.sh to fix it).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
want=$(mktemp)
wantdoc=$(mktemp)
trap 'rm -f "$want" "$wantdoc"' EXIT
hack/update-readme.sh "$want" "$wantdoc"
bad=0
for pair in "README.md:$want" "docs/flags.md:$wantdoc"; do
  have=${pair%%:*} gen=${pair#*:}
  if ! diff -u "$have" "$gen" >/dev/null 2>&1; then
    diff -u "$have" "$gen" | head -40 >&2 || true
    echo "verify-readme: $have is stale: run hack/update-readme.sh" >&2
    bad=1
  fi
done
[ $bad = 0 ] || exit 1
echo "verify-readme: ok (README flags section and docs/flags.md match the live flag set)"
