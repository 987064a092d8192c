#!/usr/bin/env bash
# hack/fleet.sh runs a local fleet of real Kubernetes control planes (etcd + kube-apiserver +
# kube-controller-manager + kube-scheduler + kwok faking one node) on loopback, plus a Helm chart repository
# serving the fixture charts of test/charts/. Everything lives under .cache/ (git-ignored).
#
# Usage:
#   hack/fleet.sh up                   start CLUSTERS clusters (default 2): contexts global, workspace-1, ...
#                                      Already up with the same clusters and healthy: says so, exits 0.
#                                      Up but degraded or with another CLUSTERS: stops it, starts afresh.
#   hack/fleet.sh down                 stop everything `up` started (by pid), remove the state (keeps the
#                                      packaged charts and .cache/bin; last logs go to .cache/fleet-last-logs)
#   hack/fleet.sh status               one line per cluster; exit 0 all up, 1 degraded, 3 not up
#   hack/fleet.sh stop-cluster NAME [--kill]   stop NAME's kube-apiserver only (SIGTERM, or SIGKILL with --kill);
#                                      etcd, its data and the other components stay. The port closes at once;
#                                      SIGKILL follows after FLEET_STOP_GRACE s (default 3) if it still drains
#   hack/fleet.sh start-cluster NAME   start NAME's kube-apiserver again and wait until it is ready
#
# Environment: CLUSTERS (default 2), FLEET_PORT_BASE (default 27000), CHARTREPO_PORT (default base+99),
#              SKOALA_CACHE (default <repo>/.cache).
#
# Ports (cluster i: 0 = global, N = workspace-N):  base+100*i  kube-apiserver (https, 127.0.0.1)
#                                                  base+100*i+1  etcd client    base+100*i+2  etcd peer
# The chart repository listens on 127.0.0.1:CHARTREPO_PORT (a free port is picked if that one is taken).
#                                                  base+100*i+3  kwok's kubelet API (https; pod logs)
# The image registry (CNCF distribution, hack/tools.sh registry) listens on https://127.0.0.1:REGISTRY_PORT
# (default base+98) with a certificate of its own CA (registry/pki/ca.crt) and htpasswd basic auth: user
# skoala, a random password per fleet (env: SKOALA_REGISTRY, _CA_FILE, _USERNAME, _PASSWORD); filesystem
# storage under registry/data. Offline bundles of the fixture charts (hack/offline) are written to
# bundles/<arch>/<chart>_<version>.bundle.tar (SKOALA_BUNDLES_DIR) for BUNDLE_VERSIONS (default 0.57.2).
# controller-manager and scheduler run with --secure-port=0: they listen on nothing.
#
# Fixed credentials of this loopback-only test fleet (token file of every apiserver):
#   admin-token     user admin,    groups system:masters           (kubeconfig)
#   readonly-token  user readonly, no groups (system:authenticated); `up` binds it to ClusterRole view
#                   (ClusterRoleBinding skoala-fleet-readonly-view; view cannot read Secrets, so no helm list)
#   nobody-token    user nobody,   no groups, no bindings
#
# Pods (kwok, stages of .cache/kwok-stages.yaml plus kwok-extra-stages.yaml written here):
#   every pod on node kwok-node-0 becomes Running/Ready within ~1 s; pods owned by a Job then become Succeeded
#   (Completed), so Jobs complete. Failure on demand, set on the pod template:
#   - annotation skoala.fixture/crash-loop=<container> (+ optional skoala.fixture/restart-count=N, default 5):
#     that container shows CrashLoopBackOff with N restarts, pod Running, Ready=False (this fleet's own stage)
#   - label pod-container-running-failed.stage.kwok.x-k8s.io=true (kwok's chaos stage; annotations
#     pod-container-running-failed.stage.kwok.x-k8s.io/{container-name,reason,message,exit-code}): the pod turns
#     Failed, so a ReplicaSet keeps creating replacements that fail too (a pile of Failed pods, no restarts)
#
# Outputs (.cache/cluster/):
#   kubeconfig, kubeconfig-readonly   one context per cluster, named after it; current-context global
#   env                               shell-sourceable: KUBECONFIG, HELM_*, SKOALA_CHARTREPO_URL, SKOALA_CLUSTERS...
#   chartrepo.url                     http://127.0.0.1:PORT (helm repo "skoala-release")
#   helm/repositories.yaml, helm/cache/skoala-release-index.yaml
#   charts/                           served folder (hack/charts.sh)
#   pids/<cluster>-<component>.pid, logs/<cluster>-<component>.log, <cluster>/ (etcd data, pki, tokens)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${SKOALA_CACHE:-$ROOT/.cache}
BIN=$CACHE/bin
STATE=$CACHE/cluster
PIDS=$STATE/pids
LOGS=$STATE/logs
CLUSTERS=${CLUSTERS:-2}
PORT_BASE=${FLEET_PORT_BASE:-27000}
CHARTREPO_PORT=${CHARTREPO_PORT:-$((PORT_BASE + 99))}
REGISTRY_PORT=${REGISTRY_PORT:-$((PORT_BASE + 98))}
REGISTRY_USER=skoala
BUNDLE_VERSIONS=${BUNDLE_VERSIONS:-0.57.2}
STAGES=$CACHE/kwok-stages.yaml
KUBECTL=${KUBECTL:-kubectl}
SERVICE_CIDR=10.96.0.0/16
NODE_NAME=kwok-node-0
ADMIN_TOKEN=admin-token
READONLY_TOKEN=readonly-token
NOBODY_TOKEN=nobody-token
# stop order (reverse of start); etcd goes last
COMPONENTS_STOP_ORDER=(kwok kube-scheduler kube-controller-manager kube-apiserver etcd)

