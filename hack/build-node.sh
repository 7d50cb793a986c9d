#!/usr/bin/env bash
# Builds the node components of the real cluster (hack/cluster.sh) from their Go modules, since
# no release download is reachable here:
#   bin/node/<k8s version>/{kubelet,kube-proxy,kube-controller-manager,kube-scheduler,kubectl}
#   bin/node/coredns-<version>/coredns   (only the plugins a cluster DNS needs)
#   bin/node/pvdirs                       (hack/cluster/pvdirs: opens up hostPath volumes)
# kube-apiserver and etcd come from hack/build-envtest.sh. The node's stub module has the same
# module graph as that script's, so the two builds share the Go build cache. A second run with
# the binaries present does nothing.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=versions.env
source "$root/hack/versions.env"

out="$root/bin/node/${KUBERNETES_VERSION#v}"
coredns_out="$root/bin/node/coredns-$COREDNS_VERSION"
work="$root/bin/.build"
components=(kubelet kube-proxy kube-controller-manager kube-scheduler kubectl)

log() { echo "build-node: $*" >&2; }

# quietly runs a command and shows its output only when it fails.
quietly() {
  local output
  output="$("$@" 2>&1)" || { echo "$output" >&2; return 1; }
}

# k8s_module writes the stub module: k8s.io/kubernetes at KUBERNETES_VERSION with each staging
# module (which upstream replaces with a local path) pointed at its release.
k8s_module() {
  local dir="$1" gomod
  mkdir -p "$dir"
  gomod="$(cd "$dir" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  {
    echo "module littleecom.io/node-components"
    echo
    echo "go 1.26"
    echo
    echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
    echo
    grep -E '^\s+k8s\.io/[a-z0-9-]+ => \./staging/' "$gomod" |
      awk -v v="$KUBERNETES_STAGING_VERSION" '{print "replace " $1 " => " $1 " " v}'
  } > "$dir/go.mod"
  # The imports only make `go mod tidy` record every module the commands need.
  cat > "$dir/main.go" <<'GO'
package main

import (
	_ "k8s.io/kubectl/pkg/cmd"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	_ "k8s.io/kubernetes/cmd/kube-proxy/app"
	_ "k8s.io/kubernetes/cmd/kube-scheduler/app"
	_ "k8s.io/kubernetes/cmd/kubelet/app"
)

func main() {}
GO
  (cd "$dir" && GOFLAGS=-mod=mod quietly go mod tidy)
}

# version_ldflags stamps the version as the release build does, so /version, the node's
# kubeletVersion and kubectl's skew check see it.
version_ldflags() {
  local minor="${KUBERNETES_VERSION#v1.}" flags="" pkg
  minor="${minor%%.*}"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean"
  done
  echo "${flags# }"
}

build_kubernetes() {
  local missing=() c
  for c in "${components[@]}"; do [[ -x "$out/$c" ]] || missing+=("$c"); done
  ((${#missing[@]})) || return 0
  local dir="$work/node" ldflags start
  k8s_module "$dir"
  ldflags="$(version_ldflags)"
  mkdir -p "$out"
  log "building ${missing[*]}: ~30 min on two busy cores with a cold build cache (kubelet alone ~4 min idle)"
  for c in "${missing[@]}"; do
    log "building $c $KUBERNETES_VERSION"
    start=$SECONDS
    (cd "$dir" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" \
      -o "$out/$c.tmp" "k8s.io/kubernetes/cmd/$c")
    mv "$out/$c.tmp" "$out/$c"
    log "$c built in $((SECONDS - start))s"
  done
}

# build_coredns builds CoreDNS with a fixed plugin list in plugin.cfg order: a cluster DNS needs
# no forwarder (names outside the cluster get SERVFAIL by design), no cloud or etcd backends.
build_coredns() {
  [[ -x "$coredns_out/coredns" ]] && return 0
  local dir="$work/coredns" start=$SECONDS
  mkdir -p "$dir" "$coredns_out"
  log "building CoreDNS $COREDNS_VERSION (~2 min on a cold cache)"
  # client-go and friends at the staging version, so the build reuses the cached packages.
  cat > "$dir/go.mod" <<MOD
module littleecom.io/node-coredns

go 1.26

require (
	github.com/coredns/coredns $COREDNS_VERSION
	k8s.io/api $KUBERNETES_STAGING_VERSION
	k8s.io/apimachinery $KUBERNETES_STAGING_VERSION
	k8s.io/client-go $KUBERNETES_STAGING_VERSION
)
MOD
  cat > "$dir/main.go" <<'GO'
// Command coredns is CoreDNS with only the plugins the cluster's DNS uses.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/hosts"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
)

// The order the plugins run in, as in upstream plugin.cfg.
func init() {
	dnsserver.Directives = []string{
		"reload", "bind", "ready", "health", "errors", "log",
		"loadbalance", "cache", "hosts", "kubernetes",
	}
}

func main() { coremain.Run() }
GO
  (cd "$dir" && GOFLAGS=-mod=mod quietly go mod tidy)
  (cd "$dir" && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$coredns_out/coredns.tmp" .)
  mv "$coredns_out/coredns.tmp" "$coredns_out/coredns"
  log "coredns built in $((SECONDS - start))s"
}

# build_pvdirs builds the node's own helper when its source is newer than the binary.
build_pvdirs() {
  local bin="$root/bin/node/pvdirs" src="$root/hack/cluster/pvdirs/main.go"
  [[ -x "$bin" && "$bin" -nt "$src" ]] && return 0
  (cd "$root" && CGO_ENABLED=0 go build -trimpath -o "$bin" ./hack/cluster/pvdirs)
}

build_kubernetes
build_coredns
build_pvdirs
echo "$out"
