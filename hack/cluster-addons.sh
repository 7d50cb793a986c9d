#!/usr/bin/env bash
# The node's add-ons, run as host processes beside kube-proxy (no registry is reachable, so
# they cannot be pods):
#   traefik      the ingress controller: its Ingress NGINX provider serves the Ingresses of
#                class "nginx" (CORS annotations included) on 127.0.0.1:CLUSTER_INGRESS_PORT
#                and reaches the pods directly on the bridge.
#   kube-router  only its NetworkPolicy controller (firewall): iptables chains and ipsets.
#
# Usage: hack/cluster-addons.sh up|down|status
#   up      builds what is missing (hack/build-addons.sh), applies the add-ons' identities,
#           IngressClass and publish Service, starts both and waits until they serve.
#   down    stops both by PID and removes every host change they made (kube-router's
#           iptables chains and ipsets, the bridge sysctl) and their kubeconfigs. The API
#           objects (hack/cluster-addons/*.yaml, the publish Service) stay.
#   status  exits 0 when both run and Traefik answers.
# hack/cluster.sh runs `up` at the end of its own and `down` first; the node must be up.
# State (PID files, logs, kubeconfigs) lives in CLUSTER_DIR/addons.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# Versions set in the environment win over hack/versions.env, to try another release.
env_traefik="${TRAEFIK_VERSION:-}" env_kube_router="${KUBE_ROUTER_VERSION:-}"
# shellcheck source=versions.env
source hack/versions.env
TRAEFIK_VERSION="${env_traefik:-$TRAEFIK_VERSION}"
KUBE_ROUTER_VERSION="${env_kube_router:-$KUBE_ROUTER_VERSION}"
eval "$(hack/cluster.sh env)"
export KUBECONFIG

CLUSTER_INGRESS_PORT="${CLUSTER_INGRESS_PORT:-18080}"
# Traefik's ping (health) entry point, on loopback only, apart from the shop's routes.
CLUSTER_INGRESS_PING_PORT="${CLUSTER_INGRESS_PING_PORT:-18081}"
state="$CLUSTER_DIR/addons"
config="$root/hack/cluster-addons"
traefik_bin="$root/bin/addons/traefik-$TRAEFIK_VERSION"
kube_router_bin="$root/bin/addons/kube-router-$KUBE_ROUTER_VERSION"
# The publish Service: its load-balancer status is the address Traefik copies to the
# Ingresses it serves, so the operator's IngressReady shows the real URL, port included.
publish_namespace=kube-system
publish_service=traefik
bridge_sysctl=net.bridge.bridge-nf-call-iptables

node_kubectl="$root/bin/node/${KUBERNETES_VERSION#v}/kubectl"
if [[ -z "${KUBECTL:-}" ]]; then
  if [[ -x "$node_kubectl" ]]; then KUBECTL="$node_kubectl"; else KUBECTL=kubectl; fi
fi

t0=$SECONDS
log() { echo "cluster-addons: [$((SECONDS - t0))s] $*" >&2; }
die() { log "error: $*"; exit 1; }
k() { "$KUBECTL" "$@"; }

# --- processes -------------------------------------------------------------------------

