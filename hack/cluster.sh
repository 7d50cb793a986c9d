#!/usr/bin/env bash
# A real single-node Kubernetes on this machine, built from source (no registry, no internet):
# etcd and kube-apiserver (hack/build-envtest.sh), kubelet, kube-proxy (iptables),
# kube-controller-manager (with the hostpath provisioner), kube-scheduler and CoreDNS
# (hack/build-node.sh), on Debian's containerd, runc and CNI plugins. Root and Linux only.
#
#   up              start the node, or finish starting it; seconds when it is up already
#   down            stop it and undo every change it made to the host; a no-op when it is down
#   status          print the components' state; exit 0 only when the node is up
#   env             print shell assignments for the node (eval "$(hack/cluster.sh env)")
#   load ARCHIVE... import OCI image archives into the node's containerd
#
# Everything the node keeps lives under CLUSTER_DIR (default bin/cluster); what it changes
# outside (network, sysctls, a few hardcoded paths) is recorded first and put back by `down`.
# Settable by env: CLUSTER_DIR CLUSTER_BRIDGE CLUSTER_NODE_IP CLUSTER_POD_CIDR
# CLUSTER_SERVICE_CIDR CLUSTER_DNS_IP CLUSTER_API_PORT CLUSTER_ETCD_PORT CLUSTER_NODE_NAME.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

# Only Linux can host the node: elsewhere, say so before anything Linux-specific runs.
if [[ "$(uname -s)" != Linux ]]; then
  case "${1:-}" in
    up | load) echo "cluster: this machine cannot host the node: it needs Linux (this is $(uname -s))" >&2 && exit 1 ;;
    down) exit 0 ;; # nothing can be up
    status) echo "no node: it needs Linux" && exit 1 ;;
  esac
fi

root="$(cd "$(dirname "$0")/.." && pwd)"
cluster_src="$root/hack/cluster"
# shellcheck source=versions.env
source "$root/hack/versions.env"

# Absolute and normalised: `down` matches mount points against it.
CLUSTER_DIR="$(realpath -m "${CLUSTER_DIR:-$root/bin/cluster}")"
CLUSTER_BRIDGE="${CLUSTER_BRIDGE:-le0}"
CLUSTER_NODE_IP="${CLUSTER_NODE_IP:-10.244.0.1}"
CLUSTER_POD_CIDR="${CLUSTER_POD_CIDR:-10.244.0.0/24}"
CLUSTER_SERVICE_CIDR="${CLUSTER_SERVICE_CIDR:-10.96.0.0/24}"
CLUSTER_DNS_IP="${CLUSTER_DNS_IP:-10.96.0.10}"
CLUSTER_API_PORT="${CLUSTER_API_PORT:-16443}"
CLUSTER_ETCD_PORT="${CLUSTER_ETCD_PORT:-12379}" # and the next port for its peer URL
CLUSTER_NODE_NAME="${CLUSTER_NODE_NAME:-littleecom-node}"
# The images of bin/images/{pause,coredns}.tar (go run ./hack/images build); the templates
# use them.
# shellcheck disable=SC2034
CLUSTER_PAUSE_IMAGE=littleecom/pause:3.10
# shellcheck disable=SC2034
CLUSTER_COREDNS_IMAGE="littleecom/coredns:$COREDNS_VERSION"

K8S_BIN="$root/bin/k8s/${KUBERNETES_VERSION#v}"
NODE_BIN="$root/bin/node/${KUBERNETES_VERSION#v}"
KUBECTL="$NODE_BIN/kubectl"
images_dir="$root/bin/images"
addons="$root/hack/cluster-addons.sh"

start_time="${EPOCHREALTIME/./}"
log() {
  local tenths=$(((${EPOCHREALTIME/./} - start_time) / 100000))
  printf 'cluster: [%d.%ds] %s\n' $((tenths / 10)) $((tenths % 10)) "$*" >&2
}
fail() {
  log "$*"
  exit 1
}

# shellcheck source=cluster/host.sh
source "$cluster_src/host.sh"
# shellcheck source=cluster/node.sh
source "$cluster_src/node.sh"
# shellcheck source=cluster/pki.sh
source "$cluster_src/pki.sh"

