#!/usr/bin/env bash
# Checks the node's add-ons (hack/cluster-addons.sh) in a namespace of its own, removed at the
# end:
#   1. Traefik serves an Ingress of class nginx shaped like the operator's (Prefix paths /auth
#      and /, ports by name) on 127.0.0.1:CLUSTER_INGRESS_PORT and routes by path;
#   2. its CORS annotations, as the operator writes them: a preflight is answered with exactly
#      one Access-Control-Allow-Origin, for "*" and for an explicit origin list with
#      credentials; an origin not on the list gets none;
#   3. the Ingress status carries the address and port (the operator's IngressReady URL);
#   4. NetworkPolicy: a default deny blocks a pod's TCP connection, an allow rule lets the
#      chosen pods through on the chosen port only; the host (Traefik) still reaches the pods;
#   5. pods still reach the host only on the API server port.
# The workloads are the project's own images (make images): Mailpit serves HTTP (8025) and
# SMTP (1025), netcheck opens TCP connections. Prints each step's time; exit 1 on failure.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
eval "$("$root/hack/cluster.sh" env)"
export KUBECONFIG
# shellcheck source=../versions.env
source "$root/hack/versions.env"

namespace="${ADDONS_CHECK_NAMESPACE:-addons-check}"
port="${CLUSTER_INGRESS_PORT:-18080}"
base="http://127.0.0.1:$port"
mailpit_image="littleecom/mailpit:$MAILPIT_VERSION"
netcheck_image=littleecom/netcheck:0.1.0
node_kubectl="$root/bin/node/${KUBERNETES_VERSION#v}/kubectl"
if [[ -z "${KUBECTL:-}" ]]; then
  if [[ -x "$node_kubectl" ]]; then KUBECTL="$node_kubectl"; else KUBECTL=kubectl; fi
fi

t0="${EPOCHREALTIME/./}"
step_start="$t0"
say() { echo "addons-check: $*" >&2; }
elapsed() { # since microseconds
  local tenths=$(((${EPOCHREALTIME/./} - $1) / 100000))
  printf '%d.%ds' $((tenths / 10)) $((tenths % 10))
}
pass() {
  say "ok   $* ($(elapsed "$step_start"))"
  step_start="${EPOCHREALTIME/./}"
}
fail() {
  say "FAIL $*"
  k get pods,ingress,networkpolicy -o wide >&2 2>/dev/null || true
  exit 1
}
k() { "$KUBECTL" -n "$namespace" "$@"; }

# retry seconds command...: the command's first success within the time.
retry() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

# http_status url [curl args...]: the status code of a request through Traefik.
http_status() {
  local url=$1
  shift
  curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "$@" "$url" || true
}
status_is() { # code url [curl args...]
  local code=$1
  shift
  [[ "$(http_status "$@")" == "$code" ]]
}

# headers url [curl args...]: the response headers, lower-cased names, no CR.
headers() {
  local url=$1
  shift
  curl -sS --max-time 5 -o /dev/null -D - "$@" "$url" | tr -d '\r' |
    awk -F': ' 'NF > 1 {print tolower($1) ": " substr($0, length($1) + 3)}'
}
header_count() { grep -c "^$1: " <<<"$2" || true; }
header_value() { sed -n "s/^$1: //p" <<<"$2" | head -n 1; }

"$root/hack/cluster.sh" status >/dev/null || fail "the node is not up (hack/cluster.sh up)"
"$root/hack/cluster-addons.sh" status >/dev/null || fail "the add-ons are not up (hack/cluster-addons.sh up)"
for image in mailpit netcheck; do
  [[ -f "$root/bin/images/$image.tar" ]] || fail "bin/images/$image.tar is missing (make images)"
done
"$root/hack/cluster.sh" load "$root/bin/images/mailpit.tar" "$root/bin/images/netcheck.tar" >/dev/null 2>&1
"$KUBECTL" delete namespace "$namespace" --ignore-not-found --wait=true >/dev/null
"$KUBECTL" create namespace "$namespace" >/dev/null
cleanup() {
  [[ -n "${ADDONS_CHECK_KEEP:-}" ]] && return 0
  "$KUBECTL" delete namespace "$namespace" --wait=true --timeout=90s >/dev/null 2>&1 || true
}
trap cleanup EXIT
pass "namespace $namespace, images loaded"

# 1. Two Mailpit Deployments stand in for auth and backend: auth serves under /auth/ (its
# webroot), backend under /, so each answers /api/v1/info only on its own path.
deployment() { # name webroot
  cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: $1}
spec:
  replicas: 1
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1}}
    spec:
      containers:
      - name: mailpit
        image: $mailpit_image
        imagePullPolicy: Never
        args: ["--webroot=$2"]
        readinessProbe:
          httpGet: {path: $2readyz, port: 8025}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: {name: $1}
spec:
  selector: {app: $1}
  ports: [{name: http, port: 80, targetPort: 8025}]