log() { printf '[fleet] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# --- names and ports --------------------------------------------------------------------------------------
cluster_names() { # N -> global workspace-1 ... workspace-(N-1)
  local n=$1 i
  echo global
  for ((i = 1; i < n; i++)); do echo "workspace-$i"; done
}
cluster_index() {
  case $1 in
    global) echo 0 ;;
    workspace-[0-9]*) echo "${1#workspace-}" ;;
    *) return 1 ;;
  esac
}
api_port() { echo $((PORT_BASE + 100 * $(cluster_index "$1"))); }
etcd_port() { echo $((PORT_BASE + 100 * $(cluster_index "$1") + 1)); }
peer_port() { echo $((PORT_BASE + 100 * $(cluster_index "$1") + 2)); }
kwok_port() { echo $((PORT_BASE + 100 * $(cluster_index "$1") + 3)); }
recorded_clusters() { cat "$STATE/clusters" 2>/dev/null || true; }

# --- processes --------------------------------------------------------------------------------------------
# A pid file holds one pid. A pid counts as ours only while its command line mentions $STATE (guards against
# pid reuse) and it is not a zombie (a detached process may be left unreaped by PID 1 in a container).
pid_of() { cat "$PIDS/$1.pid" 2>/dev/null || true; }
alive() {
  local pid=$1 st
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  st=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null || echo X)
  [ "$st" != Z ] && [ "$st" != X ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$STATE"
}
running() { alive "$(pid_of "$1")"; }

# start NAME BINARY ARGS...: detached (own session, no stdin, output to logs/NAME.log); the child writes its
# own pid (setsid may fork), so pids/NAME.pid is the real process.
start() {
  local name=$1 i
  shift
  rm -f "$PIDS/$name.pid"
  setsid -f bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$PIDS/$name.pid" "$@" \
    </dev/null >>"$LOGS/$name.log" 2>&1
  for ((i = 0; i < 100; i++)); do [ -s "$PIDS/$name.pid" ] && return 0; sleep 0.05; done
  die "$name did not start (see $LOGS/$name.log)"
}

# stop_all SIGNAL NAME...: signal every named process, wait for all, SIGKILL what is left after STOP_GRACE
# seconds (10 by default).
STOP_GRACE=10
stop_all() {
  local sig=$1 name pid i left
  shift
  for name in "$@"; do
    pid=$(pid_of "$name")
    if alive "$pid"; then kill "-$sig" "$pid" 2>/dev/null || true; fi
  done
  for ((i = 0; i < STOP_GRACE * 10; i++)); do
    left=0
    for name in "$@"; do alive "$(pid_of "$name")" && left=1; done
    [ $left = 0 ] && break
    sleep 0.1
  done
  for name in "$@"; do
    pid=$(pid_of "$name")
    if alive "$pid"; then
      log "$name (pid $pid) still running after ${STOP_GRACE}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do alive "$pid" || break; sleep 0.1; done
      alive "$pid" && log "WARNING: $name (pid $pid) survived SIGKILL"
    fi
    rm -f "$PIDS/$name.pid"
  done
}

