#!/usr/bin/env bash
# hack/verify-deadcode.sh: no function of the module is unreachable. golang.org/x/tools' deadcode (built and
# pinned by hack/tools.sh, ~20 s cold) walks the call graph from every main package and every test
# (-test) with rapid type analysis and lists each function of the module nothing reaches.
#
# With -test, what only tests call is reachable: the test helper packages (pkg/golden, pkg/cli/clitest,
# pkg/helmsdk/helmtest, pkg/images/imagestest, pkg/helmsdk's fakes) and a domain function that only its
# test calls are not reported; a function no main and no test calls is. Delete it rather than keep it
# "for later" (git remembers it).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${SKOALA_CACHE:-.cache}/bin/deadcode
want=$(sed -n 's/^DEADCODE_VERSION=//p' hack/tools.sh)
if [ ! -x "$BIN" ] || [ "$(cat "$(dirname "$BIN")/.deadcode.version" 2>/dev/null)" != "$want" ]; then
  hack/tools.sh deadcode
fi
out=$("$BIN" -test ./...)
if [ -n "$out" ]; then
  echo "verify-deadcode: these functions are reachable from no main package and no test:" >&2
  echo "$out" | sed 's/^/  /' >&2
  echo "Delete them (or call them)." >&2
  exit 1
fi
echo "verify-deadcode: ok (deadcode $want -test: every function is reachable)"
