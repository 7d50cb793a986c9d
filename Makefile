# LittleEcom: an operator that provisions a microservice shop from one custom resource.
include hack/versions.env

IMG ?= littleecom/manager:latest
SERVICE_IMG_PREFIX ?= littleecom

SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

LOCALBIN ?= $(shell pwd)/bin
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
KUSTOMIZE ?= $(LOCALBIN)/kustomize
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint
KUBECTL ?= kubectl
ENVTEST_ASSETS = $(LOCALBIN)/k8s/$(KUBERNETES_VERSION:v%=%)

# Tests that need more than the API server (RabbitMQ) read this; envtest reads KUBEBUILDER_ASSETS.
GO_TEST_FLAGS ?= -timeout 45m

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate the CRD and the ClusterRole from kubebuilder markers.
	"$(CONTROLLER_GEN)" rbac:roleName=manager-role crd paths="./api/..." paths="./controllers/..." output:crd:artifacts:config=config/crd/bases
	hack/release/sync-chart.sh

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods.
	"$(CONTROLLER_GEN)" object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: fmt
fmt: ## Run gofmt against code.
	gofmt -l -w $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './bin/*')

.PHONY: vet
vet: ## Run go vet against code.
	go vet ./...

.PHONY: lint
lint: golangci-lint ## Run golangci-lint.
	"$(GOLANGCI_LINT)" run

.PHONY: lint-fix
lint-fix: golangci-lint ## Run golangci-lint and apply its fixes.
	"$(GOLANGCI_LINT)" run --fix

.PHONY: test
test: manifests generate fmt vet test-tiers envtest rabbitmq kustomize kubebuilder ## Run every test: all the tiers below but the cluster's, in one go test (one build, one coverage profile).
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test $(GO_TEST_FLAGS) ./... -coverprofile cover.out

# The tiers, by what a package's tests need. Every package is in exactly one of them
# (test-tiers checks it); e2e/cluster skips itself unless make test-cluster runs it.
TIER_ENVTEST = ./controllers/... ./cmd/dev/devstack/...
TIER_SERVICES = ./services/... ./internal/rabbitadmin/... ./hack/rabbitmq-image/...
TIER_E2E = ./e2e
TIER_NOT_UNIT = -e /controllers -e /cmd/dev/devstack -e /services/ -e /internal/rabbitadmin -e /hack/rabbitmq-image -e /e2e

.PHONY: test-unit
test-unit: kustomize kubebuilder ## Tests that need nothing running (in-process FerretDB and SMTP at most).
	go test $(GO_TEST_FLAGS) $$(go list ./... | grep -v $(TIER_NOT_UNIT))

.PHONY: test-envtest
test-envtest: envtest rabbitmq kustomize ## The operator on a real kube-apiserver + etcd (and the dev runner's stack).
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test $(GO_TEST_FLAGS) $(TIER_ENVTEST)

.PHONY: test-services
test-services: rabbitmq ## The shop services against real RabbitMQ, the MongoDB wire protocol (FerretDB) and SMTP.
	go test $(GO_TEST_FLAGS) $(TIER_SERVICES)

.PHONY: test-e2e
test-e2e: envtest rabbitmq ## The shopper suite against make dev's whole shop, started on free ports.
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test $(GO_TEST_FLAGS) $(TIER_E2E)

.PHONY: test-tiers
test-tiers: ## Check that the tiers together name every package exactly once.
	@hack/test-tiers.sh "$(TIER_ENVTEST) $(TIER_SERVICES) $(TIER_E2E) ./e2e/cluster/..." "$(TIER_NOT_UNIT)"

.PHONY: dev
dev: envtest rabbitmq ## Run the whole shop on this machine until Ctrl-C (gateway on 127.0.0.1:8080, LITTLEECOM_ADDR changes it; data in bin/dev, LITTLEECOM_DATA).
	go build -o "$(LOCALBIN)/littleecom-dev" ./cmd/dev
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" exec "$(LOCALBIN)/littleecom-dev"

.PHONY: bench
bench: envtest rabbitmq ## Run the benchmarks (reported, never asserted).
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test -run '^$$' -bench . -benchmem ./...

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build the manager and the services into bin/.
	go build -o bin/ ./cmd/manager ./cmd/backend ./cmd/auth ./cmd/notifier

.PHONY: run
run: manifests generate fmt vet ## Run the manager from your host against the current kubeconfig.
	go run ./cmd/manager

