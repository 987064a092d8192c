#!/usr/bin/env bash
# hack/verify-views.sh: one place for the views. Every verb's renderers (WriteTable/WriteJSON/WriteYAML, the
# table text, the colours) live in its command package pkg/cmd/<verb>/, as Helm keeps every printer in its
# CLI package; what several verbs' views share is in pkg/render. So no domain package imports pkg/render or
# a styling library (lipgloss, termenv, charmbracelet/x), in its code or its tests, and none depends on
# them through another package.
#
# Domain = every package under pkg/ except:
#   pkg/cmd/...  the commands and their views;
#   pkg/cli/...  the commands' shared flags and globals (-o, --color, the palette for stdout), and
#                pkg/cli/clitest, the commands' test helper over them;
#   pkg/render   the shared view helpers themselves.
# A domain package that must store a report's bytes (the support bundle's status.json) uses pkg/encode.
set -euo pipefail
cd "$(dirname "$0")/.."
MOD=$(go list -m)
view_re="^($MOD/pkg/render|github.com/charmbracelet/.*|github.com/muesli/termenv)\$"
domains=$(go list -e ./pkg/... | awk -v m="$MOD" '
  $1 == m "/pkg/cmd" || index($1, m "/pkg/cmd/") == 1 || $1 == m "/pkg/cli" || index($1, m "/pkg/cli/") == 1 || $1 == m "/pkg/render" { next }
  { print }')
fail=0
direct=$(go list -e -f '{{.ImportPath}}{{range .Imports}} {{.}}{{end}}{{range .TestImports}} {{.}}{{end}}{{range .XTestImports}} {{.}}{{end}}' $domains |
  awk -v re="$view_re" '{ for (i = 2; i <= NF; i++) if ($i ~ re) print $1 " imports " $i }' | sort -u)
if [ -n "$direct" ]; then
  echo "verify-views: a domain package imports a view package (move the renderer to pkg/cmd/<verb>/, the shared helper to pkg/render):" >&2
  echo "$direct" | sed "s#$MOD/##g; s/^/  /" >&2
  fail=1
fi
# shellcheck disable=SC2086 # one word per package
if go list -e -deps $domains | grep -Eq "$view_re"; then
  for d in $domains; do
    via=$(go list -e -deps "$d" | grep -E "$view_re" | head -1 || true)
    [ -n "$via" ] && echo "verify-views: ${d#"$MOD"/} depends on $via" >&2
  done
  fail=1
fi
[ $fail = 0 ] || exit 1
echo "verify-views: ok (no domain package imports or depends on pkg/render, lipgloss or termenv)"
