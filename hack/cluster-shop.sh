#!/usr/bin/env bash
# Puts the shop on the node that hack/cluster.sh runs, and tests it there.
#   up    the CRD and the operator (the Helm chart charts/littleecom, namespace-scoped: it
#         watches the shop's namespace only), FerretDB and Mailpit (config/cluster/infra),
#         then the sample shop (config/cluster/shop); waits until the
#         LittleEcom is Ready and prints its URL and the kubeconfig. Idempotent: a second run
#         applies nothing new and only replaces pods whose local image was rebuilt.
#   test  the end-to-end suite of e2e/cluster against that shop.
# Expects the node up and the images loaded (make cluster does both first).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# shellcheck source=versions.env
source hack/versions.env
eval "$(hack/cluster.sh env)"
export KUBECONFIG CONTAINERD_ADDRESS

SHOP_NAMESPACE="${SHOP_NAMESPACE:-shop}"
SHOP_NAME="${SHOP_NAME:-littleecom}"
OPERATOR_NAMESPACE=littleecom-system
OPERATOR_DEPLOYMENT=littleecom-controller-manager
INFRA_NAMESPACE=littleecom-infra
CLUSTER_INGRESS_PORT="${CLUSTER_INGRESS_PORT:-18080}"
READY_TIMEOUT="${READY_TIMEOUT:-600s}"
KUSTOMIZE="${KUSTOMIZE:-$root/bin/kustomize}"
HELM="${HELM:-$root/bin/helm}"
HELM_RELEASE=littleecom
node_kubectl="$root/bin/node/${KUBERNETES_VERSION#v}/kubectl"
if [[ -z "${KUBECTL:-}" ]]; then
  if [[ -x "$node_kubectl" ]]; then KUBECTL="$node_kubectl"; else KUBECTL=kubectl; fi
fi

t0=$SECONDS
log() { echo "cluster-shop: [$((SECONDS - t0))s] $*" >&2; }
k() { "$KUBECTL" "$@"; }

apply() { # kustomize dir
  "$KUSTOMIZE" build "$1" | k apply --server-side --force-conflicts -f - >/dev/null
}

