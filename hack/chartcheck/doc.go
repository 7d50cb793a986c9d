// Package chartcheck holds the tests that keep the Helm chart (charts/littleecom) and the
// kustomize configuration (config/) the same installation: the chart is rendered with
// Helm's own Go module (helm.sh/helm/v4, the engine `helm template` uses) and compared
// object by object with `bin/kustomize build` of config/default, config/namespaced and
// config/logging-cluster-metadata; `helm lint` runs through Helm's lint package. Run them
// with `go test ./hack/chartcheck/` (part of `make test`); they need bin/kustomize
// (`make kustomize`).
//
// The tests live in a package of their own, not beside the chart, so that the chart
// directory holds only what `helm package` ships and Helm's module is linked into these
// tests alone.
package chartcheck
