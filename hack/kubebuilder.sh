#!/usr/bin/env bash
# Runs the kubebuilder CLI (bin/kubebuilder, KUBEBUILDER_VERSION; `make kubebuilder`) on this
# tree, for what comes after `kubebuilder init`: `create api`, `create webhook`, `edit` (not
# `edit --multigroup` or `--namespaced`, which would undo the layout and config/namespaced).
#
# PROJECT declares kubebuilder's go/v4 layout, and api/ and config/ follow it. Two paths of
# the layout are the project's own, and go/v4 hard-codes both (no PROJECT field or flag
# moves them):
#   - the manager is cmd/manager/main.go, not cmd/main.go. go/v4 refuses to run without a
#     cmd/main.go and inserts its wiring there (with its own setupLog, scheme and os.Exit).
#     This script gives it a stub cmd/main.go for the run and removes it afterwards; the
#     wiring goes where every caller of the reconcilers gets it (controllers.NewScheme,
#     controllers.SetupWithOptions), which the script prints.
#   - reconcilers live in the top-level controllers/ package, not internal/controller/. The
#     script moves what go/v4 writes there into controllers/ and drops its suite_test.go
#     (controllers/suite_test.go is the envtest suite).
# `create webhook` also updates kubebuilder's test/e2e/e2e_test.go, which this project does
# not have (its e2e suites are e2e/ and e2e/cluster/): a stub stands in for the run.
#
# docs/architecture.md ("Where each kind of change goes") says what to do next;
# hack/projectcheck runs this script on a copy of the tree in `make test`.
#
# Usage: hack/kubebuilder.sh create api --group shop --version v1alpha2 --kind Foo --controller
#        hack/kubebuilder.sh create webhook --group shop --version v1 --kind LittleEcom --defaulting
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
kb="${KUBEBUILDER:-$root/bin/kubebuilder}"

die() { echo "kubebuilder.sh: $*" >&2; exit 1; }

[[ -x $kb ]] || die "$kb is missing (make kubebuilder installs it)"
case "${1:-} ${2:-}" in
  "create api" | "create webhook" | "edit "*) ;;
  *) die "supported: create api, create webhook, edit (the project exists; init, alpha generate and alpha update would scaffold go/v4's layout over it)" ;;
esac
for arg in "$@"; do
  case $arg in
    --multigroup | --multigroup=true)
      die "the project is single-group (api/<version>, controllers/); --multigroup would move new APIs to api/<group>/<version>" ;;
    --namespaced | --namespaced=true) # create api's --namespaced is the resource's scope
      [[ $1 != edit ]] || die "config/ installs cluster-wide and config/namespaced namespace-scoped (--watch-namespaces); --namespaced would turn config/rbac's ClusterRoles into Roles" ;;
  esac
done

# The stubs must never replace a real file: go/v4's own paths are not used here.
stubs=(cmd/main.go test/e2e/e2e_test.go)
for path in "${stubs[@]}" internal/controller; do
  [[ ! -e $path ]] || die "$path exists; this project keeps the manager in cmd/manager and reconcilers in controllers/"
done
cleanup() {
  rm -f "${stubs[@]}"
  rmdir test/e2e test 2>/dev/null || true
}
trap cleanup EXIT
cat >cmd/main.go <<'EOF'
// Stub for kubebuilder's main.go updater, removed by hack/kubebuilder.sh after the run.
package main

import (
	// +kubebuilder:scaffold:imports
)

func main() {
	// +kubebuilder:scaffold:scheme
	// +kubebuilder:scaffold:builder
}
EOF
mkdir -p test/e2e
printf '// Stub for kubebuilder'"'"'s e2e updater, removed by hack/kubebuilder.sh after the run.\npackage e2e\n' >test/e2e/e2e_test.go

"$kb" "$@"

# What go/v4 scaffolded into internal/controller belongs to controllers/.
if [[ -d internal/controller ]]; then
  rm -f internal/controller/suite_test.go
  moved=()
  for file in internal/controller/*.go; do
    [[ -e $file && -e controllers/${file##*/} ]] || continue
    # A second controller of a kind comes with <kind>_controller_test.go, which go/v4 skips
    # when it exists in its own layout; here the kind's tests are already in controllers/.
    if [[ $file == *_test.go ]]; then
      rm "$file"
      continue
    fi
    die "controllers/${file##*/} exists; $file is left for you to merge"
  done
  for file in internal/controller/*.go; do
    [[ -e $file ]] || continue
    sed 's/^package controller$/package controllers/' "$file" >"controllers/${file##*/}"
    rm "$file"
    moved+=("controllers/${file##*/}")
  done
  rmdir internal/controller
  [[ ${#moved[@]} -eq 0 ]] || echo "kubebuilder.sh: moved into controllers/: ${moved[*]}" >&2
fi

if [[ ${1:-} == create ]]; then
  cat >&2 <<'EOF'
kubebuilder.sh: kubebuilder's wiring of cmd/main.go was discarded; wire by hand:
  - a new API version: add its AddToScheme to controllers.NewScheme (controllers/setup.go),
    the one scheme of the manager, the envtest suite and make dev; then make manifests generate
  - a new reconciler (controllers/<kind>_controller.go): register it in
    controllers.SetupWithOptions and keep its RBAC markers there
  - a webhook (internal/webhook/<version>): call its Setup...WebhookWithManager in
    cmd/manager/main.go and add its envtest suite to TIER_ENVTEST in the Makefile
EOF
fi
