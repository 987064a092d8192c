#!/usr/bin/env bash
# hack/charts.sh packages the fixture charts of test/charts/ into a Helm chart repository folder
# (default .cache/cluster/charts, served by hack/fleet.sh's chart repository).
#
#   skoala, skoala-init   0.28.0 0.28.1 0.33.2 0.34.0 0.33.3 0.35.0 0.37.1 0.52.0 0.52.1 0.57.0 0.57.2 0.58.0-rc.1
#   insight-agent, common-mysql   1.0.0
#
# Chart version == appVersion, without a "v" (images are tagged v<version>). The index's `created` times follow
# the publication order above (0.33.3 is published after 0.34.0: a patch of an older minor); they are fixed
# timestamps, not the packaging time, so the index is deterministic apart from archive digests.
# Cached: nothing is done when the fixture sources, this script and helm are unchanged (see $OUT/.fixtures.sha256).
#
# Usage: hack/charts.sh [-f|--force] [OUT_DIR]      env: SKOALA_CACHE (default .cache), HELM (default .cache/bin/helm3)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${SKOALA_CACHE:-$ROOT/.cache}
force=false
if [ "${1:-}" = "-f" ] || [ "${1:-}" = "--force" ]; then force=true; shift; fi
OUT=${1:-$CACHE/cluster/charts}
HELM=${HELM:-$CACHE/bin/helm3}
SRC=$ROOT/test/charts

# Publication order (oldest first). Both product charts are published at each of these versions.
VERSIONS=(0.28.0 0.28.1 0.33.2 0.34.0 0.33.3 0.35.0 0.37.1 0.52.0 0.52.1 0.57.0 0.57.2 0.58.0-rc.1)
PRODUCT_CHARTS=(skoala skoala-init)
AUX_VERSION=1.0.0
AUX_CHARTS=(insight-agent common-mysql)
# created time of publication k: EPOCH + k*21 days (skoala-init one hour after skoala); aux charts a month before.
EPOCH=1696838400 # 2023-10-09T08:00:00Z

log() { printf '[charts] %s\n' "$*" >&2; }

if [ ! -x "$HELM" ]; then
  log "helm3 missing at $HELM: building it (hack/tools.sh helm3)"
  "$ROOT/hack/tools.sh" helm3
fi

hash=$( {
  (cd "$SRC" && find . -type f ! -name '*.swp' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  sha256sum <"$ROOT/hack/charts.sh"
  cat "$(dirname "$HELM")/.helm3.version" 2>/dev/null || true
} | sha256sum | cut -d' ' -f1)
if ! $force && [ -s "$OUT/index.yaml" ] && [ "$(cat "$OUT/.fixtures.sha256" 2>/dev/null)" = "$hash" ]; then
  log "fixture charts unchanged, $OUT is up to date"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/out"
export HELM_CONFIG_HOME=$tmp/helm/config HELM_DATA_HOME=$tmp/helm/data HELM_CACHE_HOME=$tmp/helm/cache

iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
: >"$tmp/created"

# package CHART VERSION CREATED_EPOCH: stamp a copy of the source (Chart.yaml of the chart and its subcharts, CRD
# annotations) with VERSION, then helm package it.
package() {
  local chart=$1 v=$2 at=$3 work=$tmp/src/$1-$2
  mkdir -p "$work"
  cp -R "$SRC/$chart" "$work/"
  find "$work" \( -name Chart.yaml -o -path '*/crds/*.yaml' \) -type f -print0 |
    xargs -0 sed -i -E "s/\\b0\\.0\\.0\\b/$v/g"
  "$HELM" package --version "$v" --app-version "$v" -d "$tmp/out" "$work/$chart" >/dev/null
  printf '%s %s %s\n' "$chart" "$v" "$(iso "$at")" >>"$tmp/created"
}

for c in "${AUX_CHARTS[@]}"; do package "$c" "$AUX_VERSION" $((EPOCH - 30 * 86400)); done
k=0
for v in "${VERSIONS[@]}"; do
  at=$((EPOCH + k * 21 * 86400))
  package skoala "$v" "$at"
  package skoala-init "$v" $((at + 3600))
  k=$((k + 1))
done
last=$((EPOCH + (k - 1) * 21 * 86400 + 7200))

# Re-pack every archive reproducibly (sorted entries, fixed mtime and owner, no gzip timestamp) so that the
# digests in index.yaml do not change from one packaging to the next.
for tgz in "$tmp/out"/*.tgz; do
  rm -rf "$tmp/x" && mkdir -p "$tmp/x"
  tar -xzf "$tgz" -C "$tmp/x"
  # files only, no "./" prefix and no directory entries: helm skips archives that have them
  (cd "$tmp/x" && find . -type f | sed 's|^\./||' | LC_ALL=C sort |
    tar --no-recursion --mtime=@"$EPOCH" --owner=0 --group=0 --numeric-owner --mode=u+rw,go+r,go-w \
      -cf - -T - | gzip -n -9 >"$tgz")
done

"$HELM" repo index "$tmp/out"
# Rewrite every entry's `created` (helm stamps the indexing time) and `generated` with the fixed publication times.
awk -v map="$tmp/created" -v generated="$(iso "$last")" '
  BEGIN { while ((getline line < map) > 0) { split(line, f, " "); created[f[1] "@" f[2]] = f[3] } }
  function flush(   i) {
    if (n == 0) return
    key = name "@" version
    for (i = 1; i <= n; i++) {
      if (buf[i] ~ /^    created: /) {
        if (!(key in created)) { print "charts.sh: no publication time for " key > "/dev/stderr"; exit 1 }
        buf[i] = "    created: \"" created[key] "\""
      }
      print buf[i]
    }
    n = 0; name = ""; version = ""
  }
  /^  - / || /^  [^ -]/ || /^[^ ]/ { flush() }
  /^  - / || n > 0 {
    buf[++n] = $0
    if ($0 ~ /^    name: /) name = substr($0, 11)
    if ($0 ~ /^    version: /) version = substr($0, 14)
    next
  }
  /^generated: / { print "generated: \"" generated "\""; next }
  { print }
  END { flush() }
' "$tmp/out/index.yaml" >"$tmp/index.yaml"
mv "$tmp/index.yaml" "$tmp/out/index.yaml"

want=$(( ${#VERSIONS[@]} * ${#PRODUCT_CHARTS[@]} + ${#AUX_CHARTS[@]} ))
got=$(grep -c '^    created: "20' "$tmp/out/index.yaml" || true)
if [ "$got" != "$want" ]; then
  log "index.yaml has $got stamped entries, want $want"; exit 1
fi

mkdir -p "$OUT"
rm -f "$OUT"/*.tgz "$OUT/index.yaml"
cp "$tmp/out"/*.tgz "$tmp/out/index.yaml" "$OUT/"
echo "$hash" >"$OUT/.fixtures.sha256"
log "packaged $want charts into $OUT"