# One `up` or `down` at a time. The lock is on descriptor 9, which no daemon may inherit.
lock() {
  mkdir -p "$CLUSTER_DIR"
  exec 9>"$CLUSTER_DIR/.lock"
  flock -w 900 9 || fail "another hack/cluster.sh holds $CLUSTER_DIR/.lock"
}

components=(containerd etcd kube-apiserver kubelet pvdirs kube-controller-manager kube-scheduler kube-proxy)

node_up() {
  local name
  for name in "${components[@]}"; do running "$name" || return 1; done
  kubectl get --raw /readyz >/dev/null 2>&1 && node_ready
}

# ensure_binaries builds what is missing; both builds do nothing when their output exists.
ensure_binaries() {
  [[ -x "$K8S_BIN/kube-apiserver" && -x "$K8S_BIN/etcd" ]] || "$root/hack/build-envtest.sh" >/dev/null
  "$root/hack/build-node.sh" >/dev/null
}

# ensure_images makes the two archives the node itself runs when `make images` has not yet.
ensure_images() {
  [[ -f "$images_dir/pause.tar" && -f "$images_dir/coredns.tar" ]] && return 0
  log "building the pause and CoreDNS images (go run ./hack/images build pause coredns)"
  (cd "$root" && go run ./hack/images build pause coredns) >&2
  [[ -f "$images_dir/pause.tar" && -f "$images_dir/coredns.tar" ]] ||
    fail "the images tool did not write $images_dir/pause.tar and coredns.tar"
}

cmd_up() {
  host_check
  if node_up; then
    log "the node is up already"
    addons_up
    return 0
  fi
  lock
  ensure_binaries
  ensure_images
  if [[ ! -f "$host_state/recorded" ]]; then
    rm -rf "$log_dir" # a new node: the logs start afresh
  fi
  mkdir -p "$log_dir" "$run_dir"
  host_install
  host_record
  host_network_up
  host_hostpath_up
  pki_generate
  node_configure
  log "host ready (bridge $CLUSTER_BRIDGE, node IP $CLUSTER_NODE_IP)"

  reap_orphans
  start_containerd
  import_images "$images_dir/pause.tar" "$images_dir/coredns.tar"
  log "containerd serving, pause and CoreDNS images imported"
  start_etcd
  start_apiserver
  log "kube-apiserver ready on https://$CLUSTER_NODE_IP:$CLUSTER_API_PORT"
  start_kubelet
  start_controllers
  wait_for kubelet 120 "Ready" node_ready
  log "node $CLUSTER_NODE_NAME Ready"
  apply_manifests
  wait_coredns
  log "CoreDNS ready at $CLUSTER_DNS_IP"
  addons_up
  log "node up: eval \"\$(hack/cluster.sh env)\" and use kubectl ($KUBECTL)"
}

# wait_coredns waits for the DNS pod; when it does not come, it shows why.
wait_coredns() {
  local deadline=$((SECONDS + 120))
  until coredns_ready; do
    check_alive
    if ((SECONDS >= deadline)); then
      log "CoreDNS is not ready after 120s:"
      kubectl -n kube-system get pods -l k8s-app=kube-dns -o wide >&2 || true
      kubectl -n kube-system get events --sort-by=.lastTimestamp 2>/dev/null | tail -n 15 >&2 || true
      component_failed kubelet "CoreDNS did not start"
    fi
    sleep 0.5
  done
}

addons_up() {
  [[ -f "$addons" ]] || return 0
  log "starting the add-ons (hack/cluster-addons.sh up)"
  bash "$addons" up 9>&- # its daemons must not hold our lock
}

