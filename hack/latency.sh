#!/usr/bin/env bash
# hack/latency.sh puts the local fleet's API servers behind toxiproxy (github.com/Shopify/toxiproxy, built by
# hack/tools.sh toxiproxy) on loopback, so that clients see remote clusters: round-trip latency and a
# bandwidth limit on every connection. The fleet itself (hack/fleet.sh) is not touched.
#
# Usage:
#   hack/latency.sh up         start toxiproxy-server (stopping a previous one), one proxy per context, write
#                              .cache/cluster/kubeconfig-latency
#   hack/latency.sh set RTT_MS [BANDWIDTH_KBPS]   change the latency and bandwidth of every proxy, live
#   hack/latency.sh status     the proxies and their toxics; exit 0 when up, 3 when not
#   hack/latency.sh down       stop toxiproxy-server (by pid) and remove the kubeconfig
#
# Environment: RTT_MS (default 50): round trip added to every exchange, half on each direction (latency
#              toxics upstream and downstream, no jitter); BANDWIDTH_KBPS (default 12500, i.e. 100 Mbit/s;
#              0 = no limit): a bandwidth toxic on each direction of each proxy; WORKSPACES (default 20): how
#              many workspace contexts; LATENCY_PORT_BASE (default FLEET_PORT_BASE+4000 = 31000): toxiproxy's
#              API listens on the base, global-lat on base+1, ws-lat-I on base+1+I; all on 127.0.0.1.
#
# Contexts of .cache/cluster/kubeconfig-latency (same admin token and CA as the fleet's kubeconfig; the
# apiserver certificates name IP 127.0.0.1, so TLS verifies through the proxy unchanged):
#   global-lat            -> global's kube-apiserver
#   ws-lat-1..WORKSPACES  -> the fleet's workspace clusters in turn (workspace-1, workspace-2, workspace-1, ...):
#                            N proxies, each with its own latency, in front of the few real workspace
#                            apiservers; each context is its own connection and its own round trips.
# Outputs: .cache/cluster/kubeconfig-latency, .cache/cluster/latency.env (TOXIPROXY_URL, RTT_MS, ...);
# pid in .cache/cluster/pids/latency-toxiproxy.pid (so 'hack/fleet.sh down' stops it too), log in
# .cache/cluster/logs/latency-toxiproxy.log.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${SKOALA_CACHE:-$ROOT/.cache}
BIN=$CACHE/bin
STATE=$CACHE/cluster
PIDS=$STATE/pids
LOGS=$STATE/logs
PIDF=$PIDS/latency-toxiproxy.pid
KCFG=$STATE/kubeconfig-latency
ENVF=$STATE/latency.env
CONF=$STATE/latency-toxiproxy.json
PORT_BASE=${LATENCY_PORT_BASE:-$((${FLEET_PORT_BASE:-27000} + 4000))}
API=http://127.0.0.1:$PORT_BASE
RTT_MS=${RTT_MS:-50}
BANDWIDTH_KBPS=${BANDWIDTH_KBPS:-12500}
WORKSPACES=${WORKSPACES:-20}
TOKEN=admin-token