# port_holder PORT: "pid=N (cmd)" of the listener on 127.0.0.1/any, or empty when free.
port_holder() {
  local out
  out=$(ss -Hltnp "sport = :$1" 2>/dev/null || true)
  [ -z "$out" ] && return 0
  echo "$out" | grep -o 'users:(([^)]*))' | head -1 | sed 's/users:((//; s/))//' || echo "unknown process"
}
check_ports_free() {
  local bad=0 p h
  for p in "$@"; do
    h=$(port_holder "$p")
    if [ -n "$h" ]; then log "port $p is in use by $h"; bad=1; fi
  done
  [ $bad = 0 ] || die "ports in use (set FLEET_PORT_BASE to move the fleet, or stop the holder)"
}

# --- per-cluster files ------------------------------------------------------------------------------------
# make_serving_cert DIR CA_CN NAME SAN: DIR/ca.{key,crt} (a CA of its own) and DIR/NAME.{key,crt} (a serving
# certificate for the subjectAltName list SAN, signed by that CA).
make_serving_cert() {
  local d=$1 ca_cn=$2 name=$3 san=$4
  mkdir -p "$d"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -keyout "$d/ca.key" -out "$d/ca.crt" -subj "/CN=$ca_cn" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$d/$name.key" -out "$d/$name.csr" -subj "/CN=$name" 2>/dev/null
  printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth" "subjectAltName=$san" >"$d/$name.ext"
  openssl x509 -req -in "$d/$name.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 3650 \
    -extfile "$d/$name.ext" -out "$d/$name.crt" 2>/dev/null
}

make_pki() { # CLUSTER: CA, apiserver serving cert (127.0.0.1, localhost, in-cluster names), SA key pair
  local d=$STATE/$1/pki
  make_serving_cert "$d" "skoala-fleet-$1-ca" apiserver \
    "IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  # kwok's kubelet API (pod logs), reached by the kube-apiserver at the node's address 127.0.0.1
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$d/kwok.key" -out "$d/kwok.csr" -subj "/CN=kwok-node-0" 2>/dev/null
  printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" >"$d/kwok.ext"
  openssl x509 -req -in "$d/kwok.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 3650 \
    -extfile "$d/kwok.ext" -out "$d/kwok.crt" 2>/dev/null
  openssl genrsa -out "$d/sa.key" 2048 2>/dev/null
  openssl rsa -in "$d/sa.key" -pubout -out "$d/sa.pub" 2>/dev/null
}

write_tokens() {
  cat >"$STATE/$1/tokens.csv" <<EOF
$ADMIN_TOKEN,admin,uid-admin,"system:masters"
$READONLY_TOKEN,readonly,uid-readonly
$NOBODY_TOKEN,nobody,uid-nobody
EOF
}

# kubeconfig_yaml USER TOKEN CLUSTER...: one context per cluster (context name = cluster name)
kubeconfig_yaml() {
  local user=$1 token=$2 c
  shift 2
  echo "apiVersion: v1"
  echo "kind: Config"
  echo "clusters:"
  for c in "$@"; do
    echo "- name: $c"
    echo "  cluster:"
    echo "    server: https://127.0.0.1:$(api_port "$c")"
    echo "    certificate-authority-data: $(base64 -w0 <"$STATE/$c/pki/ca.crt")"
  done
  echo "users:"
  for c in "$@"; do
    echo "- name: $c-$user"
    echo "  user:"
    echo "    token: $token"
  done
  echo "contexts:"
  for c in "$@"; do
    echo "- name: $c"
    echo "  context:"
    echo "    cluster: $c"
    echo "    user: $c-$user"
  done
  echo "current-context: $1"
}

# --- components -------------------------------------------------------------------------------------------
start_etcd() {
  local c=$1 d=$STATE/$1
  mkdir -p "$d/etcd"
  start "$c-etcd" "$BIN/etcd" --name "$c" --data-dir "$d/etcd" \
    --listen-client-urls "http://127.0.0.1:$(etcd_port "$c")" --advertise-client-urls "http://127.0.0.1:$(etcd_port "$c")" \
    --listen-peer-urls "http://127.0.0.1:$(peer_port "$c")" --initial-advertise-peer-urls "http://127.0.0.1:$(peer_port "$c")" \
    --initial-cluster "$c=http://127.0.0.1:$(peer_port "$c")" --initial-cluster-state new \
    --unsafe-no-fsync --log-level warn
}

start_apiserver() {
  local c=$1 d=$STATE/$1
  start "$c-kube-apiserver" "$BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$(etcd_port "$c")" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$(api_port "$c")" \
    --tls-cert-file "$d/pki/apiserver.crt" --tls-private-key-file "$d/pki/apiserver.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$d/pki/sa.pub" --service-account-signing-key-file "$d/pki/sa.key" \
    --token-auth-file "$d/tokens.csv" --authorization-mode Node,RBAC \
    --service-cluster-ip-range "$SERVICE_CIDR" --endpoint-reconciler-type none \
    --kubelet-preferred-address-types InternalIP \
    --profiling=false
}

