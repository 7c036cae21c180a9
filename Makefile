# The targets the README shows. `make run` and `make test` are the two
# commands a fresh machine needs.

GO ?= go

.PHONY: run test test-short build fuzz vet bench bench-go profile

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

# Each fuzz target, one after another, for FUZZTIME (default 1m); the seed
# corpora (testdata/fuzz) run in `make test`. FUZZ_TARGETS (package:Target)
# picks some, FUZZFLAGS adds flags (-parallel=1 on a shared machine).
# FuzzCustomerAPIPostgres needs the PostgreSQL `make test` uses.
FUZZTIME ?= 1m
FUZZFLAGS ?=
FUZZ_TARGETS ?= \
	chat:FuzzDecodeClientEvents chat:FuzzDecodeAgentEvents chat:FuzzHours chat:FuzzDuration chat:FuzzStorableJSON \
	clientweb:FuzzParseAuthorization clientweb:FuzzDecodeChatRequest clientweb:FuzzDecodeSubscription \
	clientweb:FuzzCustomerAPI clientweb:FuzzCustomerAPIPostgres clientweb:FuzzUploadFile \
	agentapi:FuzzAgentAPI agentapi:FuzzAgentUpload agentapi:FuzzParseCursors \
	adminapi:FuzzAdminAPI privacy:FuzzPrivacyAPI config:FuzzParse \
	netx:FuzzParseProxies netx:FuzzResolve push:FuzzServiceAnswer backup:FuzzUnpack \
	chat:FuzzDecodeOnePass chat:FuzzAgentDecodeFast client:FuzzEventsFast
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $${t%%:*} $${t#*:}"; \
		$(GO) test -run='^$$' -fuzz="^$${t#*:}\$$" -fuzztime=$(FUZZTIME) $(FUZZFLAGS) ./$${t%%:*}/; \
	done

# The Go benchmarks of the hot paths (event append, poll wake-up, wire
# encoding), then the load runs of scripts/bench.sh against a hello-world
# ceiling; BENCH_* variables tune them (see the script). docs/benchmarks.md
# has the figures and how to read them.
bench: bench-go
	./scripts/bench.sh

bench-go:
	$(GO) test -run='^$$' -bench=. -benchmem ./chat/ ./sqlite/ ./clientweb/

# CPU, heap and goroutine profiles of the server (and of the load
# generator) in the middle of one messaging run; PROFILE_* variables tune it
# (see the script).
profile:
	./scripts/profile.sh