---
YAML
}
# ingress name host origins credentials max-age: an Ingress as the operator builds it
# (internal/resource/ingress.go, ingress_cors.go); an empty host matches any.
ingress() {
  local host=""
  [[ -z "$2" ]] || host="host: $2"
  cat <<YAML
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: $1
  annotations:
    nginx.ingress.kubernetes.io/enable-cors: "true"
    nginx.ingress.kubernetes.io/cors-allow-origin: "$3"
    nginx.ingress.kubernetes.io/cors-allow-methods: "GET, PUT, POST, DELETE, PATCH, OPTIONS"
    nginx.ingress.kubernetes.io/cors-allow-headers: "DNT, Keep-Alive, User-Agent, X-Requested-With, If-Modified-Since, Cache-Control, Content-Type, Range, Authorization"
    nginx.ingress.kubernetes.io/cors-allow-credentials: "$4"
    nginx.ingress.kubernetes.io/cors-max-age: "$5"
spec:
  ingressClassName: nginx
  rules:
  - $host
    http:
      paths:
      - {path: /auth, pathType: Prefix, backend: {service: {name: auth, port: {name: http}}}}
      - {path: /, pathType: Prefix, backend: {service: {name: backend, port: {name: http}}}}
---
YAML
}
{
  deployment auth /auth/
  deployment backend /
  ingress shop "" "*" false 86400
  ingress creds creds.check.test "https://shop.example, https://admin.example" true 600
} | k apply -f - >/dev/null
for d in auth backend; do
  k rollout status "deployment/$d" --timeout=90s >/dev/null || fail "Deployment $d did not roll out"
done
pass "Deployments auth and backend ready, Ingresses shop and creds applied"

retry 30 status_is 200 "$base/api/v1/info" || fail "GET /api/v1/info through Traefik: $(http_status "$base/api/v1/info")"
retry 10 status_is 200 "$base/auth/api/v1/info" ||
  fail "GET /auth/api/v1/info through Traefik: $(http_status "$base/auth/api/v1/info")"
# /authx is not under /auth (Prefix matches whole path elements): backend answers, 404.
[[ "$(http_status "$base/authx/api/v1/info")" == 404 ]] ||
  fail "GET /authx/api/v1/info: $(http_status "$base/authx/api/v1/info"), want 404 from backend"
pass "routing by path: /auth/... to auth, /... and /authx/... to backend"

# 2. CORS.
preflight=(-X OPTIONS -H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: Content-Type')
h="$(headers "$base/api/v1/messages" "${preflight[@]}" -H 'Origin: https://shop.example')"
[[ "$(header_count access-control-allow-origin "$h")" == 1 ]] ||
  fail "preflight: want exactly one Access-Control-Allow-Origin, got: $(tr '\n' ';' <<<"$h")"
[[ "$(header_value access-control-allow-origin "$h")" == "*" ]] || fail "preflight: Allow-Origin is not *"
[[ "$(header_value access-control-allow-methods "$h")" == *POST* ]] || fail "preflight: POST not allowed"
[[ "$(header_value access-control-allow-headers "$h")" == *Content-Type* ]] || fail "preflight: Content-Type not allowed"
[[ "$(header_value access-control-max-age "$h")" == 86400 ]] || fail "preflight: Max-Age is not 86400"
[[ "$(header_count access-control-allow-credentials "$h")" == 0 ]] || fail "preflight: credentials allowed"
h="$(headers "$base/api/v1/info" -H 'Origin: https://shop.example')"
[[ "$(header_count access-control-allow-origin "$h")" == 1 ]] ||
  fail "GET with Origin: want exactly one Access-Control-Allow-Origin, got: $(tr '\n' ';' <<<"$h")"
pass "CORS *: a preflight gets one Allow-Origin *, the methods, headers and Max-Age 86400; a GET one Allow-Origin"

creds=(-H 'Host: creds.check.test')
h="$(headers "$base/api/v1/messages" "${preflight[@]}" "${creds[@]}" -H 'Origin: https://admin.example')"
[[ "$(header_count access-control-allow-origin "$h")" == 1 &&
  "$(header_value access-control-allow-origin "$h")" == https://admin.example ]] ||
  fail "preflight with credentials: want one Allow-Origin https://admin.example, got: $(tr '\n' ';' <<<"$h")"
[[ "$(header_value access-control-allow-credentials "$h")" == true ]] || fail "preflight: credentials not allowed"
[[ "$(header_value access-control-max-age "$h")" == 600 ]] || fail "preflight: Max-Age is not 600"
h="$(headers "$base/api/v1/messages" "${preflight[@]}" "${creds[@]}" -H 'Origin: https://evil.example')"
[[ "$(header_count access-control-allow-origin "$h")" == 0 ]] ||
  fail "preflight from an origin not on the list got an Allow-Origin: $(tr '\n' ';' <<<"$h")"
pass "CORS origin list with credentials: the listed origin echoed once, credentials true; others get none"

# 3. The address Traefik publishes (kube-system/traefik's load-balancer status).
published() {
  [[ "$(k get ingress shop -o 'jsonpath={.status.loadBalancer.ingress[0].ip}:{.status.loadBalancer.ingress[0].ports[0].port}')" == "127.0.0.1:$port" ]]
}
retry 20 published || fail "Ingress shop status: $(k get ingress shop -o 'jsonpath={.status.loadBalancer}')"
pass "Ingress status: 127.0.0.1 port $port"

# 4. NetworkPolicy.
pod_finished() { # name
  local phase
  phase="$(k get pod "$1" -o 'jsonpath={.status.phase}')"
  [[ "$phase" == Succeeded || "$phase" == Failed ]]
}
# netcheck_once name role expect targets: runs netcheck in a pod labelled role and reports
# whether the outcome was expect (ok: every connection opened; fail: one did not).
netcheck_once() {
  local name=$1 role=$2 expect=$3 targets=$4 phase
  k delete pod "$name" --ignore-not-found --wait=true >/dev/null
  k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $name, labels: {role: $role}}
spec:
  restartPolicy: Never
  containers:
  - name: netcheck
    image: $netcheck_image
    imagePullPolicy: Never
    args: ["-connect", "$targets", "-timeout", "3s"]
YAML
  retry 30 pod_finished "$name" || return 1
  phase="$(k get pod "$name" -o 'jsonpath={.status.phase}')"
  [[ "$expect/$phase" == ok/Succeeded || "$expect/$phase" == fail/Failed ]]
}
# netcheck name role expect targets: netcheck_once until it holds, for up to 30 s, as
# kube-router applies a policy change within seconds.
netcheck() {
  retry 30 netcheck_once "$@" ||
    fail "pod $1 (role $2) to $4: want $3, got: $(k logs "$1" 2>/dev/null | tr '\n' ' ')"
  k delete pod "$1" --wait=false >/dev/null
}
backend_ip="$(k get pods -l app=backend -o 'jsonpath={.items[0].status.podIP}')"
netcheck open client ok "$backend_ip:8025,$backend_ip:1025,backend:80"
pass "no policy: a pod reaches backend on 8025, 1025 and through its Service"

k apply -f - >/dev/null <<YAML
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny}
spec:
  podSelector: {}
  policyTypes: [Ingress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: backend-http-from-allowed}
spec:
  podSelector: {matchLabels: {app: backend}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {role: allowed}}}]
    ports: [{protocol: TCP, port: 8025}]
