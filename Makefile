# Lead Orchestrator. `make help` lists the targets.

GO        ?= go
BIN       := bin
TEST_FLAGS ?= -race -count=1 -timeout 8m
PKGS      := ./...

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

DURATION  ?= 60s

.PHONY: build
build: ## build bin/worker, bin/enqueue, bin/sandbox, bin/demo, bin/chaos and bin/bench
	$(GO) build -o $(BIN)/ ./cmd/worker ./cmd/enqueue ./cmd/sandbox ./cmd/demo ./cmd/chaos ./cmd/bench

# The demo needs four of the six binaries: building chaos and bench too made
# a first `make demo` on a cold cache silent for about a minute.
DEMO_CMDS := ./cmd/worker ./cmd/enqueue ./cmd/sandbox ./cmd/demo

.PHONY: demo-build
demo-build: ## build only what the demo runs: bin/worker, bin/enqueue, bin/sandbox, bin/demo
	@echo "building bin/worker, bin/enqueue, bin/sandbox and bin/demo (the first build on a fresh machine takes a while) ..."
	$(GO) build -o $(BIN)/ $(DEMO_CMDS)

.PHONY: demo
demo: demo-build ## run everything locally: private Postgres, sandbox providers, two workers (Ctrl-C or closing the terminal stops)
	$(BIN)/demo -bin $(BIN)

.PHONY: migrate
migrate: build ## apply the schema to the database of config.yaml / LEADORCH_DATABASE_URL
	$(BIN)/worker migrate

.PHONY: run
run: build ## run one worker against the providers of config.yaml / LEADORCH_* (production-like)
	$(BIN)/worker run

.PHONY: test
test: ## gofmt, go vet and every test with the race detector, against a real Postgres
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.data/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) test $(TEST_FLAGS) $(PKGS)

.PHONY: chaos
chaos: build ## kill replicas and crash Postgres under provider faults, then check every invariant (DURATION=10m for the long form)
	$(BIN)/chaos -bin $(BIN) -duration $(DURATION)

.PHONY: bench
bench: build ## measure throughput, latency (poll and webhook), poll lag, bulk enqueue and memory; table on stdout, JSON in bench-results.json (BENCH_FLAGS=-quick for a smoke run)
	$(BIN)/bench -bin $(BIN) $(BENCH_FLAGS)

.PHONY: clean
clean: ## remove binaries (and, with CLEAN_DATA=1, the demo's private Postgres under .data)
	rm -rf $(BIN)
	@if [ "$(CLEAN_DATA)" = "1" ]; then rm -rf .data; fi
