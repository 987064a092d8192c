# kubectl-skoala: build, test, package.  `make help` lists the targets.
#
# The README's test command is `make test`: it builds the pinned tools (.cache/bin), the binary, runs the
# unit tests, starts a local fleet of CLUSTERS=4 real control planes (a control plane and three
# workspaces: the waves of upgrade need a canary and two more), runs the e2e tests against it and
# always stops the fleet again. Its output ends with go test's own summary lines.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.ONESHELL:
.DEFAULT_GOAL := build
MAKEFLAGS += --no-print-directory

GO ?= go
# The machine sets it; keep it for machines that do not (VCS stamping needs a git work tree).
export GOFLAGS ?= -buildvcs=false

PKG := github.com/skoala-dev/kubectl-skoala
BIN := bin/kubectl-skoala
SHIM := hack/kubectl_complete-skoala
CACHE ?= $(or $(SKOALA_CACHE),.cache)

# install: $(DESTDIR)$(BINDIR)
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DESTDIR ?=

# cluster-up / cluster-down / demo; `make test` uses TEST_CLUSTERS
CLUSTERS ?= 2
TEST_CLUSTERS ?= 4
E2E_TIMEOUT ?= 40m
E2E_RUN ?=
TEST_LOG_DIR ?= $(CACHE)/test-logs

# dist: the platforms to cross-build and where to put the archives and the krew manifest
PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
DIST ?= dist

# Version stamp, computed once per top-level make (exported so sub-makes reuse the same values).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GIT_COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)
BUILD_DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
VERSION := $(VERSION)
GIT_COMMIT := $(GIT_COMMIT)
BUILD_DATE := $(BUILD_DATE)
export VERSION GIT_COMMIT BUILD_DATE

LDFLAGS := -s -w \
	-X $(PKG)/pkg/buildinfo.Version=$(VERSION) \
	-X $(PKG)/pkg/buildinfo.GitCommit=$(GIT_COMMIT) \
	-X $(PKG)/pkg/buildinfo.BuildDate=$(BUILD_DATE)

.PHONY: help build install tools cluster-up cluster-down test-unit test-e2e test verify fuzz dist demo clean bench

help: ## List the targets
	@grep -hE '^[a-z][a-z0-9-]*:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  %-13s %s\n", $$1, $$2 }'

build: ## Build bin/kubectl-skoala (version from git describe, CGO off, -trimpath)
	@mkdir -p bin
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/kubectl-skoala
	@echo "built $(BIN) $(VERSION)"

install: build ## Install kubectl-skoala and the completion shim kubectl_complete-skoala into DESTDIR+PREFIX/bin
	install -d '$(DESTDIR)$(BINDIR)'
	install -m 0755 $(BIN) '$(DESTDIR)$(BINDIR)/kubectl-skoala'
	install -m 0755 $(SHIM) '$(DESTDIR)$(BINDIR)/kubectl_complete-skoala'

tools: ## Build the pinned tools into .cache/bin (control plane, kwok, helm3, helm4, kubectl-krew) and fetch the fuzzing Go
	hack/tools.sh all

cluster-up: ## Start the local fleet (CLUSTERS=2: contexts global, workspace-1, ...)
	CLUSTERS=$(CLUSTERS) hack/fleet.sh up

cluster-down: ## Stop the local fleet
	hack/fleet.sh down

test-unit: ## Unit tests: every package but test/e2e (no -race: it triples the time on 2 cores)
	$(GO) test -count=1 $$($(GO) list ./... | grep -v '/test/e2e')

test-e2e: build ## E2E tests of bin/kubectl-skoala against the running fleet (make cluster-up first)
	SKOALA_PLUGIN='$(CURDIR)/$(BIN)' $(GO) test ./test/e2e/... -count=1 -timeout $(E2E_TIMEOUT) -v $(if $(E2E_RUN),-run '$(E2E_RUN)')