start_controllers() {
  local c=$1 d=$STATE/$1
  start "$c-kube-controller-manager" "$BIN/kube-controller-manager" \
    --kubeconfig "$d/admin.kubeconfig" --authentication-kubeconfig "$d/admin.kubeconfig" \
    --authorization-kubeconfig "$d/admin.kubeconfig" \
    --service-account-private-key-file "$d/pki/sa.key" --root-ca-file "$d/pki/ca.crt" \
    --leader-elect=false --secure-port 0 --controllers '*' --profiling=false
  start "$c-kube-scheduler" "$BIN/kube-scheduler" \
    --kubeconfig "$d/admin.kubeconfig" --authentication-kubeconfig "$d/admin.kubeconfig" \
    --authorization-kubeconfig "$d/admin.kubeconfig" --leader-elect=false --secure-port 0 --profiling=false
  start "$c-kwok" "$BIN/kwok" --kubeconfig "$d/admin.kubeconfig" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --node-ip 127.0.0.1 --node-port "$(kwok_port "$c")" --server-address "127.0.0.1:$(kwok_port "$c")" \
    --tls-cert-file "$d/pki/kwok.crt" --tls-private-key-file "$d/pki/kwok.key" \
    --cidr 10.0.0.1/24 --config "$STAGES" --config "$STATE/kwok-extra-stages.yaml" --config "$STATE/kwok-logs.yaml"
}

