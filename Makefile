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
# goreleaser is a Go tool pinned in its own modfile (its few hundred modules
# stay out of go.mod); krew and the manifest renderer live in the module
# hack/release.
GORELEASER    := $(GO) tool -modfile=hack/release/goreleaser.mod goreleaser
RELEASE_GO    := $(GO) -C hack/release

.PHONY: all build helpers lint test test-unit test-e2e test-kube testbed-up testbed-down \
        bench-podman bench-proxy bench-sync release-snapshot test-release check tools fuzz clean run

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
	GOOS=darwin GOARCH=amd64 $(GO) vet ./...
	GOOS=darwin GOARCH=arm64 $(GO) vet ./...
	$(RELEASE_GO) vet -tags release ./...
	$(GOLANGCI_LINT) run --allow-parallel-runners ./...
	cd hack/release && $(GOLANGCI_LINT) run --allow-parallel-runners --build-tags release ./...
	shellcheck $(SHELL_SCRIPTS)

## run: build, install Podman if missing, and start a session for
## WORKSPACE (default: here), attached to this terminal (as root)
WORKSPACE ?= $(CURDIR)
run: build
	hack/run.sh "$(WORKSPACE)" $(ARGS)

## test: unit tests (fakes only, no containers, no cluster)
test: test-unit
test-unit:
	$(GO) test -count=1 ./...
	$(RELEASE_GO) test -count=1 ./...

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

## release-snapshot: the release into dist/, published nowhere: 8 .tar.gz
## archives (paude and kubectl-paude for linux and darwin, amd64 and arm64),
## checksums.txt, and the krew manifest dist/krew/paude.yaml rendered from
## krew/paude.yaml and checked by krew's own validate-krew-manifest.
# goreleaser drops every git fact (commit, date) in a clone without a remote,
# as a worktree can be, so it is given the project's URL.
release-snapshot:
	GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=remote.origin.url GIT_CONFIG_VALUE_0=https://github.com/paude-dev/paude.git \
	PAUDE_LDFLAGS='$(LDFLAGS)' $(GORELEASER) release --snapshot --clean --skip=publish
	$(RELEASE_GO) run ./krewmanifest -template $(CURDIR)/krew/paude.yaml -dist $(CURDIR)/dist -out $(CURDIR)/dist/krew/paude.yaml
	$(RELEASE_GO) tool validate-krew-manifest -manifest $(CURDIR)/dist/krew/paude.yaml -skip-install

## test-release: the archives' contents and binaries, and real krew v0.4.3
## installing, running and uninstalling the plugin (needs the testbed's kubectl)
test-release: release-snapshot
	PAUDE_WANT_VERSION='$(VERSION)' PAUDE_WANT_COMMIT='$(COMMIT)' \
	hack/release/test-release.sh

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

## check: everything CI runs (lint, unit, Podman e2e, Kubernetes integration,
## release archives and the krew install, last as it reuses test-kube's kubectl)
check: lint test test-e2e test-kube test-release

clean:
	rm -rf $(BIN) dist pkg/helperbin/bin
