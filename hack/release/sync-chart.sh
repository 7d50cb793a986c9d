#!/usr/bin/env bash
# Copies what controller-gen generates into the chart, verbatim: the CRD (Helm installs
# charts/littleecom/crds/ as they are) and the operator's RBAC rules (the chart makes its
# ClusterRole or per-namespace Roles from them). `make manifests` runs it after
# controller-gen; hack/chartcheck fails while the copies differ.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
chart=$root/charts/littleecom
rm -f "$chart"/crds/*.yaml
cp "$root"/config/crd/bases/*.yaml "$chart"/crds/
cp "$root"/config/rbac/role.yaml "$chart"/files/manager-role.yaml
