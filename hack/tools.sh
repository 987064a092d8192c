#!/usr/bin/env bash
# hack/tools.sh builds the pinned binaries the local fleet and the e2e tests need, from the Go module proxy,
# into .cache/bin. Each binary is rebuilt only when its pinned version changes (a stamp file records it).
# Usage: hack/tools.sh [all|fleet|helm3|helm4|krew|toxiproxy|registry|crane|deadcode|fuzz-go|...]
# (fuzz-go is not a binary: it fetches the Go toolchain hack/fuzz.sh runs on into the Go module cache.)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${SKOALA_CACHE:-$ROOT/.cache}
BIN=$CACHE/bin
mkdir -p "$BIN"

K8S_VERSION=v1.37.2
ETCD_VERSION=v3.7.0
KWOK_VERSION=v0.8.0
HELM3_VERSION=v3.21.4
HELM4_VERSION=v4.3.2
KREW_VERSION=v0.4.3
TOXIPROXY_VERSION=v2.12.0
REGISTRY_VERSION=v3.1.2
# deadcode (hack/verify-deadcode.sh): golang.org/x/tools' unreachable-function finder, ~20 s cold (x/tools is
# in the module cache already: the module's go.sum has it)
DEADCODE_VERSION=v0.51.0
# crane: the reference of the images-push benchmark, from the go-containerregistry version the plugin uses
CRANE_VERSION=$(sed -n 's#^[[:space:]]*github.com/google/go-containerregistry \(v[^ ]*\).*#\1#p' "$ROOT/go.mod" | head -1)

log() { printf '[tools] %s\n' "$*" >&2; }
fresh() { [ -x "$BIN/$1" ] && [ "$(cat "$BIN/.$1.version" 2>/dev/null)" = "$2" ]; }
stamp() { echo "$2" >"$BIN/.$1.version"; }

