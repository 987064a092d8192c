#!/usr/bin/env bash
# hack/fuzz.sh: run every Go fuzz target of the repository (func FuzzXxx in a *_test.go under pkg/ and
# cmd/) for a bounded time each, one after the other. Used by `make fuzz` and by `make test`.
#
#   hack/fuzz.sh                 every target, FUZZTIME each (default 15s)
#   hack/fuzz.sh FuzzParse ...   only these targets (by name)
#   hack/fuzz.sh --list          list the targets (package and name)
#   hack/fuzz.sh --fetch         fetch the Go toolchain fuzzing runs on (hack/tools.sh calls it)
#
# Environment: FUZZTIME (go test -fuzztime, default 15s), FUZZ_MINIMIZE (-fuzzminimizetime, default 100x:
# Go's default of 60s per new input would eat a short budget), FUZZ_PARALLEL (-parallel, default: go's,
# the number of cores), FUZZ_GOTOOLCHAIN (default go1.27.3; "local" for the machine's own Go).
#
# Why another Go for fuzzing: go1.26's fuzz coordinator has a race at the -fuzztime deadline
# (go.dev/issue/75804): on a loaded machine a target that found nothing can end with
# "context deadline exceeded" and exit 1 (CI saw it on FuzzCompare). go1.27 fixed it in
# src/internal/fuzz/fuzz.go. The project itself stays on go1.26 (go.mod); only `go test -fuzz` runs on
# go1.27.3, the version the Go module proxy here serves (hack/tools.sh fetches it, about 76 MB, once per
# machine). A run that fails is still a failure: the summary says whether it wrote a failing input.
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
export GOTOOLCHAIN=${FUZZ_GOTOOLCHAIN:-go1.27.3}

targets() { # "<package dir> <FuzzName>" per line, sorted
  grep -rEo --include='*_test.go' '^func (Fuzz[A-Za-z0-9_]+)\(' pkg cmd 2>/dev/null |
    sed -E 's#^(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]+)\($#\1 \2#' | sort -u
}

if [ "${1:-}" = --list ]; then targets; exit 0; fi
if [ "${1:-}" = --fetch ]; then
  "$GO" version >/dev/null || { echo "fuzz: cannot fetch $GOTOOLCHAIN from the Go module proxy (FUZZ_GOTOOLCHAIN=local uses this machine's Go)" >&2; exit 1; }
  exit 0
fi
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
echo "fuzz: ${#selected[@]} targets, ${FUZZTIME} each, on $("$GO" env GOVERSION)"
for s in "${selected[@]}"; do
  dir=${s% *} name=${s#* }
  t0=$(date +%s)
  corpus="$dir/testdata/fuzz/$name"
  before=$( (find "$corpus" -type f 2>/dev/null || true) | wc -l)
  printf '\n==> fuzz %s ./%s (%s)\n' "$name" "$dir" "$FUZZTIME"
  set +e
  "$GO" test "./$dir" -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZ_MINIMIZE" "${par[@]}" 2>&1 |
    grep -vE '^fuzz: elapsed: .*(gathering baseline|execs: [0-9]+ \([0-9]+/sec\), new interesting)'
  rc=${PIPESTATUS[0]}
  set -e
  if [ "$rc" = 0 ]; then
    echo "fuzz: $name ok ($(($(date +%s) - t0))s)"
  else
    if [ "$( (find "$corpus" -type f 2>/dev/null || true) | wc -l)" -gt "$before" ]; then
      echo "fuzz: $name FAILED: the failing input is in $corpus/ (rerun: go test ./$dir -run '$name/<file>')"
    else
      echo "fuzz: $name FAILED without writing a failing input (exit $rc; the log above says why)"
    fi
    failed+=("$name")
  fi
done
echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} of ${#selected[@]} targets failed: ${failed[*]} ($(($(date +%s) - t_all))s)"
  exit 1
fi
echo "fuzz: ${#selected[@]} passed, 0 failed ($(($(date +%s) - t_all))s)"