pid_of() { # name: prints the PID of a running add-on
  local pid
  pid="$(cat "$state/$1.pid" 2>/dev/null)" || return 1
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

start() { # name command...: starts a daemon in its own session, logging to state/name.log
  local name=$1
  shift
  if pid_of "$name" >/dev/null; then
    log "$name already runs (pid $(pid_of "$name"))"
    return 0
  fi
  # setsid: the daemon outlives the calling shell and an interrupt sent to its group.
  setsid "$@" >>"$state/$name.log" 2>&1 </dev/null &
  echo $! >"$state/$name.pid"
  log "$name started (pid $!, log $state/$name.log)"
}

stop() { # name: SIGTERM by PID, SIGKILL after 10 s
  local name=$1 pid
  if ! pid="$(pid_of "$name")"; then
    rm -f "$state/$name.pid"
    return 0
  fi
  kill "$pid"
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name (pid $pid) ignored SIGTERM; killing it"
    kill -9 "$pid"
  fi
  rm -f "$state/$name.pid"
  log "$name stopped"
}

wait_for() { # description seconds command...: polls command until it succeeds
  local what=$1 timeout=$2
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "timed out after ${timeout}s waiting for $what"
    sleep 1
  done
}

# --- host prerequisites ----------------------------------------------------------------

# ensure_tools installs Debian's iptables and ipset, which kube-router runs, when absent.
# They are left installed by down: kube-proxy uses iptables too.
ensure_tools() {
  local missing=() tool
  for tool in iptables iptables-save iptables-restore ipset; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  ((${#missing[@]} == 0)) && return 0
  log "installing iptables and ipset (missing: ${missing[*]})"
  # Retry once after refreshing the package lists, which may be missing or stale.
  {
    apt-get install -y --no-install-recommends iptables ipset ||
      { apt-get update && apt-get install -y --no-install-recommends iptables ipset; }
  } >"$state/apt.log" 2>&1 || die "apt-get install iptables ipset failed; see $state/apt.log"
}

# enable_bridge_netfilter makes bridged pod-to-pod frames traverse iptables, where
# kube-router filters them; the original value is saved once and restored by down.
enable_bridge_netfilter() {
  [[ -e "$state/sysctl.orig" ]] || sysctl -n "$bridge_sysctl" | sed "s/^/$bridge_sysctl=/" >"$state/sysctl.orig"
  sysctl -qw "$bridge_sysctl=1"
}

restore_sysctls() {
  [[ -e "$state/sysctl.orig" ]] || return 0
  sysctl -qp "$state/sysctl.orig"
  rm -f "$state/sysctl.orig"
}

# --- API objects -----------------------------------------------------------------------

apply_objects() {
  k apply -f "$config/rbac.yaml" -f "$config/ingressclass.yaml" >/dev/null
  # No selector and kube-proxy's service-proxy-name opt-out: the Service only carries the
  # address; nothing routes through it. ipMode Proxy says the same to any other proxy.
  k apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata:
  name: $publish_service
  namespace: $publish_namespace
  labels:
    service.kubernetes.io/service-proxy-name: littleecom-host-traefik
spec:
  type: LoadBalancer
  allocateLoadBalancerNodePorts: false
  ports:
    - name: http
      port: $CLUSTER_INGRESS_PORT
      protocol: TCP
EOF
  local status
  status="$(printf '{"status":{"loadBalancer":{"ingress":[{"ip":"127.0.0.1","ipMode":"Proxy","ports":[{"port":%d,"protocol":"TCP"}]}]}}}' "$CLUSTER_INGRESS_PORT")"
  k -n "$publish_namespace" patch service "$publish_service" --subresource=status --type=merge -p "$status" >/dev/null
}

# write_kubeconfig name: a kubeconfig for ServiceAccount kube-system/name from its token
# Secret, with the admin kubeconfig's server and CA.
write_kubeconfig() {
  local name=$1 token server ca
  wait_for "the token of ServiceAccount $name" 60 \
    k -n kube-system get secret "$name-token" -o 'jsonpath={.data.token}' --allow-missing-template-keys=false
  token="$(k -n kube-system get secret "$name-token" -o 'jsonpath={.data.token}' | base64 -d)"
  [[ -n "$token" ]] || die "ServiceAccount $name has an empty token"
  server="$(k config view --minify -o 'jsonpath={.clusters[0].cluster.server}')"
  ca="$(k config view --minify --raw -o 'jsonpath={.clusters[0].cluster.certificate-authority-data}')"
  (
    umask 077
    cat >"$state/$name.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: littleecom
    cluster:
      server: $server
      certificate-authority-data: $ca
users:
  - name: $name
    user:
      token: $token
contexts:
  - name: $name
    context:
      cluster: littleecom
      user: $name
current-context: $name
EOF
  )
}

# --- Traefik ---------------------------------------------------------------------------

start_traefik() {
  # env -u: the provider would take KUBERNETES_SERVICE_HOST for an in-cluster run.
  start traefik env -u KUBERNETES_SERVICE_HOST -u KUBERNETES_SERVICE_PORT \
    KUBECONFIG="$state/traefik.kubeconfig" \
    "$traefik_bin" \
    --global.checkNewVersion=false \
    --global.sendAnonymousUsage=false \
    --log.level=INFO --log.format=json \
    --accessLog=true --accessLog.format=json --accessLog.filePath="$state/traefik-access.log" \
    --entryPoints.web.address="127.0.0.1:$CLUSTER_INGRESS_PORT" \
    --entryPoints.traefik.address="127.0.0.1:$CLUSTER_INGRESS_PING_PORT" \
    --ping=true \
    --providers.kubernetesIngressNGINX=true \
    --providers.kubernetesIngressNGINX.httpEntryPoint=web \
    --providers.kubernetesIngressNGINX.publishService="$publish_namespace/$publish_service"
}

traefik_serves() {
  curl -fsS --max-time 2 "http://127.0.0.1:$CLUSTER_INGRESS_PING_PORT/ping"
}

# --- kube-router -----------------------------------------------------------------------

start_kube_router() {
  # --health-port=0: its health server would listen on every interface. env -u: only its
  # own kubeconfig, never the admin one this script exports.
  start kube-router env -u KUBECONFIG "$kube_router_bin" \
    --kubeconfig="$state/kube-router.kubeconfig" \
    --hostname-override="$CLUSTER_NODE_NAME" \
    --run-firewall=true --run-router=false --run-service-proxy=false --run-loadbalancer=false \
    --enable-cni=false --enable-ipv4=true --enable-ipv6=false \
    --service-cluster-ip-range="$CLUSTER_SERVICE_CIDR" \
    --health-port=0 --metrics-port=0
}

kube_router_enforces() {
  iptables -w -t filter -S KUBE-ROUTER-FORWARD
}

# clean_kube_router removes what kube-router's firewall leaves behind when it stops: the
# jumps from INPUT/FORWARD/OUTPUT to its chains, its chains (KUBE-ROUTER-*, KUBE-POD-FW-*,
# KUBE-NWPLCY-*) and its ipsets (KUBE-SRC-*, KUBE-DST-*), in one iptables-restore.
clean_kube_router() {
  command -v iptables-save >/dev/null || return 0
  local chain_re='KUBE-(ROUTER-(INPUT|FORWARD|OUTPUT)|POD-FW-[A-Z0-9]+|NWPLCY-[A-Z0-9]+)'
  local rules chains=()
  rules="$(iptables-save -t filter)"
  mapfile -t chains < <(sed -n -E "s/^:($chain_re) .*/\1/p" <<<"$rules")
  if ((${#chains[@]} > 0)); then
    {
      echo "*filter"
      # Rules of the built-in chains that jump into kube-router's chains.
      grep -E "^-A (INPUT|FORWARD|OUTPUT) .*-j $chain_re( |$)" <<<"$rules" | sed 's/^-A /-D /' || true
      printf -- '-F %s\n' "${chains[@]}"
      printf -- '-X %s\n' "${chains[@]}"
      echo "COMMIT"
    } | iptables-restore -w --noflush
    log "removed kube-router's iptables chains (${#chains[@]})"
  fi
  command -v ipset >/dev/null || return 0
  local set count=0
  while read -r set; do
    ipset destroy "$set"
    count=$((count + 1))
  done < <(ipset list -n | grep -E '^(inet6:)?KUBE-(SRC|DST)-' || true)
  ((count == 0)) || log "removed kube-router's ipsets ($count)"
}

# --- commands --------------------------------------------------------------------------

up() {
  hack/cluster.sh status >/dev/null || die "the node is not up (hack/cluster.sh up)"
  mkdir -p "$state"
  hack/build-addons.sh
  ensure_tools
  enable_bridge_netfilter
  apply_objects
  write_kubeconfig traefik
  write_kubeconfig kube-router

  start_traefik
  start_kube_router
  wait_for "Traefik's ping on 127.0.0.1:$CLUSTER_INGRESS_PING_PORT" 60 traefik_serves
  wait_for "kube-router's firewall chains" 60 kube_router_enforces
  pid_of traefik >/dev/null || die "traefik exited; see $state/traefik.log"
  pid_of kube-router >/dev/null || die "kube-router exited; see $state/kube-router.log"
  log "up: Ingress class nginx on http://127.0.0.1:$CLUSTER_INGRESS_PORT/, NetworkPolicies enforced"
}

down() {
  [[ -d "$state" ]] || return 0
  # kube-router first, so it does not put back the rules being removed.
  stop kube-router
  clean_kube_router
  stop traefik
  restore_sysctls
  # The tokens go with the processes; up writes them again.
  rm -f "$state/traefik.kubeconfig" "$state/kube-router.kubeconfig"
  log "down"
}

status() {
  local ok=0 name pid
  for name in traefik kube-router; do
    if pid="$(pid_of "$name")"; then
      echo "$name: running (pid $pid)"
    else
      echo "$name: stopped"
      ok=1
    fi
  done
  if ((ok == 0)) && ! traefik_serves >/dev/null 2>&1; then
    echo "traefik: not answering on 127.0.0.1:$CLUSTER_INGRESS_PING_PORT/ping"
    ok=1
  fi
  return "$ok"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *)
    echo "usage: $0 up|down|status" >&2
    exit 2
    ;;
esac