YAML
netcheck denied client fail "$backend_ip:8025"
netcheck denied-svc client fail "backend:80"
pass "default deny: a pod without the allowed label is blocked, at the pod IP and through the Service"
netcheck allowed allowed ok "$backend_ip:8025,backend:80"
netcheck allowed-smtp allowed fail "$backend_ip:1025"
pass "allow rule: role=allowed reaches backend on 8025 only (1025 blocked)"
retry 10 status_is 200 "$base/api/v1/info" || fail "Traefik no longer reaches backend under the policies"
pass "Traefik (on the host) still reaches backend under default deny"

# 5. The node keeps pods off the host except for the API server. kube-router accepts the
# policy-compliant traffic of the pods it knows in INPUT, ahead of the node's own rules, so
# the probe must come from a pod it has synced: an ephemeral netcheck container in a running
# pod (a fresh pod's first packets would slip past kube-router and prove nothing).
k run host-client --image="$mailpit_image" --image-pull-policy=Never --labels=role=client >/dev/null
k wait --for=condition=Ready pod/host-client --timeout=90s >/dev/null || fail "pod host-client is not Ready"
client_ip="$(k get pod host-client -o 'jsonpath={.status.podIP}')"
synced() { iptables -w -S KUBE-ROUTER-INPUT 2>/dev/null | grep -q -- "-s $client_ip/32 "; }
retry 30 synced || fail "kube-router has no rules for pod host-client ($client_ip)"
exit_code() { # pod container: the exit code of a terminated ephemeral container
  k get pod "$1" -o "jsonpath={.status.ephemeralContainerStatuses[?(@.name==\"$2\")].state.terminated.exitCode}"
}
exited() { [[ -n "$(exit_code "$@")" ]]; }
probe_host() { # container expect targets
  k debug host-client -q --image="$netcheck_image" --image-pull-policy=Never --container="$1" \
    --arguments-only -- -connect "$3" -timeout 3s >/dev/null
  retry 30 exited host-client "$1" || fail "probe $1 did not finish"
  local code
  code="$(exit_code host-client "$1")"
  [[ "$2/$code" == ok/0 || "$2/$code" == fail/1 ]] ||
    fail "from pod host-client to $3: want $2, got: $(k logs host-client -c "$1" | tr '\n' ' ')"
}
probe_host host-api ok "$CLUSTER_NODE_IP:$CLUSTER_API_PORT"
probe_host host-kubelet fail "$CLUSTER_NODE_IP:10250"
pass "a pod kube-router knows reaches the host on the API port ($CLUSTER_API_PORT) only (kubelet 10250 blocked)"

say "all checks passed in $(elapsed "$t0")"