.PHONY: docker-build
docker-build: ## Build the manager and service images (needs a container engine).
	docker build --build-arg PROGRAM=manager -t $(IMG) .
	for p in backend auth notifier; do docker build --build-arg PROGRAM=$$p -t $(SERVICE_IMG_PREFIX)/$$p:0.1.0 .; done

.PHONY: release
release: manifests kustomize ## Write release VERSION=x.y.z into dist/: install.yaml, the chart package, the image archives, CHANGELOG.md, SHA256SUMS.
	KUSTOMIZE="$(KUSTOMIZE)" hack/release/release.sh "$(VERSION)"

.PHONY: build-installer
build-installer: manifests generate kustomize ## Generate dist/install.yaml with the CRD and the manager.
	mkdir -p dist
	cd config/manager && "$(KUSTOMIZE)" edit set image controller=$(IMG)
	"$(KUSTOMIZE)" build config/default > dist/install.yaml

##@ Deployment

ifndef ignore-not-found
  ignore-not-found = false
endif

.PHONY: install
install: manifests kustomize ## Install the CRD into the cluster of the current kubeconfig.
	"$(KUSTOMIZE)" build config/crd | "$(KUBECTL)" apply --server-side -f -

.PHONY: uninstall
uninstall: manifests kustomize ## Remove the CRD from the cluster (ignore-not-found=true to ignore missing objects).
	"$(KUSTOMIZE)" build config/crd | "$(KUBECTL)" delete --ignore-not-found=$(ignore-not-found) -f -

.PHONY: deploy
deploy: manifests kustomize ## Deploy the manager to the cluster of the current kubeconfig.
	cd config/manager && "$(KUSTOMIZE)" edit set image controller=$(IMG)
	"$(KUSTOMIZE)" build config/default | "$(KUBECTL)" apply --server-side -f -

.PHONY: undeploy
undeploy: kustomize ## Remove the manager from the cluster.
	"$(KUSTOMIZE)" build config/default | "$(KUBECTL)" delete --ignore-not-found=$(ignore-not-found) -f -

##@ Real cluster (a single node built from source on this machine; root, Linux)

CLUSTER_DIR ?= $(LOCALBIN)/cluster

.PHONY: images
images: ## Build the OCI image archives into bin/images (no Docker engine); load them when the node is up.
	go run ./hack/images build
	@if hack/cluster.sh status >/dev/null 2>&1; then hack/cluster.sh load $(LOCALBIN)/images/*.tar; fi

.PHONY: cluster
cluster: envtest kustomize helm ## Bring up the node (or reuse it), build and load the images, deploy the operator and the sample shop; print its URL.
	hack/cluster.sh up
	$(MAKE) --no-print-directory images
	hack/cluster-shop.sh up

.PHONY: cluster-down
cluster-down: ## Stop the node and undo every change it made to the host.
	hack/cluster.sh down

.PHONY: test-cluster
test-cluster: cluster ## End-to-end suite against the real node (brings it up when needed).
	hack/cluster-shop.sh test

##@ Dependencies (cached in bin/, versions in hack/versions.env)

.PHONY: controller-gen
controller-gen: ## Install controller-gen.
	@hack/tools.sh controller-gen sigs.k8s.io/controller-tools/cmd/controller-gen $(CONTROLLER_TOOLS_VERSION)

.PHONY: kustomize
kustomize: ## Install kustomize.
	@hack/tools.sh kustomize sigs.k8s.io/kustomize/kustomize/v5 $(KUSTOMIZE_VERSION)

.PHONY: helm
helm: ## Install the helm CLI (the chart's installer on the node).
	@hack/tools.sh helm helm.sh/helm/v4/cmd/helm $(HELM_VERSION)

.PHONY: kubebuilder
kubebuilder: ## Install the kubebuilder CLI (run it through hack/kubebuilder.sh).
	@hack/tools.sh kubebuilder sigs.k8s.io/kubebuilder/v4 $(KUBEBUILDER_VERSION)

.PHONY: golangci-lint
golangci-lint: ## Install golangci-lint.
	@hack/tools.sh golangci-lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint $(GOLANGCI_LINT_VERSION)

.PHONY: envtest
envtest: ## Build kube-apiserver and etcd for envtest from their Go modules.
	@hack/build-envtest.sh >/dev/null

.PHONY: rabbitmq
rabbitmq: ## Install (apt-get) and start RabbitMQ on 127.0.0.1:5672 when it is not running.
	@hack/rabbitmq.sh start
