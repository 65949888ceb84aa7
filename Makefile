# paude — build, lint and test. `make check` is what CI runs (as root): it
# installs what the real-component suites need, then runs every suite.

GO            ?= go
BIN           := bin
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT        ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS       := -s -w -X github.com/paude-dev/paude/pkg/plugin.Version=$(VERSION) \
                 -X github.com/paude-dev/paude/pkg/plugin.Commit=$(COMMIT)
TOOLS_DIR     ?= /var/cache/paude-tools/bin
GOLANGCI_VER  := v2.15.0
GOLANGCI_LINT := $(TOOLS_DIR)/golangci-lint-$(GOLANGCI_VER)
SHELL_SCRIPTS  = $(shell git ls-files '*.sh' .ci/run cmd/kubectl-paude/kubectl_complete-paude)

.PHONY: all build helpers lint test test-unit test-e2e test-kube testbed-up testbed-down \
        bench-podman bench-proxy bench-sync check tools fuzz clean

all: build

# HELPERS are Linux builds of paude that the binaries embed, to put in a
# cluster session's image as its sync helper where the running binary
# cannot serve (macOS, another architecture): `make helpers build`.
HELPER_ARCHS  := amd64 arm64
# Recursive (=), so that `make helpers build` sees what helpers made.
BUILD_TAGS     = $(if $(wildcard pkg/helperbin/bin/linux-*/paude.gz),-tags paude_helpers)

## build: both binaries into ./bin (paude, kubectl-paude), embedding the helpers when `make helpers` made them
build:
	CGO_ENABLED=0 $(GO) build $(BUILD_TAGS) -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/paude ./cmd/paude
	CGO_ENABLED=0 $(GO) build $(BUILD_TAGS) -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/kubectl-paude ./cmd/kubectl-paude

## helpers: Linux builds of paude for every architecture clusters run, for build to embed (release builds do this)
helpers:
	for arch in $(HELPER_ARCHS); do \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' \
			-o pkg/helperbin/bin/linux-$$arch/paude ./cmd/paude && \
		gzip -9nf pkg/helperbin/bin/linux-$$arch/paude || exit 1; \
	done

## tools: golangci-lint and shellcheck, cached outside the work tree
tools: $(GOLANGCI_LINT)
	@command -v shellcheck >/dev/null || { apt-get update -qq && apt-get install -y -qq shellcheck >/dev/null; }

$(GOLANGCI_LINT):
	mkdir -p $(TOOLS_DIR)
	GOBIN=$(TOOLS_DIR)/.build $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VER)
	mv $(TOOLS_DIR)/.build/golangci-lint $@

## lint: gofmt, go vet, golangci-lint, shellcheck
lint: tools
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags integration,e2e ./...
	$(GOLANGCI_LINT) run --allow-parallel-runners ./...
	shellcheck $(SHELL_SCRIPTS)

## test: unit tests (fakes only, no containers, no cluster)
test: test-unit
test-unit:
	$(GO) test -count=1 ./...

## test-e2e: real rootful Podman, squid and tmux (installs what it needs)
test-e2e: build
	hack/podman/test-e2e.sh

## test-kube: real kube-apiserver, node, kube-proxy and NetworkPolicy enforcer
test-kube: build
	hack/testbed/test-kube.sh

## testbed-up / testbed-down: the Kubernetes testbed, for running tests by hand
testbed-up:
	hack/testbed/install.sh
	hack/testbed/up.sh

testbed-down:
	hack/testbed/down.sh

## bench-podman: warm start to tmux-ready against a bare podman run
bench-podman: build
	hack/bench/podman-start.sh

## bench-proxy: squid's throughput cost and memory, to size proxyResources
bench-proxy:
	hack/bench/proxy.sh

## bench-sync: workspace sync over the testbed's exec transport against same-run baselines (root)
bench-sync: build
	hack/bench/sync.sh

## fuzz: a short fuzzing run of the config parser
fuzz:
	$(GO) test ./pkg/config -run '^$$' -fuzz FuzzLoad -fuzztime 60s

## check: everything CI runs (lint, unit, Podman e2e, Kubernetes integration)
check: lint test test-e2e test-kube

clean:
	rm -rf $(BIN) pkg/helperbin/bin
