#!/usr/bin/env bash
# Profiles one messaging run (make profile): a server with --pprof-addr,
# parley loadgen's chat profile against it, and in the middle of the run
#
#   - a CPU profile of the server (cpu.pprof; with PROFILE_STORE, of each
#     node: cpu1.pprof, cpu2.pprof), its heap (heap*.pprof) and its
#     goroutines (goroutines*.txt: where requests wait);
#   - the load generator's own CPU profile (loadgen.pprof);
#   - the CPU time each process used over the same window, from
#     /proc/<pid>/stat, and the embedded store's writer metrics (commits
#     and writes per second, busy fraction): cpu.txt.
#
# Read them with `go tool pprof -top OUT/parley OUT/cpu.pprof`.
#
# Environment (defaults in brackets):
#   PROFILE_RATE      customer messages per second [2500]
#   PROFILE_CUSTOMERS customers [2000]; agents are one per 100
#   PROFILE_DURATION  measured time [40s]; the profiles take the 15 s
#                     after the first 20 s (the ramp-up is 10 s)
#   PROFILE_SERVER    a parley binary to profile instead of this tree's
#   PROFILE_STORE     a PostgreSQL URL: two nodes on a fresh schema of it
#                     and the NATS bus PROFILE_BUS, customers on node 1,
#                     agents on node 2 [embedded: one node, SQLite]
#   PROFILE_BUS       [nats://127.0.0.1:4222]
#   PROFILE_OUT       output directory [a new temporary directory]
set -euo pipefail

cd "$(dirname "$0")/.."
RATE=${PROFILE_RATE:-2500}
CUSTOMERS=${PROFILE_CUSTOMERS:-2000}
DURATION=${PROFILE_DURATION:-40s}
STORE=${PROFILE_STORE:-}
BUS=${PROFILE_BUS:-nats://127.0.0.1:4222}
OUT=${PROFILE_OUT:-$(mktemp -d /tmp/parley-profile.XXXXXX)}
WINDOW=15
mkdir -p "$OUT"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

go build -o "$OUT/parley" ./cmd/parley
SERVER=${PROFILE_SERVER:-$OUT/parley}
AGENTS=$(((CUSTOMERS + 99) / 100))
"$OUT/parley" loadgen --write-agents "$OUT/agents.yaml" --agents "$AGENTS"

PIDS=()
SCHEMA=""
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -z "$SCHEMA" ] || psql -q "$STORE" -c "SET client_min_messages = warning; DROP SCHEMA IF EXISTS $SCHEMA CASCADE" || true
}
trap cleanup EXIT

shared=()
if [ -n "$STORE" ]; then
	SCHEMA="profile_$$"
	psql -q "$STORE" -c "CREATE SCHEMA $SCHEMA"
	sep='?'
	case "$STORE" in *\?*) sep='&' ;; esac
	shared=(--store "$STORE${sep}search_path=$SCHEMA" --bus "$BUS")
fi

# node N starts node N on port 241N0 with pprof on 241N1.
node() {
	local n=$1
	"$SERVER" serve --addr "127.0.0.1:241${n}0" --pprof-addr "127.0.0.1:241${n}1" --data "$OUT/data$n" \
		--config "$OUT/agents.yaml" --log-level warn --ip-rate 0 "${shared[@]}" 2>"$OUT/server$n.log" &
	PIDS+=($!)
	for _ in $(seq 300); do
		curl -sf "http://127.0.0.1:241${n}0/readyz" >/dev/null && return
		sleep 0.1
	done
	echo "node $n did not start:"
	cat "$OUT/server$n.log"
	exit 1
}

NODES=(1)
[ -z "$STORE" ] || NODES=(1 2)
for n in "${NODES[@]}"; do node "$n"; done
SERVER_PIDS=("${PIDS[@]}")
AGENT_URL="http://127.0.0.1:241${NODES[-1]}0"

"$OUT/parley" loadgen --url http://127.0.0.1:24110 --agent-url "$AGENT_URL" --server-pid "${SERVER_PIDS[0]}" \
	--customers "$CUSTOMERS" --agents "$AGENTS" --rate "$RATE" --ramp 10s --duration "$DURATION" --every 10s \
	--typing=false --receipts=false --json "$OUT/report.json" --cpuprofile "$OUT/loadgen.pprof" >"$OUT/loadgen.txt" &
LOADGEN=$!
PIDS+=("$LOADGEN")
sleep 20

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
writer() { curl -s "http://127.0.0.1:24110/metrics" | grep '^parley_store_\(commits\|committed\|writer\)' || true; }
LG_PID=$LOADGEN
declare -A T0
for p in "${SERVER_PIDS[@]}" "$LG_PID"; do T0[$p]=$(ticks "$p"); done
writer >"$OUT/writer0.txt"
CURLS=()
for n in "${NODES[@]}"; do
	suffix=${STORE:+$n}
	curl -s "http://127.0.0.1:241${n}1/debug/pprof/profile?seconds=$WINDOW" >"$OUT/cpu$suffix.pprof" &
	CURLS+=($!)
done
sleep 3
for n in "${NODES[@]}"; do
	suffix=${STORE:+$n}
	curl -s "http://127.0.0.1:241${n}1/debug/pprof/goroutine?debug=1" >"$OUT/goroutines$suffix.txt"
done
wait "${CURLS[@]}"
writer >"$OUT/writer1.txt"
HZ=$(getconf CLK_TCK)
{
	i=1
	for p in "${SERVER_PIDS[@]}"; do
		echo "server node $i: $(awk -v a="${T0[$p]}" -v b="$(ticks "$p")" -v hz="$HZ" -v w="$WINDOW" 'BEGIN{printf "%.2f", (b-a)/hz/w}') cores"
		i=$((i + 1))
	done
	echo "load generator: $(awk -v a="${T0[$LG_PID]}" -v b="$(ticks "$LG_PID")" -v hz="$HZ" -v w="$WINDOW" 'BEGIN{printf "%.2f", (b-a)/hz/w}') cores"
	paste "$OUT/writer0.txt" "$OUT/writer1.txt" | awk -v w="$WINDOW" '{printf "%s: %.2f/s\n", $1, ($4 - $2) / w}'
} | tee "$OUT/cpu.txt"
for n in "${NODES[@]}"; do
	suffix=${STORE:+$n}
	curl -s "http://127.0.0.1:241${n}1/debug/pprof/heap" >"$OUT/heap$suffix.pprof"
done
wait "$LOADGEN"
tail -12 "$OUT/loadgen.txt"
echo "profiles in $OUT"
