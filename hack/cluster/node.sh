# shellcheck shell=bash
# The node's processes, sourced by hack/cluster.sh: how each component starts, how `up` waits
# for it and how `down` stops it. Every process runs detached (its own session, so an
# interrupted `make` leaves it alone), logs to $CLUSTER_DIR/logs/<name>.log and is known by the
# PID in $CLUSTER_DIR/run/<name>.pid.

run_dir="$CLUSTER_DIR/run"
log_dir="$CLUSTER_DIR/logs"
etc_dir="$CLUSTER_DIR/etc"
pki_dir="$CLUSTER_DIR/pki"
containerd_socket="$run_dir/containerd/containerd.sock"

# The variables the templates in hack/cluster/{config,manifests} may use.
template_vars=(
  CLUSTER_DIR CLUSTER_BRIDGE CLUSTER_NODE_IP CLUSTER_POD_CIDR CLUSTER_SERVICE_CIDR
  CLUSTER_DNS_IP CLUSTER_API_PORT CLUSTER_NODE_NAME CLUSTER_PAUSE_IMAGE CLUSTER_COREDNS_IMAGE
)

# render template: prints the template with ${VAR} replaced for the variables above only, so
# anything else that looks like one is left alone.
render() {
  local text var
  text="$(<"$1")"
  for var in "${template_vars[@]}"; do
    text="${text//"\${$var}"/${!var}}"
  done
  printf '%s\n' "$text"
}

node_configure() {
  mkdir -p "$etc_dir/cni" "$run_dir" "$log_dir"
  render "$cluster_src/config/containerd.toml" > "$etc_dir/containerd.toml"
  render "$cluster_src/config/cni.conflist" > "$etc_dir/cni/10-littleecom.conflist"
  render "$cluster_src/config/kubelet.yaml" > "$etc_dir/kubelet.yaml"
  render "$cluster_src/config/kube-proxy.yaml" > "$etc_dir/kube-proxy.yaml"
}

# running name: the component's recorded process is alive and still runs the binary it was
# started with (a recycled PID does not count; a binary rebuilt since, "(deleted)", does).
running() {
  local pid exe actual
  [[ -f "$run_dir/$1.pid" ]] || return 1
  { read -r pid && read -r exe; } < "$run_dir/$1.pid" || return 1
  actual="$(readlink "/proc/$pid/exe" 2>/dev/null)" || return 1
  [[ "$actual" == "$exe" || "$actual" == "$exe (deleted)" ]]
}

pid_of() { head -n1 "$run_dir/$1.pid"; }

# start_component name binary args...: starts the component unless it runs.
start_component() {
  local name="$1" binary
  binary="$(readlink -f "$(command -v "$2")")"
  shift 2
  running "$name" && return 0
  # 9>&-: the daemon must not inherit (and hold for ever) the lock of hack/cluster.sh.
  setsid "$binary" "$@" >>"$log_dir/$name.log" 2>&1 </dev/null 9>&- &
  printf '%s\n%s\n' "$!" "$binary" > "$run_dir/$name.pid"
}