# Extra kwok stage of this fleet: pod annotation skoala.fixture/crash-loop=<container> makes that container
# crash-loop (waiting CrashLoopBackOff, restartCount from skoala.fixture/restart-count, default 5; the pod stays
# Running, Ready=False), like a real kubelet shows it. (kwok's own chaos stage, label
# pod-container-running-failed.stage.kwok.x-k8s.io=true, instead turns the whole pod Failed.)
write_extra_stages() {
  cat >"$STATE/kwok-extra-stages.yaml" <<'EOF'
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: skoala-fixture-container-crash-loop
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.annotations["skoala.fixture/crash-loop"]'
      operator: 'Exists'
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values:
      - 'Running'
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: 'In'
      values:
      - 'True'
  delay:
    durationMilliseconds: 500
  weight: 10000
  next:
    statusTemplate: |
      {{ $now := Now }}
      {{ $annotations := or .metadata.annotations dict }}
      {{ $crash := index $annotations "skoala.fixture/crash-loop" }}
      {{ $restarts := or ( index $annotations "skoala.fixture/restart-count" ) "5" }}
      conditions:
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: Initialized
      - lastTransitionTime: {{ $now | Quote }}
        status: "False"
        reason: ContainersNotReady
        message: {{ printf "containers with unready status: [%s]" $crash | Quote }}
        type: Ready
      - lastTransitionTime: {{ $now | Quote }}
        status: "False"
        reason: ContainersNotReady
        type: ContainersReady
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: PodScheduled
      containerStatuses:
      {{ range .spec.containers }}
      {{ if eq .name $crash }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        started: false
        restartCount: {{ $restarts }}
        lastState:
          terminated:
            exitCode: 1
            reason: Error
            startedAt: {{ $now | Quote }}
            finishedAt: {{ $now | Quote }}
        state:
          waiting:
            reason: CrashLoopBackOff
            message: {{ printf "back-off 5m0s restarting failed container=%s" .name | Quote }}
      {{ else }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: true
        started: true
        restartCount: 0
        state:
          running:
            startedAt: {{ $now | Quote }}
      {{ end }}
      {{ end }}
      phase: Running
EOF
}

# Pod logs: kwok serves the kubelet API on 127.0.0.1:base+100*i+3 (the node's address and port), so
# `kubectl logs` (and `bundle --logs`) read real responses: every container of every pod logs the lines of
# kwok-pod.log (ClusterLogs), CRI format, stamped at `up` within the last minutes. Its size
# (FLEET_POD_LOG_LINES lines of ~100 bytes, default 600) lets the tests make the size bound cut logs.
write_pod_logs() {
  local n=${FLEET_POD_LOG_LINES:-600} i t0
  t0=$(( $(date +%s) - n ))
  for ((i = 0; i < n; i++)); do
    printf '%s stdout F level=info msg="fleet log line %05d of this container" component=kwok-fixture seq=%d\n' \
      "$(date -u -d "@$((t0 + i))" +%Y-%m-%dT%H:%M:%S.000000000Z)" "$i" "$i"
  done >"$STATE/kwok-pod.log"
  printf '%s stderr F level=error msg="fleet log line of the previous container" component=kwok-fixture\n' \
    "$(date -u -d "@$t0" +%Y-%m-%dT%H:%M:%S.000000000Z)" >"$STATE/kwok-pod-previous.log"
  cat >"$STATE/kwok-logs.yaml" <<EOF
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: skoala-fleet-pod-logs
spec:
  selector: {}
  logs:
  - logsFile: $STATE/kwok-pod.log
    previousLogsFile: $STATE/kwok-pod-previous.log
    follow: false
EOF
}

node_yaml() {
  cat <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $NODE_NAME
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: $NODE_NAME
    kubernetes.io/os: linux
    kubernetes.io/role: agent
    node-role.kubernetes.io/agent: ""
    type: kwok
spec: {}
status:
  allocatable: {cpu: "64", memory: 256Gi, pods: "500"}
  capacity: {cpu: "64", memory: 256Gi, pods: "500"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: skoala-fleet-readonly-view
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: readonly}
EOF
}

readyz() { # CLUSTER -> 0 when /readyz says ok
  local c=$1
  [ "$(curl -s --max-time 2 --cacert "$STATE/$c/pki/ca.crt" -H "Authorization: Bearer $ADMIN_TOKEN" \
    "https://127.0.0.1:$(api_port "$c")/readyz" 2>/dev/null)" = ok ]
}

wait_ready() { # TIMEOUT CLUSTER...
  local timeout=$1 c i pending
  shift
  for ((i = 0; i < timeout * 4; i++)); do
    pending=()
    for c in "$@"; do
      readyz "$c" && continue
      running "$c-kube-apiserver" || { tail -20 "$LOGS/$c-kube-apiserver.log" >&2; die "$c: kube-apiserver exited"; }
      running "$c-etcd" || { tail -20 "$LOGS/$c-etcd.log" >&2; die "$c: etcd exited"; }
      pending+=("$c")
    done
    [ ${#pending[@]} = 0 ] && return 0
    sleep 0.25
  done
  for c in "${pending[@]}"; do tail -20 "$LOGS/$c-kube-apiserver.log" >&2; done
  die "kube-apiserver not ready after ${timeout}s: ${pending[*]}"
}

# --- chart repository -------------------------------------------------------------------------------------
build_chartrepo() {
  local src=$ROOT/hack/chartrepo/main.go out=$BIN/chartrepo
  [ -x "$out" ] && [ "$out" -nt "$src" ] && return 0
  log "building chartrepo"
  if [ -f "$ROOT/go.mod" ]; then
    (cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -o "$out" ./hack/chartrepo)
  else
    (cd "$ROOT/hack/chartrepo" && CGO_ENABLED=0 GO111MODULE=off go build -trimpath -o "$out" .)
  fi
}

start_chartrepo() {
  local port=$CHARTREPO_PORT i
  if [ -n "$(port_holder "$port")" ]; then
    log "chart repository port $port is in use by $(port_holder "$port"): picking a free port"
    port=0
  fi
  rm -f "$STATE/chartrepo.url"
  start chartrepo "$BIN/chartrepo" -dir "$STATE/charts" -addr "127.0.0.1:$port" -urlfile "$STATE/chartrepo.url"
  for ((i = 0; i < 100; i++)); do [ -s "$STATE/chartrepo.url" ] && break; sleep 0.05; done
  [ -s "$STATE/chartrepo.url" ] || { cat "$LOGS/chartrepo.log" >&2; die "chart repository did not start"; }
  curl -sf --max-time 5 "$(cat "$STATE/chartrepo.url")/index.yaml" >/dev/null || die "chart repository does not serve index.yaml"
}

# --- image registry ---------------------------------------------------------------------------------------
build_offline() {
  local out=$BIN/skoala-offline newest
  newest=$(find "$ROOT/hack/offline" "$ROOT/pkg/images" "$ROOT/pkg/helmsdk" -name '*.go' -newer "$out" 2>/dev/null | head -1 || true)
  [ -x "$out" ] && [ -z "$newest" ] && return 0
  log "building hack/offline"
  (cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -o "$out.tmp" ./hack/offline && mv "$out.tmp" "$out")
}

start_registry() {
  local d=$STATE/registry i
  mkdir -p "$d/data"
  check_ports_free "$REGISTRY_PORT"
  make_serving_cert "$d/pki" skoala-fleet-registry-ca registry "IP:127.0.0.1,DNS:localhost"
  (umask 077 && openssl rand -hex 16 >"$d/password")
  "$BIN/skoala-offline" htpasswd "$REGISTRY_USER" <"$d/password" >"$d/htpasswd"
  cat >"$d/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $d/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$REGISTRY_PORT
  secret: $(openssl rand -hex 16)
  tls:
    certificate: $d/pki/registry.crt
    key: $d/pki/registry.key
auth:
  htpasswd:
    realm: skoala-fleet
    path: $d/htpasswd
EOF
  start registry "$BIN/registry" serve "$d/config.yml"
  for ((i = 0; i < 100; i++)); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$d/pki/ca.crt" "https://127.0.0.1:$REGISTRY_PORT/v2/")" = 401 ] && return 0
    running registry || { cat "$LOGS/registry.log" >&2; die "registry exited"; }
    sleep 0.1
  done
  cat "$LOGS/registry.log" >&2
  die "registry does not answer on https://127.0.0.1:$REGISTRY_PORT/v2/"
}

make_bundles() {
  log "writing offline bundles of $BUNDLE_VERSIONS into $STATE/bundles"
  "$BIN/skoala-offline" bundles -charts "$STATE/charts" -out "$STATE/bundles" -versions "${BUNDLE_VERSIONS// /,}"
}

write_env() {
  local url
  url=$(cat "$STATE/chartrepo.url")
  cat >"$STATE/env" <<EOF
# Generated by hack/fleet.sh up: source it (. .cache/cluster/env) to talk to the local fleet.
export KUBECONFIG=$STATE/kubeconfig
export SKOALA_KUBECONFIG_READONLY=$STATE/kubeconfig-readonly
export HELM_REPOSITORY_CONFIG=$STATE/helm/repositories.yaml
export HELM_REPOSITORY_CACHE=$STATE/helm/cache
export HELM_CONFIG_HOME=$STATE/helm/config
export HELM_DATA_HOME=$STATE/helm/data
export HELM_CACHE_HOME=$STATE/helm/cache-home
export SKOALA_CHARTREPO_URL=$url
export SKOALA_CLUSTERS="$(recorded_clusters | paste -sd' ')"
export SKOALA_FLEET_DIR=$STATE
export SKOALA_BIN=$BIN
# the image registry (loopback test fleet; the password is random per fleet, kept in registry/password)
export SKOALA_REGISTRY=127.0.0.1:$REGISTRY_PORT
export SKOALA_REGISTRY_CA_FILE=$STATE/registry/pki/ca.crt
export SKOALA_REGISTRY_USERNAME=$REGISTRY_USER
export SKOALA_REGISTRY_PASSWORD=$(cat "$STATE/registry/password")
export SKOALA_BUNDLES_DIR=$STATE/bundles
export SKOALA_OFFLINE_TOOL=$BIN/skoala-offline
# fixed bearer tokens of every cluster (loopback test fleet): admin (system:masters), readonly (ClusterRole view), nobody
export SKOALA_TOKEN_ADMIN=$ADMIN_TOKEN
export SKOALA_TOKEN_READONLY=$READONLY_TOKEN
export SKOALA_TOKEN_NOBODY=$NOBODY_TOKEN
EOF
}

setup_helm_repo() {
  # shellcheck disable=SC1091
  . "$STATE/env"
  mkdir -p "$HELM_REPOSITORY_CACHE" "$HELM_CONFIG_HOME" "$HELM_DATA_HOME" "$HELM_CACHE_HOME"
  "$BIN/helm3" repo add skoala-release "$SKOALA_CHARTREPO_URL" --force-update >/dev/null
  "$BIN/helm3" repo update >/dev/null
  [ -s "$HELM_REPOSITORY_CACHE/skoala-release-index.yaml" ] || die "helm repo update did not cache skoala-release-index.yaml"
}

# --- verbs ------------------------------------------------------------------------------------------------
components_of() { local c=$1 x; for x in etcd kube-apiserver kube-controller-manager kube-scheduler kwok; do echo "$c-$x"; done; }

# fleet_health -> "up" (every recorded process alive, every apiserver ready), "down" (nothing alive), "degraded"
fleet_health() {
  local c p any=0 all=1
  [ -s "$STATE/clusters" ] || { echo down; return; }
  for c in $(recorded_clusters); do
    for p in $(components_of "$c"); do
      if running "$p"; then any=1; else all=0; fi
    done
    readyz "$c" || all=0
  done
  if running chartrepo; then any=1; else all=0; fi
  if running registry; then any=1; else all=0; fi
  if [ $all = 1 ]; then echo up; elif [ $any = 1 ]; then echo degraded; else echo down; fi
}

cmd_up() {
  local t0 names c h p
  t0=$(now)
  [ "$CLUSTERS" -ge 1 ] 2>/dev/null || die "CLUSTERS must be a number >= 1 (got $CLUSTERS)"
  mapfile -t names < <(cluster_names "$CLUSTERS")
  h=$(fleet_health)
  if [ "$h" = up ] && [ "$(recorded_clusters | tr '\n' ' ')" = "$(printf '%s ' "${names[@]}")" ]; then
    log "fleet already up (${names[*]}); nothing to do. export KUBECONFIG=$STATE/kubeconfig"
    return 0
  fi
  if [ "$h" != down ] || [ -s "$STATE/clusters" ] || compgen -G "$PIDS/*.pid" >/dev/null; then
    log "fleet is $h with [$(recorded_clusters | paste -sd' ')]: stopping it first"
    cmd_down
  fi

  "$ROOT/hack/tools.sh" fleet registry
  for b in etcd kube-apiserver kube-controller-manager kube-scheduler kwok helm3 registry; do
    [ -x "$BIN/$b" ] || die "$BIN/$b missing after hack/tools.sh fleet"
  done
  [ -s "$STAGES" ] || die "$STAGES missing (hack/tools.sh kwok writes it)"
  build_chartrepo
  build_offline

  local ports=()
  for c in "${names[@]}"; do ports+=("$(api_port "$c")" "$(etcd_port "$c")" "$(peer_port "$c")"); done
  check_ports_free "${ports[@]}"

  mkdir -p "$PIDS" "$LOGS"
  # a failed up stops what it started (its logs are kept in .cache/fleet-last-logs)
  trap 'rc=$?; trap - EXIT; if [ $rc != 0 ]; then log "up failed: stopping what it started"; cmd_down; fi; exit $rc' EXIT
  printf '%s\n' "${names[@]}" >"$STATE/clusters"
  HELM="$BIN/helm3" "$ROOT/hack/charts.sh" "$STATE/charts"
  write_extra_stages
  write_pod_logs

  log "starting ${names[*]} (ports from $PORT_BASE)"
  local pki=()
  for c in "${names[@]}"; do
    mkdir -p "$STATE/$c"
    make_pki "$c" &
    pki+=($!)
  done
  for p in "${pki[@]}"; do wait "$p" || die "could not make the certificates (openssl)"; done
  for c in "${names[@]}"; do
    write_tokens "$c"
    kubeconfig_yaml admin "$ADMIN_TOKEN" "$c" >"$STATE/$c/admin.kubeconfig"
    start_etcd "$c"
  done
  for c in "${names[@]}"; do start_apiserver "$c"; done
  start_chartrepo
  start_registry
  make_bundles &
  local bundles_pid=$!
  wait_ready 120 "${names[@]}"
  log "apiservers ready after $(since "$t0")s"
  for c in "${names[@]}"; do start_controllers "$c"; done

  kubeconfig_yaml admin "$ADMIN_TOKEN" "${names[@]}" >"$STATE/kubeconfig"
  kubeconfig_yaml readonly "$READONLY_TOKEN" "${names[@]}" >"$STATE/kubeconfig-readonly"
  chmod 600 "$STATE/kubeconfig" "$STATE/kubeconfig-readonly"
  local bg=() failed=0
  for c in "${names[@]}"; do
    node_yaml | "$KUBECTL" --kubeconfig "$STATE/kubeconfig" --context "$c" apply -f - >/dev/null &
    bg+=($!)
  done
  for p in "${bg[@]}"; do wait "$p" || failed=1; done
  [ $failed = 0 ] || die "could not create the kwok node / readonly binding (logs in $LOGS)"
  write_env
  bg=()
  setup_helm_repo &
  bg+=($!)
  for c in "${names[@]}"; do
    "$KUBECTL" --kubeconfig "$STATE/kubeconfig" --context "$c" wait --for=condition=Ready "node/$NODE_NAME" \
      --timeout=90s >/dev/null &
    bg+=($!)
  done
  for p in "${bg[@]}"; do wait "$p" || failed=1; done
  [ $failed = 0 ] || die "node $NODE_NAME did not become Ready, or helm repo setup failed (logs in $LOGS)"
  wait "$bundles_pid" || die "could not write the offline bundles (hack/offline)"
  for c in "${names[@]}"; do
    for p in $(components_of "$c"); do running "$p" || die "$p exited (see $LOGS/$p.log)"; done
  done

  trap - EXIT
  log "fleet up in $(since "$t0")s: ${names[*]}; chart repository $(cat "$STATE/chartrepo.url") (helm repo skoala-release)"
  cat <<EOF
Fleet is up: ${names[*]} (contexts of the same names; current-context global).
  export KUBECONFIG=$STATE/kubeconfig
or, for helm too:
  . $STATE/env
EOF
}

cmd_down() {
  local t0 names=() c comp list
  t0=$(now)
  mapfile -t names < <(recorded_clusters)
  if [ -d "$PIDS" ]; then
    # any pid file whose cluster is not in the list (an interrupted up) is stopped too
    stop_all TERM chartrepo registry
    for comp in "${COMPONENTS_STOP_ORDER[@]}"; do
      list=()
      for c in "${names[@]}"; do list+=("$c-$comp"); done
      for c in "$PIDS"/*-"$comp".pid; do [ -e "$c" ] && list+=("$(basename "$c" .pid)"); done
      [ ${#list[@]} -gt 0 ] && stop_all TERM "${list[@]}"
    done
    for c in "$PIDS"/*.pid; do [ -e "$c" ] && stop_all TERM "$(basename "$c" .pid)"; done
  fi
  if [ -d "$STATE" ]; then
    if [ -d "$LOGS" ]; then rm -rf "$CACHE/fleet-last-logs" && mv "$LOGS" "$CACHE/fleet-last-logs"; fi
    find "$STATE" -mindepth 1 -maxdepth 1 ! -name charts -exec rm -rf {} +
  fi
  log "fleet down in $(since "$t0")s (last logs: $CACHE/fleet-last-logs)"
}

cmd_status() {
  local c p state h rc=0 up=0 down=0
  if [ ! -s "$STATE/clusters" ]; then echo "fleet: not up"; return 3; fi
  for c in $(recorded_clusters); do
    state=""
    for p in $(components_of "$c"); do
      if running "$p"; then state+=" ${p#"$c"-}=$(pid_of "$p")"; else state+=" ${p#"$c"-}=DOWN"; fi
    done
    if readyz "$c"; then h=ready; up=$((up + 1)); else h=NOT-READY; down=$((down + 1)); fi
    printf '%-12s https://127.0.0.1:%s %-9s%s\n' "$c" "$(api_port "$c")" "$h" "$state"
  done
  if running chartrepo; then
    printf '%-12s %s pid=%s\n' chartrepo "$(cat "$STATE/chartrepo.url")" "$(pid_of chartrepo)"
  else
    printf '%-12s DOWN\n' chartrepo; down=$((down + 1))
  fi
  if running registry; then
    printf '%-12s https://127.0.0.1:%s pid=%s\n' registry "$REGISTRY_PORT" "$(pid_of registry)"
  else
    printf '%-12s DOWN\n' registry; down=$((down + 1))
  fi
  if [ $down = 0 ]; then rc=0; elif [ $up = 0 ] && ! running chartrepo; then rc=3; else rc=1; fi
  return $rc
}

known_cluster() { recorded_clusters | grep -qx -- "$1" || die "unknown cluster '$1' (fleet: $(recorded_clusters | tr '\n' ' '))"; }

cmd_stop_cluster() {
  local c=${1:?usage: fleet.sh stop-cluster NAME [--kill]} sig=TERM
  [ "${2:-}" = --kill ] && sig=KILL
  known_cluster "$c"
  running "$c-kube-apiserver" || { log "$c: kube-apiserver is not running"; return 0; }
  # It stops listening at once; then it drains its clients' connections (controller-manager, scheduler and
  # kwok stay connected) for up to --request-timeout (60 s): do not wait that long.
  STOP_GRACE=${FLEET_STOP_GRACE:-3}
  stop_all "$sig" "$c-kube-apiserver"
  log "$c: kube-apiserver stopped (SIG$sig); etcd and the other components keep running"
}

cmd_start_cluster() {
  local c=${1:?usage: fleet.sh start-cluster NAME} t0
  t0=$(now)
  known_cluster "$c"
  if running "$c-kube-apiserver"; then log "$c: kube-apiserver already running"; return 0; fi
  running "$c-etcd" || start_etcd "$c"
  check_ports_free "$(api_port "$c")"
  start_apiserver "$c"
  wait_ready 120 "$c"
  log "$c: kube-apiserver ready again after $(since "$t0")s"
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  stop-cluster) shift; cmd_stop_cluster "$@" ;;
  start-cluster) shift; cmd_start_cluster "$@" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
