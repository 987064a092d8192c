#!/usr/bin/env bash
# hack/verify-funclen.sh: the change engine and its two planners stay readable (issue 22 §1). Fails when a
# function (or method, or function literal at the top level) of pkg/change, pkg/upgrade or pkg/rollback,
# tests excluded, is over MAX lines from its `func` line to its closing brace (gofmt'd code: a top-level
# declaration starts at column 0 with `func ` and ends at the first `}` at column 0).
set -euo pipefail
cd "$(dirname "$0")/.."
MAX=${MAX:-80}
bad=$(for f in pkg/change/*.go pkg/upgrade/*.go pkg/rollback/*.go; do
  case "$f" in *_test.go) continue ;; esac
  awk -v max="$MAX" -v file="$f" '
    /^func / { start = NR; name = $0; sub(/ *\{ *$/, "", name); next }
    /^}/ && start { n = NR - start + 1; if (n > max) printf "%s:%d: %d lines: %s\n", file, start, n, name; start = 0 }
  ' "$f"
done)
if [ -n "$bad" ]; then
  echo "verify-funclen: functions over $MAX lines in pkg/change, pkg/upgrade or pkg/rollback:" >&2
  echo "$bad" | sed 's/^/  /' >&2
  echo "Split them: a step each (see pkg/change/release.go)." >&2
  exit 1
fi
echo "verify-funclen: ok (no function over $MAX lines in pkg/change, pkg/upgrade, pkg/rollback)"