cmd_down() {
  if [[ ! -d "$CLUSTER_DIR/host" && ! -d "$CLUSTER_DIR/run" ]]; then
    log "the node is not up: nothing to do"
    return 0
  fi
  host_check
  lock
  if [[ -f "$addons" ]]; then
    log "stopping the add-ons (hack/cluster-addons.sh down)"
    bash "$addons" down
  fi
  # Everything that acts on pods, so that nothing re-creates, places or restarts them; the
  # containers are stopped below, without the kubelet.
  stop_components kube-controller-manager kube-scheduler pvdirs kubelet kube-proxy
  "$NODE_BIN/kube-proxy" --cleanup --config="$etc_dir/kube-proxy.yaml" >>"$log_dir/kube-proxy.log" 2>&1 || true
  stop_containers
  local shims
  shims="$(shim_pids)"
  stop_components containerd
  kill_leftovers "$shims"
  log "pods and containerd stopped"
  host_unmount_all
  # The API server first: without etcd it would not finish its graceful shutdown.
  stop_components kube-apiserver
  stop_components etcd
  host_network_down
  host_cgroups_down
  host_sysctls_down
  host_paths_down
  remove_state
  log "node down; the host is as it was (logs kept in $log_dir)"
}

# reap_orphans kills the containers that lost both containerd and their shims (the node's
# daemons were killed, not stopped): nothing could manage them any more, and the kubelet starts
# them again.
reap_orphans() {
  running containerd && return 0
  local pid
  for pid in $(shim_pids); do
    [[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" == */containerd-shim-runc-v2* ]] && return 0
  done
  [[ -n "$(host_cgroup_pids)" ]] || return 0
  log "killing the containers left without containerd and shims"
  kill_leftovers ""
}

# kill_leftovers ends the shims containerd left (they outlive it by design) and any container
# process still in the kubepods cgroups.
kill_leftovers() {
  local pid
  for pid in $1; do
    if [[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" == */containerd-shim-runc-v2* ]]; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  for pid in $(host_cgroup_pids); do kill -KILL "$pid" 2>/dev/null || true; done
  local i
  for ((i = 0; i < 40; i++)); do
    [[ -z "$(host_cgroup_pids)" ]] && return 0
    sleep 0.25
  done
  log "processes remain in the kubepods cgroups: $(host_cgroup_pids | tr '\n' ' ')"
}

# remove_state removes the node's state (not its logs) once nothing is mounted under it: a
# mount left there would take rm into other file systems.
remove_state() {
  if findmnt -rn -o TARGET | grep -q "^$CLUSTER_DIR/"; then
    fail "mounts remain under $CLUSTER_DIR; not removing it: $(findmnt -rn -o TARGET | grep "^$CLUSTER_DIR/" | head -n 3)"
  fi
  find "$CLUSTER_DIR" -mindepth 1 -maxdepth 1 ! -name logs ! -name .lock -exec rm -rf --one-file-system {} +
}

cmd_status() {
  local name state up=0
  for name in "${components[@]}"; do
    if running "$name"; then state="running (pid $(pid_of "$name"))"; else state=stopped up=1; fi
    printf '%-24s %s\n' "$name" "$state"
  done
  if kubectl get --raw /readyz >/dev/null 2>&1; then state=ready; else state="not ready" up=1; fi
  printf '%-24s %s\n' "API server" "$state"
  if node_ready; then state=Ready; else state="not Ready" up=1; fi
  printf '%-24s %s\n' "node $CLUSTER_NODE_NAME" "$state"
  return "$up"
}

cmd_env() {
  local name
  for name in CLUSTER_DIR CLUSTER_BRIDGE CLUSTER_NODE_IP CLUSTER_POD_CIDR CLUSTER_SERVICE_CIDR \
    CLUSTER_DNS_IP CLUSTER_API_PORT CLUSTER_NODE_NAME KUBECTL; do
    printf '%s=%q\n' "$name" "${!name}"
  done
  printf '%s=%q\n' KUBECONFIG "$etc_dir/admin.kubeconfig" CONTAINERD_ADDRESS "$containerd_socket" \
    CONTAINERD_NAMESPACE k8s.io
}

cmd_load() {
  (($#)) || fail "usage: hack/cluster.sh load ARCHIVE..."
  running containerd || fail "the node is not up (hack/cluster.sh up)"
  import_images "$@"
  log "imported $*"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  load) shift && cmd_load "$@" ;;
  *)
    echo "usage: $0 up|down|status|env|load ARCHIVE..." >&2
    exit 2
    ;;
esac
