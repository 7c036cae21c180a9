# The targets the README shows. `make run` and `make test` are the two
# commands a fresh machine needs.

GO ?= go

.PHONY: run test test-short build fuzz vet bench bench-go

run:
	$(GO) run ./cmd/parley serve

build:
	$(GO) build -o bin/parley ./cmd/parley

# Everything CI runs: static checks, then every test with the race detector.
test: vet
	$(GO) test -race -count=1 -timeout 12m ./...

test-short:
	$(GO) test -short -count=1 ./...

vet:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

# Each fuzz target for FUZZTIME (default 1m); the seed corpora run in `make test`.
FUZZTIME ?= 1m
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzParseAuthorization -fuzztime=$(FUZZTIME) ./clientweb/
	$(GO) test -run='^$$' -fuzz=FuzzDecodeClientEvents -fuzztime=$(FUZZTIME) ./chat/

# The Go benchmarks of the hot paths (event append, poll wake-up, wire
# encoding), then the load runs of scripts/bench.sh against a hello-world
# ceiling; BENCH_* variables tune them (see the script). docs/benchmarks.md
# has the figures and how to read them.
bench: bench-go
	./scripts/bench.sh

bench-go:
	$(GO) test -run='^$$' -bench=. -benchmem ./chat/ ./sqlite/ ./clientweb/
