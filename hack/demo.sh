#!/usr/bin/env bash
# hack/demo.sh (make demo): a local DCE-like landscape to try the plugin on, for someone with no cluster.
#   1. hack/fleet.sh up (when not up; CLUSTERS defaults to 2: global + workspace-1)
#   2. with the real helm v3 CLI and the fleet's env (.cache/cluster/env), like the product docs do:
#      global:       common-mysql (mcamel-system), then skoala 0.28.1 (skoala-system, DSN -> common-mysql)
#      workspace-1:  insight-agent (insight-system) BEFORE skoala-init 0.28.1 (skoala-system), so the
#                    ServiceMonitors get created
# Idempotent (helm upgrade --install). It does not run the plugin itself.
# Env: DEMO_SKOALA_VERSION (default 0.28.1), DEMO_INIT_VERSION (default = DEMO_SKOALA_VERSION).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${SKOALA_CACHE:-$ROOT/.cache}
STATE=$CACHE/cluster
SKOALA_VERSION=${DEMO_SKOALA_VERSION:-0.28.1}
INIT_VERSION=${DEMO_INIT_VERSION:-$SKOALA_VERSION}
# The demo database credentials of the (fake) common-mysql: loopback test fleet only.
DEMO_DSN='skoala:demo-password@tcp(mcamel-common-mysql-cluster-mysql-master.mcamel-system.svc.cluster.local:3306)/skoala?charset=utf8&parseTime=true&loc=Local&timeout=10s'

log() { printf '[demo] %s\n' "$*" >&2; }

if ! "$ROOT/hack/fleet.sh" status >/dev/null 2>&1; then
  "$ROOT/hack/fleet.sh" up
fi
# shellcheck disable=SC1091
. "$STATE/env"
case " $SKOALA_CLUSTERS " in
  *" workspace-1 "*) ;;
  *) echo "demo: the fleet has no workspace-1 (CLUSTERS>=2 needed): $SKOALA_CLUSTERS" >&2; exit 1 ;;
esac
HELM=$SKOALA_BIN/helm3
# re-package the fixtures if test/charts changed since `up` (cached: a no-op otherwise); served live
HELM=$HELM "$ROOT/hack/charts.sh" "$STATE/charts"
"$HELM" repo update skoala-release >/dev/null

t0=$(date +%s)
log "global: common-mysql (mcamel-system)"
"$HELM" --kube-context global upgrade --install common-mysql skoala-release/common-mysql --version 1.0.0 \
  -n mcamel-system --create-namespace --wait --timeout 5m

log "workspace-1: insight-agent (insight-system), before skoala-init"
"$HELM" --kube-context workspace-1 upgrade --install insight-agent skoala-release/insight-agent --version 1.0.0 \
  -n insight-system --create-namespace --wait --timeout 5m

log "global: skoala $SKOALA_VERSION (skoala-system)"
"$HELM" --kube-context global upgrade --install skoala skoala-release/skoala --version "$SKOALA_VERSION" \
  -n skoala-system --create-namespace --cleanup-on-fail \
  --set 'hive.configMap.database[0].driver=mysql' \
  --set-string "hive.configMap.database[0].dsn=$DEMO_DSN" \
  --wait --timeout 5m

log "workspace-1: skoala-init $INIT_VERSION (skoala-system)"
"$HELM" --kube-context workspace-1 upgrade --install skoala-init skoala-release/skoala-init --version "$INIT_VERSION" \
  -n skoala-system --create-namespace --cleanup-on-fail --wait --timeout 5m

log "done in $(($(date +%s) - t0))s"
cat <<EOF

Demo landscape ready: skoala $SKOALA_VERSION on context global, skoala-init $INIT_VERSION on context workspace-1
(chart repository skoala-release = $SKOALA_CHARTREPO_URL). To use it:
  . $STATE/env
EOF
