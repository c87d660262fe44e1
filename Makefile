# authbench — see README.md. Every target installs what it needs: Go modules
# from the module proxy (go.mod/go.sum), system tools (valgrind, chromium)
# from Debian packages through scripts/tools.sh, only when missing.
GO        ?= go
BIN       := bin/bench
PKGS      := ./...
FUZZTIME  ?= 30s
# Scenario files of the default suite.
SCENARIOS := $(wildcard scenarios/*.yaml)

.PHONY: tools all build test lint bench bench-quick bench-go fuzz fuzz-short gate gate-calibrate model-long clean deps

all: build

deps:
	$(GO) mod download

tools:
	./scripts/tools.sh

build: deps
	$(GO) build -o $(BIN) ./cmd/bench

# Behaviour tests with the race detector, plus a short fuzz pass; no timings.
test: deps tools lint
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# The default suite: every scenario against every registered verifier,
# profiles, flame graphs, plots and a report; prints the report's path.
bench: build tools
	$(BIN) run --progress $(SCENARIOS)

# Same suite with short phases (CI, smoke tests): a few minutes.
bench-quick: build tools
	$(BIN) run --quick --progress $(SCENARIOS)

# Go microbenchmarks of the verifiers, in benchstat's format.
bench-go: deps
	mkdir -p reports
	$(GO) test -run '^$$' -bench 'Verify|ShadowSize|SlowPathParts' -benchtime 200x -count 5 ./impl/ | tee reports/bench-go.txt

fuzz: deps
	./scripts/fuzz.sh $(FUZZTIME)

fuzz-short: deps
	./scripts/fuzz.sh 5s

gate: build
	$(BIN) gate --base $${BASE:-origin/main}

gate-calibrate: build
	$(BIN) gate --calibrate

clean:
	rm -rf bin reports/*/ flamegraphs/*/
