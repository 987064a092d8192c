#!/usr/bin/env bash
# hack/verify-readme.sh fails when the README's flags section is not the live flag set
# (run hack/update-readme.sh to fix it).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
want=$(mktemp)
trap 'rm -f "$want"' EXIT
hack/update-readme.sh "$want"
if ! diff -u README.md "$want" >/dev/null; then
  diff -u README.md "$want" | head -40 >&2
  echo "verify-readme: README.md's flags section is stale: run hack/update-readme.sh" >&2
  exit 1
fi
echo "verify-readme: ok (README flags section matches the live flag set)"