# goinstall NAME VERSION PKG@VER: go install into a temporary GOBIN, then move into place under NAME.
goinstall() {
  local name=$1 ver=$2 pkg=$3 tmp
  fresh "$name" "$ver" && return 0
  log "building $name $ver (cold: minutes)"
  tmp=$(mktemp -d)
  GOBIN=$tmp GOFLAGS=-buildvcs=false CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "$pkg"
  mv "$tmp"/* "$BIN/$name"
  rmdir "$tmp"
  stamp "$name" "$ver"
}

# The control plane: k8s.io/kubernetes cannot be go-installed (its go.mod replaces staging modules with local
# paths), so a throwaway module requires it and replaces each staging module with its published twin.
build_control_plane() {
  local want="$K8S_VERSION/$ETCD_VERSION"
  if fresh kube-apiserver "$want" && fresh kube-controller-manager "$want" && fresh kube-scheduler "$want" && fresh etcd "$want"; then
    return 0
  fi
  local mod=$CACHE/tools-module
  mkdir -p "$mod/etcd"
  local kgomod staging
  kgomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  staging=$(grep -E '^\s*k8s.io/[a-z0-9-]+ => ./staging/' "$kgomod" | awk '{print $1}')
  local minor=${K8S_VERSION#v1.}
  {
    echo "module skoala.local/tools"
    echo
    echo "go $(go env GOVERSION | sed 's/^go//' | cut -d. -f1,2)"
    echo
    echo "require ("
    echo "  k8s.io/kubernetes $K8S_VERSION"
    echo "  go.etcd.io/etcd/server/v3 $ETCD_VERSION"
    echo ")"
    echo
    echo "replace ("
    for m in $staging; do echo "  $m => $m v0.$minor"; done
    echo ")"
  } >"$mod/go.mod"
  cat >"$mod/etcd/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  cat >"$mod/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
GO
  (cd "$mod" && GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 || true)
  local gv=${K8S_VERSION#v} maj min
  maj=${gv%%.*}; min=$(echo "$gv" | cut -d. -f2)
  local ld="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=$maj -X k8s.io/component-base/version.gitMinor=$min"
  for c in kube-apiserver kube-controller-manager kube-scheduler; do
    fresh "$c" "$want" && continue
    log "building $c $K8S_VERSION (cold: minutes)"
    (cd "$mod" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "$ld" -o "$BIN/$c.tmp" "k8s.io/kubernetes/cmd/$c")
    mv "$BIN/$c.tmp" "$BIN/$c"; stamp "$c" "$want"
  done
  if ! fresh etcd "$want"; then
    log "building etcd $ETCD_VERSION"
    (cd "$mod" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$BIN/etcd.tmp" ./etcd)
    mv "$BIN/etcd.tmp" "$BIN/etcd"; stamp etcd "$want"
  fi
}

build_kwok() {
  goinstall kwok "$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  # kwok needs stage configuration; the stage files ship inside its module.
  if [ ! -s "$CACHE/kwok-stages.yaml" ] || [ "$(cat "$BIN/.kwok-stages.version" 2>/dev/null)" != "$KWOK_VERSION" ]; then
    local dir
    dir=$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
    {
      cat "$dir/kustomize/stage/node/fast/node-initialize.yaml"; echo "---"
      cat "$dir/kustomize/stage/node/heartbeat/node-heartbeat.yaml"
      for f in "$dir"/kustomize/stage/pod/fast/*.yaml "$dir"/kustomize/stage/pod/chaos/*.yaml; do
        echo "---"; cat "$f"
      done
    } >"$CACHE/kwok-stages.yaml"
    echo "$KWOK_VERSION" >"$BIN/.kwok-stages.version"
  fi
}

build_helm3() { goinstall helm3 "$HELM3_VERSION" "helm.sh/helm/v3/cmd/helm@$HELM3_VERSION"; }
build_helm4() { goinstall helm4 "$HELM4_VERSION" "helm.sh/helm/v4/cmd/helm@$HELM4_VERSION"; }
build_krew() { goinstall kubectl-krew "$KREW_VERSION" "sigs.k8s.io/krew/cmd/krew@$KREW_VERSION"; }
fetch_fuzz_go() { "$ROOT/hack/fuzz.sh" --fetch; }
# The CNCF distribution registry (TLS, htpasswd auth, filesystem storage) the fleet serves images from.
build_registry() { goinstall registry "$REGISTRY_VERSION" "github.com/distribution/distribution/v3/cmd/registry@$REGISTRY_VERSION"; }
# crane (go-containerregistry's CLI), for make bench's images push comparison only.
build_crane() { goinstall crane "$CRANE_VERSION" "github.com/google/go-containerregistry/cmd/crane@$CRANE_VERSION"; }
build_deadcode() { goinstall deadcode "$DEADCODE_VERSION" "golang.org/x/tools/cmd/deadcode@$DEADCODE_VERSION"; }
build_toxiproxy() { goinstall toxiproxy-server "$TOXIPROXY_VERSION" "github.com/Shopify/toxiproxy/v2/cmd/server@$TOXIPROXY_VERSION"; }

targets=${*:-all}
for t in $targets; do
  case $t in
    all) build_control_plane; build_kwok; build_helm3; build_helm4; build_krew; build_registry; build_deadcode; fetch_fuzz_go ;;
    fleet) build_control_plane; build_kwok; build_helm3 ;;
    control-plane) build_control_plane ;;
    kwok) build_kwok ;;
    helm3) build_helm3 ;;
    helm4) build_helm4 ;;
    krew) build_krew ;;
    toxiproxy) build_toxiproxy ;;
    registry) build_registry ;;
    crane) build_crane ;;
    deadcode) build_deadcode ;;
    fuzz-go) fetch_fuzz_go ;;
    *) echo "hack/tools.sh: unknown target $t (all, fleet, control-plane, kwok, helm3, helm4, krew, toxiproxy, registry, crane, deadcode, fuzz-go)" >&2; exit 2 ;;
  esac
done
