#!/usr/bin/env bash
# hack/fuzz.sh: run every Go fuzz target of the repository (func FuzzXxx in a *_test.go under pkg/ and
# cmd/) for a bounded time each, one after the other. Used by `make fuzz` and by `make test`.
#
#   hack/fuzz.sh                 every target, FUZZTIME each (default 15s)
#   hack/fuzz.sh FuzzParse ...   only these targets (by name)
#   hack/fuzz.sh --list          list the targets (package and name)
#
# Environment: FUZZTIME (go test -fuzztime, default 15s), FUZZ_MINIMIZE (-fuzzminimizetime, default 100x:
# Go's default of 60s per new input would eat a short budget), FUZZ_PARALLEL (-parallel, default: go's,
# the number of cores).
#
# Each target's seed corpus is its f.Add calls plus the files of its package's testdata/fuzz/<FuzzXxx>/
# (which plain `go test` runs as regression tests too). When a target fails, go test writes the failing
# input there: commit it with the fix, as a regression seed. The inputs the fuzzer found interesting are
# cached in $(go env GOCACHE)/fuzz and reused by the next run on the same machine.
# Exit status: 0 when every target ran clean, 1 when one failed (all are run), 2 on a usage error.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-15s}
FUZZ_MINIMIZE=${FUZZ_MINIMIZE:-100x}
GO=${GO:-go}

targets() { # "<package dir> <FuzzName>" per line, sorted
  grep -rEo --include='*_test.go' '^func (Fuzz[A-Za-z0-9_]+)\(' pkg cmd 2>/dev/null |
    sed -E 's#^(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]+)\($#\1 \2#' | sort -u
}

if [ "${1:-}" = --list ]; then targets; exit 0; fi
want=("$@")
selected=()
while read -r dir name; do
  [ -n "$name" ] || continue
  if [ ${#want[@]} -gt 0 ]; then
    keep=0
    for w in "${want[@]}"; do [ "$w" = "$name" ] && keep=1; done
    [ $keep = 1 ] || continue
  fi
  selected+=("$dir $name")
done < <(targets)
if [ ${#selected[@]} = 0 ]; then
  echo "fuzz: no target matches ${want[*]:-anything} (hack/fuzz.sh --list)" >&2
  exit 2
fi

par=()
[ -n "${FUZZ_PARALLEL:-}" ] && par=(-parallel "$FUZZ_PARALLEL")
failed=()
t_all=$(date +%s)
echo "fuzz: ${#selected[@]} targets, ${FUZZTIME} each"
for s in "${selected[@]}"; do
  dir=${s% *} name=${s#* }
  t0=$(date +%s)
  printf '\n==> fuzz %s ./%s (%s)\n' "$name" "$dir" "$FUZZTIME"
  set +e
  "$GO" test "./$dir" -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZ_MINIMIZE" "${par[@]}" 2>&1 |
    grep -vE '^fuzz: elapsed: .*(gathering baseline|execs: [0-9]+ \([0-9]+/sec\), new interesting)'
  rc=${PIPESTATUS[0]}
  set -e
  if [ "$rc" = 0 ]; then
    echo "fuzz: $name ok ($(($(date +%s) - t0))s)"
  else
    echo "fuzz: $name FAILED: the failing input is in $dir/testdata/fuzz/$name/ (rerun: go test ./$dir -run '$name/<file>')"
    failed+=("$name")
  fi
done
echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} of ${#selected[@]} targets failed: ${failed[*]} ($(($(date +%s) - t_all))s)"
  exit 1
fi
echo "fuzz: ${#selected[@]} passed, 0 failed ($(($(date +%s) - t_all))s)"
