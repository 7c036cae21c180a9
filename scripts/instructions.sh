#!/usr/bin/env bash
# What a Send Events request or an append costs in CPU, counted rather than
# timed: figures that do not depend on what else runs on the machine
# (docs/benchmarks.md, "The writer and the Send Events path").
#
#   scripts/instructions.sh serve [N]
#       user-space instructions of `parley serve` per Send Events request:
#       the server runs under callgrind; after a warm-up of 300 requests
#       the count is zeroed, N (default 8000) requests are sent
#       (loadgen/sendevents: 100 connections, 100 chats) and the count is
#       dumped.
#   scripts/instructions.sh syscalls [N]
#       CPU time (task-clock) and the write-ahead log's syscalls (pwrite,
#       pread, fsync) of `parley serve` per Send Events request, with perf
#       stat, over N (default 20000) requests.
#   scripts/instructions.sh bench PACKAGE BENCHMARK [N1 N2]
#       instructions per iteration of a Go benchmark, from two runs under
#       callgrind with -benchtime N1x and N2x (default 4000 and 16000): the
#       difference leaves out the setup.
#
# BENCH_SERVER names a parley binary to measure instead of this tree's.
# Needs valgrind (Debian: valgrind) or perf (linux-perf). Go's
# asynchronous preemption is turned off under callgrind, which it crashes.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=$(mktemp -d /tmp/parley-instructions.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

go build -o "$OUT/sendevents" ./loadgen/sendevents
if [ -z "${BENCH_SERVER:-}" ]; then
	go build -o "$OUT/parley" ./cmd/parley
fi
SERVER=${BENCH_SERVER:-$OUT/parley}

port() { echo $((20000 + RANDOM % 12000)); }

# start [wrapper…]: starts the server, under the wrapper if any; sets URL, PID.
start() {
	local p
	p=$(port)
	URL="http://127.0.0.1:$p"
	"$@" "$SERVER" serve --addr "127.0.0.1:$p" --data "$OUT/data" --log-level warn \
		--client-rate 0 --ip-rate 0 2>"$OUT/server.log" &
	PID=$!
	PIDS+=("$PID")
	for _ in $(seq 600); do
		curl -sf "$URL/readyz" >/dev/null && return
		sleep 0.2
	done
	cat "$OUT/server.log"
	exit 1
}

send() { "$OUT/sendevents" -url "$URL" -chats "$OUT/chats.txt" "$@"; }

case "${1:-}" in
serve)
	N=${2:-8000}
	GODEBUG=asyncpreemptoff=1 start valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.%p"
	send -n 300 -prefix warm >/dev/null
	callgrind_control -z "$PID" >/dev/null 2>&1
	send -n "$N" -prefix m
	callgrind_control -d "$PID" >/dev/null 2>&1
	IR=$(sed -n 's/^summary: //p' "$OUT/callgrind.$PID.1")
	echo "instructions: $IR for $N requests, $((IR / N)) per request"
	;;
syscalls)
	N=${2:-20000}
	start
	send -n 2000 -prefix warm >/dev/null
	EVENTS=task-clock,syscalls:sys_enter_pwrite64,syscalls:sys_enter_pread64,syscalls:sys_enter_fsync
	perf stat -x, -o "$OUT/perf.txt" -e "$EVENTS" -p "$PID" &
	PERF=$!
	sleep 0.3
	send -n "$N" -prefix m
	kill -INT "$PERF"
	wait "$PERF" || true
	awk -F, -v n="$N" '$3 != "" { if ($3 == "task-clock") printf "cpu: %.1f µs per request\n", $1 * 1000 / n;
		else printf "%s: %.2f per request\n", $3, $1 / n }' "$OUT/perf.txt"
	;;
bench)
	PKG=$2 BENCH=$3 N1=${4:-4000} N2=${5:-16000}
	go test -c -o "$OUT/bench.test" "$PKG"
	ir() {
		(cd "$OUT" && GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file="$OUT/bench.%p" \
			./bench.test -test.run='^$' -test.bench="$BENCH" -test.benchtime="${1}x" 2>&1 >/dev/null |
			sed -n 's/.*Collected : //p')
	}
	A=$(ir "$N1")
	B=$(ir "$N2")
	echo "$BENCH: $(((B - A) / (N2 - N1))) instructions per iteration ($A at ${N1}x, $B at ${N2}x)"
	;;
*)
	sed -n '2,25p' "$0"
	exit 2
	;;
esac
