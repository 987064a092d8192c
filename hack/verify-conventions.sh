#!/usr/bin/env bash
# hack/verify-conventions.sh: grep-enforced rules of /shared/docs/conventions.md (as krew's hack/ does).
#
#   1. pkg/ (non-test code) never prints or exits on its own: no fmt.Print*, os.Exit, os.Stdout. Output goes
#      through the IOStreams handed down from cmd/, and only cmd.Main picks the exit code. cmd/ has no
#      fmt.Print* either (wiring only).
#   2. Domain packages (pkg/* except pkg/cmd/... and pkg/cli) import neither cobra nor pflag, and no package
#      of this module that a verb's domain package (status, doctor, upgrade, backup, catalog, and the new
#      verbs' bundle, images, rollback) depends on, directly or not (go list -deps), imports them either.
#      (cobra and pflag also arrive through client-go and the Helm SDK: not ours, not checked.)
#   3. Tests use t.TempDir(), not os.MkdirTemp / ioutil.TempDir (cleaned up, unique per test).
#   4. gofmt -l is empty.
#
# A line may break rule 1 or 3 when it carries, or follows a comment line that is, a justification:
#     // verify-conventions: <reason>
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
report() { # TITLE LINES
  [ -z "$2" ] && return 0
  echo "verify-conventions: $1" >&2
  echo "$2" | sed 's/^/  /' >&2
  fail=1
}

# grep_unjustified REGEX FILES...: the matching lines without a justification on that line or the one above
grep_unjustified() {
  local re=$1
  shift
  [ $# -gt 0 ] || return 0
  RE=$re awk '
    FNR == 1 { prev = "" }
    {
      if ($0 ~ ENVIRON["RE"] && $0 !~ /verify-conventions:/ && prev !~ /^[ \t]*\/\/ *verify-conventions:/) print FILENAME ":" FNR ": " $0
      prev = $0
    }' "$@"
}

go_files() { # DIR [test|code]
  [ -d "$1" ] || return 0
  if [ "$2" = test ]; then
    find "$1" -name '*_test.go' -not -path '*/testdata/*'
  else
    find "$1" -name '*.go' -not -name '*_test.go' -not -path '*/testdata/*'
  fi
}

mapfile -t pkg_code < <(go_files pkg code)
mapfile -t cmd_code < <(go_files cmd code)
mapfile -t tests < <(go_files pkg test; go_files test test; go_files cmd test; go_files hack test)

# (assignments first: a failing awk or go list then stops the script under set -e)
out=$(grep_unjustified 'fmt[.]Print(f|ln)?[(]|os[.]Exit[(]|os[.]Stdout' "${pkg_code[@]}")
report "pkg/ must not print or exit by itself (fmt.Print*, os.Exit, os.Stdout): use the IOStreams and return errors" "$out"
out=$(grep_unjustified 'fmt[.]Print(f|ln)?[(]' "${cmd_code[@]}")
report "cmd/ is wiring only: no fmt.Print*" "$out"
out=$(grep_unjustified '(os[.]MkdirTemp|ioutil[.]TempDir)[(]' "${tests[@]}")
report "tests use t.TempDir(), not os.MkdirTemp/ioutil.TempDir" "$out"

MOD=$(go list -m)
out=$(go list -e -f '{{.ImportPath}}{{range .Imports}} {{.}}{{end}}' ./pkg/... |
    awk -v m="$MOD" '
      $1 == m "/pkg/cmd" || index($1, m "/pkg/cmd/") == 1 || $1 == m "/pkg/cli" { next }
      { for (i = 2; i <= NF; i++) if ($i == "github.com/spf13/cobra" || $i == "github.com/spf13/pflag") print $1 " imports " $i }')
report "domain packages must not import cobra or pflag (only pkg/cmd/... and pkg/cli do)" "$out"

# Rule 2, transitively: the module's packages in each domain package's dependency graph.
DOMAINS="status doctor upgrade backup catalog bundle images rollback"
out=""
for d in $DOMAINS; do
  [ -d "pkg/$d" ] || continue
  bad=$(go list -e -deps -f '{{.ImportPath}}{{range .Imports}} {{.}}{{end}}' "./pkg/$d" |
    awk -v m="$MOD/" -v d="pkg/$d" '
      index($1, m) != 1 { next }
      { for (i = 2; i <= NF; i++) if ($i == "github.com/spf13/cobra" || $i == "github.com/spf13/pflag") print d " depends on " substr($1, length(m) + 1) ", which imports " $i }')
  [ -z "$bad" ] && continue
  out+="$bad"$'\n'
done
report "no package a domain package depends on may import cobra or pflag (move what it needs out of pkg/cli, e.g. into pkg/fleet)" "$(printf '%s' "$out" | sed '/^$/d')"

# shellcheck disable=SC2046 # one word per existing folder
out=$(gofmt -l $(ls -d cmd pkg test hack 2>/dev/null))
report "gofmt -l is not empty (run gofmt -w)" "$out"

[ $fail = 0 ] || exit 1
echo "verify-conventions: ok"
