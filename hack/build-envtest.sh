#!/usr/bin/env bash
# Builds the envtest control plane (kube-apiserver, etcd) from their Go modules into
# bin/k8s/<version>/, because setup-envtest's download site is not reachable here.
# A second run with the binaries present does nothing.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=versions.env
source "$root/hack/versions.env"

out="$root/bin/k8s/${KUBERNETES_VERSION#v}"
work="$root/bin/.build"
mkdir -p "$out" "$work"

build_kube_apiserver() {
  [[ -x "$out/kube-apiserver" ]] && return 0
  local dir="$work/kube-apiserver"
  mkdir -p "$dir"
  echo "envtest: building kube-apiserver $KUBERNETES_VERSION (first run takes ~4 min)" >&2
  local gomod
  gomod="$(cd "$dir" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  {
    echo "module littleecom.io/envtest-kube-apiserver"
    echo
    echo "go 1.26"
    echo
    echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
    echo
    # k8s.io/kubernetes replaces its staging modules with local paths; point each at its release.
    grep -E '^\s+k8s\.io/[a-z0-9-]+ => \./staging/' "$gomod" |
      awk -v v="$KUBERNETES_STAGING_VERSION" '{print "replace " $1 " => " $1 " " v}'
  } > "$dir/go.mod"
  cat > "$dir/main.go" <<'GO'
package main

import _ "k8s.io/kubernetes/cmd/kube-apiserver/app"

func main() {}
GO
  # Build the upstream main package directly; the stub only anchors the module graph.
  (cd "$dir" && GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 || true)
  # Stamp the version, as the release build does, so /version and clients' skew checks see it.
  local minor="${KUBERNETES_VERSION#v1.}"; minor="${minor%%.*}"
  local ldflags="-X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION"
  ldflags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
  (cd "$dir" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver)
  mv "$out/kube-apiserver.tmp" "$out/kube-apiserver"
}

build_etcd() {
  [[ -x "$out/etcd" ]] && return 0
  local dir="$work/etcd"
  mkdir -p "$dir"
  echo "envtest: building etcd $ETCD_VERSION (first run takes ~30 s)" >&2
  cat > "$dir/go.mod" <<MOD
module littleecom.io/envtest-etcd

go 1.26

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
MOD
  cat > "$dir/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (cd "$dir" && GOFLAGS=-mod=mod go mod tidy >/dev/null)
  (cd "$dir" && CGO_ENABLED=0 go build -trimpath -o "$out/etcd.tmp" .)
  mv "$out/etcd.tmp" "$out/etcd"
}

build_etcd
build_kube_apiserver
echo "$out"