# stop_components name...: SIGTERM to all of them at once, then SIGKILL to those that
# outlive the grace period (20 s).
stop_components() {
  local name i alive
  for name in "$@"; do
    if running "$name"; then kill -TERM "$(pid_of "$name")" 2>/dev/null || true; fi
  done
  for ((i = 0; i < 200; i++)); do
    alive=()
    for name in "$@"; do
      if running "$name"; then alive+=("$name"); fi
    done
    ((${#alive[@]})) || break
    sleep 0.1
  done
  for name in "$@"; do
    if running "$name"; then
      log "$name did not stop in 20s: killing it"
      kill -KILL "$(pid_of "$name")" 2>/dev/null || true
      while running "$name"; do sleep 0.1; done
    fi
    rm -f "$run_dir/$name.pid"
  done
}

# wait_for name seconds description command...: polls the command until it succeeds; fails
# with the tail of a component's log when any component started so far exits, or with this
# component's when the time is up.
wait_for() {
  local name="$1" seconds="$2" what="$3" deadline
  shift 3
  deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    check_alive
    ((SECONDS < deadline)) || component_failed "$name" "not $what after ${seconds}s"
    sleep 0.25
  done
}

# check_alive fails when a component that was started has exited.
check_alive() {
  local pidfile name
  for pidfile in "$run_dir"/*.pid; do
    [[ -f "$pidfile" ]] || continue
    name="$(basename "$pidfile" .pid)"
    running "$name" || component_failed "$name" "exited"
  done
}

component_failed() {
  log "$1: $2; the end of $log_dir/$1.log:"
  tail -n 25 "$log_dir/$1.log" >&2 || true
  exit 1
}

kubectl() { "$KUBECTL" --kubeconfig "$etc_dir/admin.kubeconfig" "$@"; }

ctr() { command ctr --address "$containerd_socket" --namespace k8s.io "$@"; }

start_containerd() {
  start_component containerd containerd --config "$etc_dir/containerd.toml"
  wait_for containerd 30 "serving" ctr version
}

start_etcd() {
  start_component etcd "$K8S_BIN/etcd" \
    --name=node --data-dir="$CLUSTER_DIR/etcd" \
    --listen-client-urls="http://127.0.0.1:$CLUSTER_ETCD_PORT" \
    --advertise-client-urls="http://127.0.0.1:$CLUSTER_ETCD_PORT" \
    --listen-peer-urls="http://127.0.0.1:$((CLUSTER_ETCD_PORT + 1))" \
    --initial-advertise-peer-urls="http://127.0.0.1:$((CLUSTER_ETCD_PORT + 1))" \
    --initial-cluster="node=http://127.0.0.1:$((CLUSTER_ETCD_PORT + 1))" \
    --listen-metrics-urls="" \
    --log-level=warn \
    --unsafe-no-fsync # a throwaway node: speed over durability
}

start_apiserver() {
  start_component kube-apiserver "$K8S_BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$CLUSTER_ETCD_PORT" \
    --bind-address="$CLUSTER_NODE_IP" --advertise-address="$CLUSTER_NODE_IP" \
    --secure-port="$CLUSTER_API_PORT" \
    --service-cluster-ip-range="$CLUSTER_SERVICE_CIDR" \
    --client-ca-file="$pki_dir/ca.crt" \
    --tls-cert-file="$pki_dir/apiserver.crt" --tls-private-key-file="$pki_dir/apiserver.key" \
    --kubelet-client-certificate="$pki_dir/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$pki_dir/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$pki_dir/ca.crt" \
    --kubelet-preferred-address-types=InternalIP \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$pki_dir/sa.pub" \
    --service-account-signing-key-file="$pki_dir/sa.key" \
    --requestheader-client-ca-file="$pki_dir/front-proxy-ca.crt" \
    --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User \
    --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$pki_dir/front-proxy-client.crt" \
    --proxy-client-key-file="$pki_dir/front-proxy-client.key" \
    --authorization-mode=Node,RBAC \
    --enable-admission-plugins=NodeRestriction \
    --allow-privileged=true \
    --profiling=false
  wait_for kube-apiserver 120 "ready" kubectl get --raw /readyz
}

start_kubelet() {
  start_component kubelet "$NODE_BIN/kubelet" \
    --config="$etc_dir/kubelet.yaml" \
    --kubeconfig="$etc_dir/kubelet.kubeconfig" \
    --root-dir="$CLUSTER_DIR/kubelet" \
    --hostname-override="$CLUSTER_NODE_NAME" \
    --node-ip="$CLUSTER_NODE_IP"
}

start_controllers() {
  # Before the provisioner can create a volume directory.
  start_component pvdirs "$root/bin/node/pvdirs" "$CLUSTER_DIR/volumes"
  start_component kube-controller-manager "$NODE_BIN/kube-controller-manager" \
    --kubeconfig="$etc_dir/kube-controller-manager.kubeconfig" \
    --authentication-kubeconfig="$etc_dir/kube-controller-manager.kubeconfig" \
    --authorization-kubeconfig="$etc_dir/kube-controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false --cluster-name=littleecom \
    --use-service-account-credentials=true \
    --service-account-private-key-file="$pki_dir/sa.key" --root-ca-file="$pki_dir/ca.crt" \
    --cluster-signing-cert-file="$pki_dir/ca.crt" --cluster-signing-key-file="$pki_dir/ca.key" \
    --allocate-node-cidrs=false --service-cluster-ip-range="$CLUSTER_SERVICE_CIDR" \
    --enable-hostpath-provisioner=true \
    --flex-volume-plugin-dir="$CLUSTER_DIR/kubelet/volume-plugins" \
    --profiling=false
  start_component kube-scheduler "$NODE_BIN/kube-scheduler" \
    --kubeconfig="$etc_dir/kube-scheduler.kubeconfig" \
    --authentication-kubeconfig="$etc_dir/kube-scheduler.kubeconfig" \
    --authorization-kubeconfig="$etc_dir/kube-scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false --profiling=false
  start_component kube-proxy "$NODE_BIN/kube-proxy" --config="$etc_dir/kube-proxy.yaml"
}

node_ready() {
  [[ "$(kubectl get node "$CLUSTER_NODE_NAME" \
    -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}

coredns_ready() {
  [[ "$(kubectl -n kube-system get deployment coredns -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" == 1 ]]
}

# apply_manifests applies the node's own objects: the kubelet API grant, CoreDNS and the
# default StorageClass.
apply_manifests() {
  local manifest
  for manifest in kubelet-api coredns storageclass; do
    render "$cluster_src/manifests/$manifest.yaml"
    echo ---
  done | kubectl apply --server-side --force-conflicts --field-manager=littleecom-cluster -f - >/dev/null
}

# import_images loads image archives into the CRI's namespace.
import_images() {
  local archive
  for archive in "$@"; do
    [[ -f "$archive" ]] || fail "$archive: no such image archive"
    ctr images import "$archive" >/dev/null ||
      fail "could not import $archive"
  done
}

# shim_pids prints the PIDs of the runc shims of this node's containerd (they name its socket).
shim_pids() {
  pgrep -f -- "^[^ ]*containerd-shim-runc-v2 .*-address $containerd_socket\$" || true
}

# stop_containers kills every container and sandbox of the node, whichever way the kubelet
# left them, and removes their records. SIGKILL at once: `down` throws their data away with the
# node, so a graceful stop (CoreDNS alone lingers 5 s) would buy nothing.
stop_containers() {
  [[ -S "$containerd_socket" ]] && running containerd || return 0
  local id
  for id in $(ctr tasks ls -q 2>/dev/null); do ctr tasks kill -a -s SIGKILL "$id" >/dev/null 2>&1 || true; done
  for id in $(ctr tasks ls -q 2>/dev/null); do ctr tasks delete -f "$id" >/dev/null 2>&1 || true; done
  for id in $(ctr containers ls -q 2>/dev/null); do ctr containers delete "$id" >/dev/null 2>&1 || true; done
}
