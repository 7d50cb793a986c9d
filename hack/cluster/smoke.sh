#!/usr/bin/env bash
# Smoke check of the node that hack/cluster.sh runs, in a namespace of its own (removed at the
# end, with its volumes):
#   1. a Deployment of two pods and a ClusterIP Service; a pod answers at its pod IP and the
#      Service at its ClusterIP, both from the host;
#   2. from a pod: the Service by DNS name (short and fully qualified) and the API server;
#   3. a StatefulSet whose claim binds through the default StorageClass; data a pod wrote is
#      still there after the pod is re-created.
# The workloads are the project's own images (make images): Mailpit serves HTTP and keeps its
# mail in a file, netcheck opens TCP connections. Prints each step's time; exit 1 on failure.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
eval "$("$root/hack/cluster.sh" env)"
export KUBECONFIG CONTAINERD_ADDRESS CONTAINERD_NAMESPACE
# shellcheck source=../versions.env
source "$root/hack/versions.env"

namespace="${SMOKE_NAMESPACE:-smoke}"
mailpit_image="littleecom/mailpit:$MAILPIT_VERSION"
netcheck_image=littleecom/netcheck:0.1.0

t0="${EPOCHREALTIME/./}"
step_start="$t0"
say() { echo "smoke: $*" >&2; }
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
  k get pods -o wide >&2 2>/dev/null || true
  k get events --sort-by=.lastTimestamp 2>/dev/null | tail -n 10 >&2 || true
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

"$root/hack/cluster.sh" status >/dev/null || fail "the node is not up (hack/cluster.sh up)"
for image in mailpit netcheck; do
  [[ -f "$root/bin/images/$image.tar" ]] || fail "bin/images/$image.tar is missing (make images)"
done
"$root/hack/cluster.sh" load "$root/bin/images/mailpit.tar" "$root/bin/images/netcheck.tar" 2>/dev/null
"$KUBECTL" delete namespace "$namespace" --ignore-not-found --wait=true >/dev/null
"$KUBECTL" create namespace "$namespace" >/dev/null
cleanup() {
  [[ -n "${SMOKE_KEEP:-}" ]] && return 0
  "$KUBECTL" delete namespace "$namespace" --wait=true --timeout=90s >/dev/null 2>&1 || true
}
trap cleanup EXIT
pass "namespace $namespace, images loaded"

# 1. Deployment + Service.
k apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: mailpit
        image: $mailpit_image
        imagePullPolicy: Never
        readinessProbe:
          httpGet: {path: /readyz, port: 8025}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8025}]
YAML
k rollout status deployment/web --timeout=90s >/dev/null || fail "Deployment web did not roll out"
pass "Deployment web: 2 pods ready"
pod_ip="$(k get pods -l app=web -o jsonpath='{.items[0].status.podIP}')"
curl -fsS --max-time 5 "http://$pod_ip:8025/readyz" >/dev/null || fail "pod IP $pod_ip:8025 does not answer"
pass "pod answers at its IP $pod_ip from the host"
cluster_ip="$(k get service web -o jsonpath='{.spec.clusterIP}')"
retry 20 curl -fsS --max-time 2 -o /dev/null "http://$cluster_ip/readyz" ||
  fail "Service web does not answer at $cluster_ip:80"
pass "Service answers at its ClusterIP $cluster_ip from the host"

# 2. DNS and Services from a pod.
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: netcheck}
spec:
  restartPolicy: Never
  containers:
  - name: netcheck
    image: $netcheck_image
    imagePullPolicy: Never
    args: ["-connect", "web:80,web.$namespace.svc.cluster.local:80,kubernetes.default:443", "-timeout", "5s"]
YAML
phase() { k get pod netcheck -o jsonpath='{.status.phase}'; }
finished() { [[ "$(phase)" == Succeeded || "$(phase)" == Failed ]]; }
retry 60 finished || fail "pod netcheck did not finish"
[[ "$(phase)" == Succeeded ]] || fail "from a pod: $(k logs netcheck | tr '\n' ' ')"
pass "from a pod: web, web.$namespace.svc.cluster.local and kubernetes.default resolve and connect"

# 3. StatefulSet with a claim from the default StorageClass; Mailpit keeps its mail there.
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata: {name: store}
spec:
  clusterIP: None
  selector: {app: store}
  ports: [{port: 8025}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: store}
spec:
  serviceName: store
  replicas: 1
  selector: {matchLabels: {app: store}}
  template:
    metadata: {labels: {app: store}}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 65532, fsGroup: 65532}
      containers:
      - name: mailpit
        image: $mailpit_image
        imagePullPolicy: Never
        args: ["--database=/data/mailpit.db"]
        readinessProbe:
          httpGet: {path: /readyz, port: 8025}
          periodSeconds: 1
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
YAML
k rollout status statefulset/store --timeout=120s >/dev/null || fail "StatefulSet store did not roll out"
[[ "$(k get pvc data-store-0 -o jsonpath='{.status.phase}')" == Bound ]] || fail "claim data-store-0 is not Bound"
pass "StatefulSet store ready, claim data-store-0 Bound ($(k get pvc data-store-0 -o jsonpath='{.spec.volumeName}'))"

store_ip="$(k get pod store-0 -o jsonpath='{.status.podIP}')"
curl -fsS --max-time 5 -H 'Content-Type: application/json' "http://$store_ip:8025/api/v1/send" \
  -d '{"From": {"Email": "smoke@node.test"}, "To": [{"Email": "data@node.test"}], "Subject": "survives", "Text": "kept on the claim"}' \
  >/dev/null || fail "could not store a message in store-0"
old_uid="$(k get pod store-0 -o jsonpath='{.metadata.uid}')"
k delete pod store-0 --wait=true >/dev/null
recreated() {
  local uid
  uid="$(k get pod store-0 -o jsonpath='{.metadata.uid}' 2>/dev/null)"
  [[ -n "$uid" && "$uid" != "$old_uid" ]]
}
retry 60 recreated || fail "store-0 was not re-created"
k wait --for=condition=Ready pod/store-0 --timeout=90s >/dev/null || fail "the new store-0 is not Ready"
store_ip="$(k get pod store-0 -o jsonpath='{.status.podIP}')"
messages="$(curl -fsS --max-time 5 "http://$store_ip:8025/api/v1/messages")" || fail "store-0 does not answer"
[[ "$messages" == *'"Subject":"survives"'* ]] || fail "the message is gone after re-creation: $messages"
pass "data written before the pod was re-created is still there (new pod $store_ip)"

say "all checks passed in $(elapsed "$t0")"