# One shell script (.ONESHELL). Each phase is timed; the fleet is stopped whatever happened (also on
# SIGINT/SIGTERM); the exit code is the first failing phase's; the last lines are go test's summaries.
test: ## tools + build + unit + fleet up (CLUSTERS=4) + e2e + fleet down (always)
	@set +e
	logs='$(TEST_LOG_DIR)'
	mkdir -p "$$logs" && rm -f "$$logs"/unit.log "$$logs"/e2e.log
	timings=()
	step() {
		local name=$$1 t0 r
		shift
		printf '\n==> make test: %s\n' "$$name"
		t0=$$(date +%s)
		"$$@"
		r=$$?
		timings+=("$$(printf '%-11s %5ss  exit %s' "$$name" "$$(($$(date +%s) - t0))" "$$r")")
		return $$r
	}
	logged() { local f=$$1; shift; "$$@" 2>&1 | tee "$$f"; return "$${PIPESTATUS[0]}"; }
	fleet_down() { step fleet-down hack/fleet.sh down; }
	trap 'fleet_down; exit 130' INT TERM
	t_all=$$(date +%s)
	step tools $(MAKE) tools && step verify $(MAKE) verify && step build $(MAKE) build && step unit logged "$$logs/unit.log" $(MAKE) test-unit && step fuzz logged "$$logs/fuzz.log" hack/fuzz.sh
	rc=$$?
	if [ "$$rc" = 0 ]; then
		step fleet-up env CLUSTERS=$(TEST_CLUSTERS) hack/fleet.sh up
		rc=$$?
		if [ "$$rc" = 0 ]; then
			step e2e logged "$$logs/e2e.log" env SKOALA_PLUGIN='$(CURDIR)/$(BIN)' \
				$(GO) test ./test/e2e/... -count=1 -timeout $(E2E_TIMEOUT) -v
			rc=$$?
		fi
		fleet_down
	fi
	trap - INT TERM
	printf '\n==> make test: phases (total %ss)\n' "$$(($$(date +%s) - t_all))"
	printf '  %s\n' "$${timings[@]}"
	printf '\n==> make test: go test summary (full logs in %s)\n' "$$logs"
	grep -hE '^fuzz: ' "$$logs/fuzz.log" 2>/dev/null | tail -1
	grep -hE '^(ok|FAIL|\?|PASS$$|--- FAIL)' "$$logs/unit.log" "$$logs/e2e.log" 2>/dev/null
	exit "$$rc"

verify: ## gofmt, go vet and the hack/verify-*.sh rules
	@bad=$$(gofmt -l $$(ls -d cmd pkg test hack 2>/dev/null))
	if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi
	$(GO) vet ./...
	for f in hack/verify-*.sh; do echo "--> $$f"; bash "$$f"; done
	@echo "verify: ok"

fuzz: ## Run every fuzz target for FUZZTIME each (default 15s; seed corpora in testdata/fuzz)
	hack/fuzz.sh

dist: ## Cross-build release archives and the filled-in krew manifest into $(DIST)/ (PLATFORMS=...)
	DIST='$(DIST)' PLATFORMS='$(PLATFORMS)' hack/dist.sh

# bench: flags of hack/bench (-runs 9 -rtt 50 -bandwidth 12500 -workspaces 1,5,10,20 -keep -strict -record FILE ...)
BENCH_FLAGS ?=

bench: build ## Benchmark status/doctor vs kubectl+helm on the fleet, with toxiproxy latency (hack/bench; BENCH_FLAGS=...)
	hack/tools.sh helm3 toxiproxy crane
	$(GO) run ./hack/bench -plugin '$(BIN)' $(BENCH_FLAGS)

demo: build ## Fleet up (if not up), the demo landscape (hack/demo.sh), then `kubectl skoala status`
	hack/fleet.sh status >/dev/null 2>&1 || CLUSTERS=$(CLUSTERS) hack/fleet.sh up
	hack/demo.sh
	. '$(CACHE)/cluster/env'
	$(BIN) status --workspace-context workspace-1

clean: ## Remove bin/, dist/ and the e2e scratch files (keeps the tools in .cache/bin)
	rm -rf bin '$(DIST)' '$(CACHE)/e2e' '$(TEST_LOG_DIR)'