# replace_stale_pods deletes the pods that run an older build of a littleecom/* image than
# the one the node holds now (the tags stay put between builds), so their controllers start
# them again on the new image. A pod's imageID is its image's config digest.
pod_images='{{range .items}}{{$ns := .metadata.namespace}}{{$pod := .metadata.name}}{{range .status.containerStatuses}}{{$ns}} {{$pod}} {{.image}} {{.imageID}}{{"\n"}}{{end}}{{end}}'
replace_stale_pods() {
  local refs
  # containerd names every image with its registry; compare repositories and tags without it.
  refs="$(ctr -n k8s.io images ls | awk '$1 ~ /^[^\/]+\/littleecom\// {print $1, $3}')" ||
    { log "cannot list the node's images: $CONTAINERD_ADDRESS"; exit 1; }
  local -A config=()
  local ref manifest
  while read -r ref manifest; do
    [[ -n "$ref" ]] || continue
    config[${ref#*/}]="$(ctr -n k8s.io content get "$manifest" |
      sed -n 's/.*"config":{[^}]*"digest":"\(sha256:[0-9a-f]*\)".*/\1/p')"
  done <<<"$refs"
  local ns pod image id want
  while read -r ns pod image id; do
    [[ "${image%%/*}" == *[.:]* ]] && image="${image#*/}"
    want="${config[$image]:-}"
    [[ -z "$want" || "$id" == *"$want"* ]] && continue
    log "pod $ns/$pod runs an older build of $image: replacing it"
    k -n "$ns" delete pod "$pod" --wait=false >/dev/null
  done < <(k get pods -A -o go-template="$pod_images" | awk '$3 ~ /^([^\/]+\/)?littleecom\//')
}

wait_rollout() { # namespace kind/name
  k -n "$1" rollout status "$2" --timeout="$READY_TIMEOUT" >/dev/null ||
    { log "$1/$2 did not become ready"; k -n "$1" get pods -o wide >&2; return 1; }
}

up() {
  hack/cluster.sh status >/dev/null || { log "the node is not up: run make cluster"; exit 1; }
  install_operator
  log "infrastructure: FerretDB and Mailpit (config/cluster/infra)"
  apply config/cluster/infra
  replace_stale_pods
  wait_rollout "$OPERATOR_NAMESPACE" "deployment/$OPERATOR_DEPLOYMENT"
  wait_rollout "$INFRA_NAMESPACE" deployment/ferretdb
  wait_rollout "$INFRA_NAMESPACE" deployment/mailpit
  log "the shop: $SHOP_NAMESPACE/$SHOP_NAME (config/cluster/shop)"
  apply config/cluster/shop
  if ! k -n "$SHOP_NAMESPACE" wait --for=condition=Ready "littleecoms.shop.littleecom.io/$SHOP_NAME" --timeout="$READY_TIMEOUT" >/dev/null; then
    log "the shop did not become Ready; its conditions:"
    k -n "$SHOP_NAMESPACE" get "littleecoms.shop.littleecom.io/$SHOP_NAME" \
      -o go-template='{{range .status.conditions}}{{.type}}={{.status}} {{.reason}}: {{.message}}{{"\n"}}{{end}}' >&2
    k -n "$SHOP_NAMESPACE" get pods -o wide >&2
    exit 1
  fi
  wait_api
  echo "littleecom cluster ready: http://127.0.0.1:$CLUSTER_INGRESS_PORT"
  echo "kubeconfig: $KUBECONFIG"
}

# install_operator installs (or upgrades) the operator with its Helm chart as a cluster admin
# would, namespace-scoped: the manager watches $SHOP_NAMESPACE only and holds its rights
# there as a Role. The CRD is applied first, because helm installs a chart's CRDs once and
# never upgrades them.
install_operator() {
  log "operator: CRD (charts/littleecom/crds)"
  k apply --server-side --force-conflicts -f charts/littleecom/crds >/dev/null
  k wait --for=condition=Established crd/littleecoms.shop.littleecom.io --timeout=60s >/dev/null
  # The Role goes into the watched namespace, which must exist before the install.
  k create namespace "$SHOP_NAMESPACE" --dry-run=client -o yaml | k apply -f - >/dev/null
  drop_cluster_wide_rules
  log "operator: helm upgrade --install $HELM_RELEASE charts/littleecom (watching $SHOP_NAMESPACE)"
  "$HELM" upgrade --install "$HELM_RELEASE" charts/littleecom --kubeconfig "$KUBECONFIG" \
    --namespace "$OPERATOR_NAMESPACE" --create-namespace --skip-crds --take-ownership \
    --set "watchNamespaces={$SHOP_NAMESPACE}" >/dev/null
}

# drop_cluster_wide_rules removes the cluster-wide binding of the operator's rules that an
# earlier `make cluster` (config/default, before the chart) left on a reused node: the
# chart takes the objects it shares with it over, but would leave this one granting more.
drop_cluster_wide_rules() {
  local kind name managed
  for kind in clusterrolebinding/littleecom-manager-rolebinding clusterrole/littleecom-manager-role; do
    managed="$(k get "$kind" --ignore-not-found -o go-template='{{index .metadata.labels "app.kubernetes.io/managed-by"}}')"
    [[ -n "$managed" && "$managed" != Helm ]] || continue
    log "removing $kind of an earlier installation (managed by $managed)"
    k delete "$kind" >/dev/null
  done
}

# wait_api waits for the shop's API to answer through the ingress controller, which picks the
# Ingress and its endpoints up a moment after the pods are Ready.
wait_api() {
  local url="http://127.0.0.1:$CLUSTER_INGRESS_PORT/items"
  for _ in $(seq 1 120); do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url")" == 200 ]] && return 0
    sleep 0.5
  done
  log "the shop is Ready but $url does not answer 200 through the ingress controller"
  exit 1
}

run_tests() {
  hack/cluster.sh status >/dev/null || { log "the node is not up: run make cluster"; exit 1; }
  LITTLEECOM_CLUSTER_KUBECONFIG="$KUBECONFIG" \
    LITTLEECOM_CLUSTER_URL="http://127.0.0.1:$CLUSTER_INGRESS_PORT" \
    LITTLEECOM_CLUSTER_NAMESPACE="$SHOP_NAMESPACE" \
    LITTLEECOM_CLUSTER_SHOP="$SHOP_NAME" \
    LITTLEECOM_CLUSTER_OPERATOR_NAMESPACE="$OPERATOR_NAMESPACE" \
    LITTLEECOM_CLUSTER_INFRA_NAMESPACE="$INFRA_NAMESPACE" \
    CONTAINERD_ADDRESS="$CONTAINERD_ADDRESS" \
    go test ./e2e/cluster -count=1 -timeout 30m -v
}

case "${1:-}" in
  up) up ;;
  test) run_tests ;;
  *) echo "usage: $0 up|test" >&2; exit 2 ;;
esac
