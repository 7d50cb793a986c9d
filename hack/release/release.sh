#!/usr/bin/env bash
# Writes a release into dist/ (`make release VERSION=x.y.z`):
#
#   install.yaml             CRD, cluster-wide RBAC and the operator (config/default)
#   install-namespaced.yaml  the namespace-scoped installation (config/namespaced)
#   littleecom-x.y.z.tgz     the Helm chart, version and appVersion x.y.z
#   images/<name>.tar        OCI archives of the manager, backend, auth and notifier, tagged
#                            littleecom/<name>:x.y.z (hack/images; push them with
#                            go run ./hack/images push --registry ...)
#   CHANGELOG.md, SHA256SUMS
#
# Every program is linked with the release's version: --version, its startup log and the
# littleecom_build_info metric report x.y.z, and the operator's default service images are
# littleecom/<service>:x.y.z. CHANGELOG.md must have a "## [x.y.z]" section first.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

die() { echo "release: $*" >&2; exit 1; }

version=${1:-}
[[ -n $version ]] || die "usage: make release VERSION=x.y.z"
[[ $version =~ ^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$ ]] ||
  die "VERSION=$version is not a semantic version such as 1.2.3 (no leading v)"
grep -q "^## \[$version\]" CHANGELOG.md || die "CHANGELOG.md has no \"## [$version]\" section: write the release notes first"
kustomize=${KUSTOMIZE:-$root/bin/kustomize}
[[ -x $kustomize ]] || die "$kustomize is missing (make kustomize builds it)"

dist=$root/dist
rm -rf "$dist"
mkdir -p "$dist/images"

# The manifests from a copy of config/, so that setting the image leaves the work tree alone.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r config "$work/config"
(cd "$work/config/manager" && "$kustomize" edit set image "controller=littleecom/manager:$version")
"$kustomize" build "$work/config/default" >"$dist/install.yaml"
"$kustomize" build "$work/config/namespaced" >"$dist/install-namespaced.yaml"

go run ./hack/release/chart -version "$version" -out "$dist" >/dev/null

programs=(manager backend auth notifier)
RELEASE_VERSION=$version go run ./hack/images build "${programs[@]}"
for p in "${programs[@]}"; do
  cp "bin/images/$p.tar" "$dist/images/$p.tar"
done

cp CHANGELOG.md "$dist/CHANGELOG.md"
(cd "$dist" && find . -type f ! -name SHA256SUMS -printf '%P\n' | sort | xargs sha256sum >SHA256SUMS)
echo "release $version: $dist"
ls -l "$dist" "$dist/images"
