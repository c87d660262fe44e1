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

# The default suite: the hit-path microbenchmarks (the headline's first
# column), then every scenario against the verifiers it names, profiles,
# flame graphs, plots and a report, which a headless browser then checks
# (screenshot beside it); prints the report's path.
MICROBENCH := 'BenchmarkVerify/.*/^(hit|parallel-hit)$$'
bench: build tools
	@mkdir -p reports
	$(GO) test -run '^$$' -bench $(MICROBENCH) -benchtime 100ms -count 10 ./impl/ > reports/.microbench.txt
	$(BIN) run --progress --microbench reports/.microbench.txt $(SCENARIOS) > reports/.last-report
	$(BIN) report --check "$$(dirname "$$(cat reports/.last-report)")"
	@cat reports/.last-report

# Same suite with short phases (CI, smoke tests): a few minutes.
bench-quick: build tools
	$(BIN) run --quick --progress $(SCENARIOS)

# Go microbenchmarks of the verifiers and ticket strategies, in benchstat's
# format (ns/op, cpu-ns/op, allocations, slow/op).
bench-go: deps
	mkdir -p reports
	$(GO) test -run '^$$' -bench 'Verify|Warm|Flood|Herd|Digest|ShadowSize|SlowPathParts' -count 10 ./impl/ | tee reports/bench-go.txt
	$(GO) test -run '^$$' -bench 'Ticket' -count 10 ./impl/ticket/ | tee -a reports/bench-go.txt

fuzz: deps
	./scripts/fuzz.sh $(FUZZTIME)

fuzz-short: deps
	./scripts/fuzz.sh 5s

gate: build tools
	$(BIN) gate --base $${BASE:-origin/main}

# The gate's false-alarm and detection rates on this machine with their
# 95 % (Clopper–Pearson) intervals and the smallest change each method
# detects (planted 1, 2, 5, 10 %), quiet and with the built-in noisy
# neighbour (docs/gate.md). The quiet run writes gate/rates.json, the file
# the report's verdict block and the README quote. 400 time trials
# (about 30 min here): 0 alarms in ≥ 367 is what bounds the false-alarm
# rate below 1 %, and all detected in ≥ 72 what clears 95 % detection,
# on the Clopper–Pearson interval.
gate-calibrate: build tools
	$(BIN) gate --calibrate --measure instructions,ab --trials 400 --instr-trials 400 --rates gate/rates.json --out reports/calibration-quiet
	$(BIN) gate --calibrate --neighbour --measure instructions,ab --trials 20 --instr-trials 100 --out reports/calibration-neighbour

# The long model-based and writer stress tests (10,000 schedules, 300 kill -9
# rounds); make test runs their short form.
model-long: deps
	$(GO) test -race -count=1 -timeout 60m -run 'Model|Stress' ./impl/ -args -long

clean:
	rm -rf bin reports/*/ flamegraphs/*/
