#!/usr/bin/env bash
# Builds the node's add-ons from their Go modules into bin/addons/:
#   traefik-<TRAEFIK_VERSION>          the ingress controller (Ingress NGINX provider)
#   kube-router-<KUBE_ROUTER_VERSION>  its NetworkPolicy controller (firewall only)
# No image registry is reachable here, so both run on the node as host processes.
# A second run with the binaries present does nothing.
#
# Usage: hack/build-addons.sh [traefik|kube-router]...   (default: both)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
# Versions set in the environment win over hack/versions.env, to try another release.
env_traefik="${TRAEFIK_VERSION:-}" env_kube_router="${KUBE_ROUTER_VERSION:-}"
# shellcheck source=versions.env
source "$root/hack/versions.env"
TRAEFIK_VERSION="${env_traefik:-$TRAEFIK_VERSION}"
KUBE_ROUTER_VERSION="${env_kube_router:-$KUBE_ROUTER_VERSION}"

out="$root/bin/addons"
work="$root/bin/.build"

log() { echo "build-addons: $*" >&2; }

# module_file prints the path of a module's go.mod in the module cache, downloading it.
module_file() {
  local dir=$1 mod=$2
  (cd "$dir" && GOFLAGS=-mod=mod go mod download -json "$mod" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
}

# module_directives prints the replace (to another module, not a local path) and exclude
# directives of a go.mod. Go honours them only in the main module, so a stub module that
# builds someone else's command must repeat them to get the same dependency graph.
module_directives() {
  awk '
    /^(replace|exclude) \($/ { block = $1; next }
    block != "" && /^\)$/     { block = ""; next }
    block != "" && NF > 0 && $1 !~ /^\/\// { line = block; for (i = 1; i <= NF; i++) line = line " " $i }
    block == "" && /^(replace|exclude) [^(]/ { line = $0 }
    line != "" {
      sub(/[[:space:]]*\/\/.*$/, "", line)
      if (line !~ /=> *\.\.?\//) print line
      line = ""
    }
  ' "$1"
}

# build_main builds package pkg, at version, of the stub module in dir into out/name.
build_main() {
  local dir=$1 pkg=$2 version=$3 name=$4 ldflags=$5
  local start=$SECONDS
  # go get adds the requirements of the command's own imports (the stub has no code of its
  # own); the explicit version keeps it from upgrading the module to its latest release.
  if ! (cd "$dir" && GOFLAGS=-mod=mod go get "$pkg@$version" >"$dir/get.log" 2>&1); then
    grep -v '^go: downloading' "$dir/get.log" >&2
    if grep -q 'This module version is not available' "$dir/get.log"; then
      log "$name: the module proxy does not serve some of its dependencies (above); pick a release that builds"
    fi
    return 1
  fi
  (cd "$dir" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out/$name.tmp" "$pkg")
  mv "$out/$name.tmp" "$out/$name"
  log "built $name in $((SECONDS - start)) s"
}

build_traefik() {
  local name="traefik-$TRAEFIK_VERSION"
  [[ -x "$out/$name" ]] && return 0
  local dir="$work/traefik"
  mkdir -p "$dir/ext"
  log "building $name (first run takes ~10 min)"
  local gomod
  gomod="$(module_file "$dir" "github.com/traefik/traefik/v3@$TRAEFIK_VERSION")"
  # Traefik's dynamic configuration embeds github.com/traefik/traefik/dynamic/ext, a nested
  # module of its repository that is replaced by a local path and is not published on its
  # own. In the open-source build it holds empty extension points; provide the same here.
  cat > "$dir/ext/go.mod" <<'MOD'
module github.com/traefik/traefik/dynamic/ext

go 1.24.0
MOD
  cat > "$dir/ext/ext.go" <<'GO'
// Package ext holds the extension points of Traefik's dynamic configuration; the
// open-source build leaves them empty.
package ext

// HTTP extends dynamic.HTTP.
type HTTP struct{}

// Router extends dynamic.Router.
type Router struct{}
GO
  {
    echo "module littleecom.io/addons-traefik"
    echo
    echo "go 1.26"
    echo
    echo "require github.com/traefik/traefik/v3 $TRAEFIK_VERSION"
    echo
    echo "replace github.com/traefik/traefik/dynamic/ext => ./ext"
    module_directives "$gomod"
  } > "$dir/go.mod"
  rm -f "$dir/go.sum"
  build_main "$dir" github.com/traefik/traefik/v3/cmd/traefik "$TRAEFIK_VERSION" "$name" \
    "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION"
}

build_kube_router() {
  local name="kube-router-$KUBE_ROUTER_VERSION"
  [[ -x "$out/$name" ]] && return 0
  local dir="$work/kube-router"
  mkdir -p "$dir"
  log "building $name (first run takes ~3 min)"
  local gomod
  gomod="$(module_file "$dir" "github.com/cloudnativelabs/kube-router/v2@$KUBE_ROUTER_VERSION")"
  {
    echo "module littleecom.io/addons-kube-router"
    echo
    echo "go 1.26"
    echo
    echo "require github.com/cloudnativelabs/kube-router/v2 $KUBE_ROUTER_VERSION"
    echo
    module_directives "$gomod"
  } > "$dir/go.mod"
  rm -f "$dir/go.sum"
  build_main "$dir" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router "$KUBE_ROUTER_VERSION" "$name" \
    "-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$KUBE_ROUTER_VERSION"
}

main() {
  mkdir -p "$out" "$work"
  local targets=("$@")
  [[ ${#targets[@]} -gt 0 ]] || targets=(traefik kube-router)
  local t
  for t in "${targets[@]}"; do
    case $t in
      traefik) build_traefik ;;
      kube-router) build_kube_router ;;
      *) log "unknown add-on $t (want traefik or kube-router)"; exit 2 ;;
    esac
  done
}

main "$@"