log() { printf '[latency] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# A pid counts as ours while its command line names our config file (guards against pid reuse).
alive() {
  local pid
  pid=$(cat "$PIDF" 2>/dev/null || true)
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$CONF"
}

api() { # METHOD PATH [JSON]
  local m=$1 p=$2 body=${3:-}
  if [ -n "$body" ]; then
    curl -sf --max-time 5 -X "$m" -H 'Content-Type: application/json' -d "$body" "$API$p"
  else
    curl -sf --max-time 5 -X "$m" "$API$p"
  fi
}

api_port() { # CLUSTER -> its kube-apiserver port (hack/fleet.sh: base+100*i)
  local base=${FLEET_PORT_BASE:-27000}
  case $1 in
    global) echo "$base" ;;
    workspace-*) echo $((base + 100 * ${1#workspace-})) ;;
  esac
}

stop() {
  alive || { rm -f "$PIDF"; return 0; }
  local pid i
  pid=$(cat "$PIDF")
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do alive || break; sleep 0.1; done
  alive && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PIDF"
  log "toxiproxy-server (pid $pid) stopped"
}

# toxics NAME [new]: the latency (half the RTT each way) and bandwidth toxics of one proxy, replacing the old
# ones (a new proxy has none).
toxics() {
  local name=$1 half dir
  half=$((RTT_MS / 2))
  for dir in upstream downstream; do
    if [ "${2:-}" != new ]; then
      api DELETE "/proxies/$name/toxics/latency_$dir" >/dev/null 2>&1 || true
      api DELETE "/proxies/$name/toxics/bandwidth_$dir" >/dev/null 2>&1 || true
    fi
    if [ "$RTT_MS" -gt 0 ]; then
      # RTT_MS odd: the extra millisecond goes downstream
      local ms=$half
      [ $dir = downstream ] && ms=$((RTT_MS - half))
      api POST "/proxies/$name/toxics" \
        "{\"name\":\"latency_$dir\",\"type\":\"latency\",\"stream\":\"$dir\",\"toxicity\":1,\"attributes\":{\"latency\":$ms,\"jitter\":0}}" >/dev/null
    fi
    if [ "$BANDWIDTH_KBPS" -gt 0 ]; then
      api POST "/proxies/$name/toxics" \
        "{\"name\":\"bandwidth_$dir\",\"type\":\"bandwidth\",\"stream\":\"$dir\",\"toxicity\":1,\"attributes\":{\"rate\":$BANDWIDTH_KBPS}}" >/dev/null
    fi
  done
}

proxy_names() { echo global-lat; local i; for ((i = 1; i <= WORKSPACES; i++)); do echo "ws-lat-$i"; done; }

cmd_up() {
  [ -s "$STATE/clusters" ] || die "the fleet is not up (hack/fleet.sh up)"
  [[ $RTT_MS =~ ^[0-9]+$ ]] || die "RTT_MS must be a whole number of milliseconds (got $RTT_MS)"
  [[ $BANDWIDTH_KBPS =~ ^[0-9]+$ ]] || die "BANDWIDTH_KBPS must be a whole number (got $BANDWIDTH_KBPS)"
  [[ $WORKSPACES =~ ^[0-9]+$ ]] || die "WORKSPACES must be a number (got $WORKSPACES)"
  [ -x "$BIN/toxiproxy-server" ] || "$ROOT/hack/tools.sh" toxiproxy
  local ws=() c
  mapfile -t ws < <(grep '^workspace-' "$STATE/clusters" || true)
  [ ${#ws[@]} -gt 0 ] || [ "$WORKSPACES" = 0 ] || die "the fleet has no workspace cluster (CLUSTERS>=2)"
  stop
  local p busy=()
  for ((p = PORT_BASE; p <= PORT_BASE + 1 + WORKSPACES; p++)); do
    ss -Hltn "sport = :$p" 2>/dev/null | grep -q . && busy+=("$p")
  done
  [ ${#busy[@]} = 0 ] || die "ports in use: ${busy[*]} (set LATENCY_PORT_BASE)"

  # The proxies are created at start-up from a config file; the toxics through the API.
  local i name up entries=() kc_clusters=() kc_users=() kc_ctx=()
  i=0
  for name in $(proxy_names); do
    if [ "$name" = global-lat ]; then c=global; else c=${ws[$(((${name#ws-lat-} - 1) % ${#ws[@]}))]}; fi
    up=$(api_port "$c")
    entries+=("{\"name\":\"$name\",\"listen\":\"127.0.0.1:$((PORT_BASE + 1 + i))\",\"upstream\":\"127.0.0.1:$up\",\"enabled\":true}")
    kc_clusters+=("- name: $name
  cluster:
    server: https://127.0.0.1:$((PORT_BASE + 1 + i))
    certificate-authority-data: $(base64 -w0 <"$STATE/$c/pki/ca.crt")")
    kc_users+=("- name: $name-admin
  user:
    token: $TOKEN")
    kc_ctx+=("- name: $name
  context:
    cluster: $name
    user: $name-admin")
    i=$((i + 1))
  done
  (IFS=,; echo "[${entries[*]}]") >"$CONF"
  mkdir -p "$PIDS" "$LOGS"
  setsid -f bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$PIDF" \
    "$BIN/toxiproxy-server" -host 127.0.0.1 -port "$PORT_BASE" -config "$CONF" -seed 1 \
    </dev/null >>"$LOGS/latency-toxiproxy.log" 2>&1
  for ((i = 0; i < 100; i++)); do api GET /version >/dev/null 2>&1 && break; sleep 0.1; done
  api GET /version >/dev/null 2>&1 || { tail -20 "$LOGS/latency-toxiproxy.log" >&2; die "toxiproxy-server did not start"; }
  local bg=() failed=0
  for name in $(proxy_names); do
    api GET "/proxies/$name" >/dev/null || { tail -20 "$LOGS/latency-toxiproxy.log" >&2; die "proxy $name was not created"; }
    toxics "$name" new &
    bg+=($!)
  done
  for p in "${bg[@]}"; do wait "$p" || failed=1; done
  [ $failed = 0 ] || die "could not set the toxics (see $LOGS/latency-toxiproxy.log)"
  {
    echo "apiVersion: v1"
    echo "kind: Config"
    echo "clusters:"; printf '%s\n' "${kc_clusters[@]}"
    echo "users:"; printf '%s\n' "${kc_users[@]}"
    echo "contexts:"; printf '%s\n' "${kc_ctx[@]}"
    echo "current-context: global-lat"
  } >"$KCFG"
  chmod 600 "$KCFG"
  cat >"$ENVF" <<EOF
# Generated by hack/latency.sh up
export TOXIPROXY_URL=$API
export SKOALA_LATENCY_KUBECONFIG=$KCFG
export SKOALA_LATENCY_RTT_MS=$RTT_MS
export SKOALA_LATENCY_BANDWIDTH_KBPS=$BANDWIDTH_KBPS
export SKOALA_LATENCY_WORKSPACES=$WORKSPACES
EOF
  log "toxiproxy-server pid $(cat "$PIDF") on $API: global-lat + ws-lat-1..$WORKSPACES over ${ws[*]:-no workspace}, RTT ${RTT_MS} ms, bandwidth ${BANDWIDTH_KBPS} KB/s each way"
  echo "export KUBECONFIG=$KCFG   # contexts global-lat, ws-lat-1..$WORKSPACES"
}

cmd_set() {
  RTT_MS=${1:?usage: latency.sh set RTT_MS [BANDWIDTH_KBPS]}
  BANDWIDTH_KBPS=${2:-$BANDWIDTH_KBPS}
  [[ $RTT_MS =~ ^[0-9]+$ ]] && [[ $BANDWIDTH_KBPS =~ ^[0-9]+$ ]] || die "RTT_MS and BANDWIDTH_KBPS are whole numbers"
  alive || die "not up (hack/latency.sh up)"
  local name n=0
  local bg=() p failed=0
  for name in $(api GET /proxies | grep -o '"name":"[^"]*","listen"' | sed 's/"name":"//; s/","listen"//'); do
    toxics "$name" &
    bg+=($!)
    n=$((n + 1))
  done
  for p in "${bg[@]}"; do wait "$p" || failed=1; done
  [ $failed = 0 ] || die "could not set the toxics"
  sed -i "s/^export SKOALA_LATENCY_RTT_MS=.*/export SKOALA_LATENCY_RTT_MS=$RTT_MS/; s/^export SKOALA_LATENCY_BANDWIDTH_KBPS=.*/export SKOALA_LATENCY_BANDWIDTH_KBPS=$BANDWIDTH_KBPS/" "$ENVF"
  log "$n proxies: RTT ${RTT_MS} ms, bandwidth ${BANDWIDTH_KBPS} KB/s each way"
}

cmd_status() {
  if ! alive; then echo "latency: not up"; return 3; fi
  echo "toxiproxy-server pid $(cat "$PIDF") on $API ($KCFG)"
  api GET /proxies | tr '{' '\n' | grep -o '"name":"[^"]*","listen":"[^"]*","upstream":"[^"]*"' |
    sed 's/"name":"\([^"]*\)","listen":"\([^"]*\)","upstream":"\([^"]*\)"/  \1 \2 -> \3/' | sort -V
  . "$ENVF"
  echo "  RTT $SKOALA_LATENCY_RTT_MS ms, bandwidth $SKOALA_LATENCY_BANDWIDTH_KBPS KB/s each way"
}

cmd_down() {
  stop
  rm -f "$KCFG" "$ENVF" "$CONF"
}

case ${1:-} in
  up) cmd_up ;;
  set) shift; cmd_set "$@" ;;
  status) cmd_status ;;
  down) cmd_down ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
