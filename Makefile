# hsds-autoscaler. `make help` lists the targets.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c

GO          ?= go
K8S_VERSION ?= v1.36.3
CACHE       ?= $(CURDIR)/.cache
K8S_BIN     ?= $(CACHE)/k8s/$(K8S_VERSION)/bin
LINT        := $(CACHE)/bin/golangci-lint
HELM        := $(CACHE)/bin/helm
HELM_VERSION = $(shell awk '$$1 == "helm.sh/helm/v4" {print $$2}' .ci/helm/go.mod)
FUZZTIME    ?= 10s
TRACES      ?=
SEEDS       ?= 1
# make demo HSDS=real: the demo on real HSDS 0.9.4 pods (root, ../shared/real-hsds/install.sh; docs/demo.md).
HSDS        ?= fake
BIN         := $(CURDIR)/bin
# Release version (the file VERSION) and source revision, stamped into both binaries and images.
VERSION     := $(shell cat VERSION)
REVISION    ?= $(shell git describe --always --dirty 2>/dev/null || echo unknown)
VERSION_PKG := github.com/hsds-autoscaler/hsds-autoscaler/internal/version
LDFLAGS     := -X $(VERSION_PKG).version=$(VERSION) -X $(VERSION_PKG).revision=$(REVISION)
# Every timestamp in the images: the last commit's time, so that rebuilding a commit gives the same digests.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

export HSDS_K8S_BIN := $(K8S_BIN)
export HSDS_HELM    := $(HELM)

.PHONY: help build images test unit e2e lint vet fmt-check bench demo k8s-bin helm tools fuzz promtool-check clean generate

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

build: ## build hsds-autoscaler, hsds-agent, hsds-fake and hsds-bench into bin/ (version and revision stamped)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/...

images: ## OCI archives bin/images/{hsds-autoscaler,hsds-agent}-<VERSION>.oci.tar: static, non-root, reproducible, no daemon needed
	$(GO) run ./deploy/images --out $(BIN)/images --version $(VERSION) --revision $(REVISION) --source-date-epoch $(SOURCE_DATE_EPOCH)

test: vet fmt-check k8s-bin unit e2e ## everything CI runs: vet, gofmt, unit tests, end-to-end tests

unit: $(HELM) ## unit and integration tests (real Prometheus/promtool where a test needs them; helm lint/template of the chart)
	$(GO) test -count=1 -timeout 20m ./...

e2e: k8s-bin $(HELM) ## end-to-end tests against a real local control plane (etcd, kube-apiserver, kube-controller-manager)
	$(GO) test -count=1 -tags e2e -timeout 40m ./deploy/e2e/...

vet: ## go vet
	$(GO) vet ./...
	$(GO) vet -tags e2e ./deploy/e2e/...

fmt-check: ## fail if any file needs gofmt
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.cache/*')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

lint: $(LINT) ## golangci-lint (pinned in .ci/tools/go.mod) with the dependency rules of docs/design.md
	$(LINT) run ./...

$(LINT): .ci/tools/go.mod
	mkdir -p $(CACHE)/bin
	cd .ci/tools && $(GO) build -o $(LINT) github.com/golangci/golangci-lint/v2/cmd/golangci-lint

generate: ## regenerate the HSDSAutoscaler deepcopy code and CRD (controller-gen pinned in .ci/controller-gen/go.mod)
	hack/controller-gen.sh

helm: $(HELM) ## build (once, then cached) the helm pinned in .ci/helm/go.mod into .cache/bin/helm

$(HELM): .ci/helm/go.mod
	mkdir -p $(CACHE)/bin
	cd .ci/helm && $(GO) build -ldflags "-X helm.sh/helm/v4/internal/version.version=$(HELM_VERSION)" -o $(HELM) helm.sh/helm/v4/cmd/helm

k8s-bin: ## build (once, then cached) kube-apiserver, kube-controller-manager and kubectl $(K8S_VERSION)
	deploy/internal/build-k8s.sh $(K8S_VERSION) $(CACHE)/k8s

fuzz: ## run every fuzz target for FUZZTIME each
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo ">>> $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

bench: ## replay the traces and generated shapes, for each of SEEDS, through every policy and the frontier; writes bench/out/
	$(GO) run ./cmd/hsds-bench --out bench/out --seeds "$(SEEDS)" $(if $(TRACES),--traces "$(TRACES)")

.PHONY: bench-sources
bench-sources: ## one decision round for 10,000 pods, direct scrape beside Prometheus, each in its own process (docs/operations.md, "Big clusters")
	$(GO) test -run '^$$' -bench 'DecisionRound10000/direct$$' -benchtime 5x -timeout 15m ./adapter/promsource/
	$(GO) test -run '^$$' -bench 'DecisionRound10000/prometheus$$' -benchtime 5x -timeout 15m ./adapter/promsource/

demo: k8s-bin build ## the main job on this machine: control plane, HSDS pods (HSDS=fake|real), agents, the autoscaler, a replayed trace
	$(GO) run ./deploy/demo --hsds $(HSDS) --bin $(BIN) --k8s-bin $(K8S_BIN) $(DEMO_FLAGS)

clean: ## remove build outputs (keeps the Kubernetes binary cache)
	rm -rf $(BIN) bench/out
