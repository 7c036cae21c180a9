#!/usr/bin/env bash
# Parley's benchmark run (make bench): on this machine, in one run,
#
#   1. the ceiling: a plain net/http hello-world server (loadgen/hello)
#      under wrk;
#   2. Send Events under wrk with the same connections (a Lua script
#      posting messages, each with a new msg_id, to a set of chats): the
#      ratio to the ceiling;
#   3. memory per waiting customer: parley loadgen's waiting profile with
#      BENCH_WAITING customers holding long polls (each count on a fresh
#      server);
#   4. messaging: parley loadgen's chat profile, customers and agents
#      talking, at each rate of BENCH_RATES for BENCH_DURATION.
#
# Figures are printed as they come and summed up at the end, absolute and
# as ratios, with the machine's load average next to each (other work on
# the machine skews them: run it on a quiet machine). Everything goes to
# BENCH_OUT (default a new temporary directory): logs, loadgen reports
# (JSON), the summary.
#
# Environment (defaults in brackets):
#   BENCH_WAITING   waiting customers per memory run ["2000 20000"]; "" for none
#   BENCH_RATES     customer messages per second of the messaging runs;
#                   agents answer each, so the server accepts twice as
#                   many ["500 1000 1500 2000 2500"]; "" for none
#   BENCH_CUSTOMERS customers of the messaging runs [2000]
#   BENCH_DURATION  measured time of each messaging run [60s]
#   BENCH_WRK       wrk duration [15s]; BENCH_CONNS wrk connections [100]
#   BENCH_EXTRA     extra flags for parley loadgen's chat runs, e.g.
#                   "--typing=false --receipts=false" [none]
#   BENCH_SERVER    a parley binary to measure instead of this tree's (an
#                   older build, for before/after figures); the load
#                   generator is always this tree's
#   BENCH_STORE     a PostgreSQL URL: run every profile on two nodes
#                   sharing it (a fresh schema per run) and BENCH_BUS
#                   [embedded: one node, SQLite]; customers use node 1,
#                   agents node 2, so every message crosses the bus
#   BENCH_BUS       the NATS URL of the two nodes [nats://127.0.0.1:4222]
set -euo pipefail

cd "$(dirname "$0")/.."
WAITING=${BENCH_WAITING-"2000 20000"}
RATES=${BENCH_RATES-"500 1000 1500 2000 2500"}
CUSTOMERS=${BENCH_CUSTOMERS:-2000}
DURATION=${BENCH_DURATION:-60s}
WRK_TIME=${BENCH_WRK:-15s}
CONNS=${BENCH_CONNS:-100}
EXTRA=${BENCH_EXTRA:-}
STORE=${BENCH_STORE:-}
BUS=${BENCH_BUS:-nats://127.0.0.1:4222}
OUT=${BENCH_OUT:-$(mktemp -d /tmp/parley-bench.XXXXXX)}
mkdir -p "$OUT"
SUMMARY="$OUT/summary.txt"
: >"$SUMMARY"

say() { echo "== $*" | tee -a "$SUMMARY"; }
load() { cut -d' ' -f1 /proc/loadavg; }
need() {
	command -v "$1" >/dev/null && return
	echo "installing $1 (Debian package)"
	apt-get install -y "$1" >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y "$1" >/dev/null; }
}

# Open files: a waiting customer is a connection on each side. The hard
# limit is as far as a process may go; the load generator spreads its
# connections over processes when one is not enough.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
FDS=$(ulimit -n)

need wrk
need jq
need curl
[ -z "$STORE" ] || need postgresql-client

echo "building into $OUT"
go build -o "$OUT/parley" ./cmd/parley
go build -o "$OUT/hello" ./loadgen/hello
SERVER=${BENCH_SERVER:-$OUT/parley}
# Servers from before the rate limits have no flags to lift them.
NOLIMIT_IP="--ip-rate 0"
NOLIMIT="--client-rate 0 --ip-rate 0"
# (The help is read whole first: grep -q stops reading at the first match,
# and a server then killed by SIGPIPE fails the pipeline under pipefail.)
SERVE_HELP=$("$SERVER" serve -h 2>&1 || true)
if ! grep -q -- -ip-rate <<<"$SERVE_HELP"; then
	NOLIMIT_IP="" NOLIMIT=""
fi

PIDS=()
SCHEMAS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for sc in "${SCHEMAS[@]}"; do psql -q "$STORE" -c "DROP SCHEMA IF EXISTS $sc CASCADE" 2>/dev/null || true; done
}
trap cleanup EXIT

# freeport prints a port nobody listens on, below the ephemeral range the
# load generator's connections take their ports from.
freeport() {
	local p
	while :; do
		p=$((20000 + RANDOM % 12000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}

# start_parley NAME [flags…] starts a server on a free port with a fresh
# data directory and load-generator agents, and sets URL and PID. With
# BENCH_STORE it starts two nodes on a fresh schema of that database and
# the bus: URL and PID are node 1's (customers, RSS), AGENT_URL node 2's.
start_parley() {
	local name=$1
	shift
	local dir="$OUT/$name"
	rm -rf "$dir" && mkdir -p "$dir"
	"$OUT/parley" loadgen --write-agents "$dir/agents.yaml" --agents "${AGENTS:-20}"
	local shared=()
	if [ -n "$STORE" ]; then
		local schema="bench_${name//-/_}_$$"
		psql -q "$STORE" -c "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema"
		SCHEMAS+=("$schema")
		local sep='?'
		case "$STORE" in *\?*) sep='&' ;; esac
		shared=(--store "$STORE${sep}search_path=$schema" --bus "$BUS")
	fi
	start_node "$dir/node1" "${shared[@]}" "$@"
	PID=$NODE_PID URL=$NODE_URL AGENT_URL=$NODE_URL NODE2_PID=""
	if [ -n "$STORE" ]; then
		start_node "$dir/node2" "${shared[@]}" "$@"
		NODE2_PID=$NODE_PID AGENT_URL=$NODE_URL
	fi
}

# start_node DIR [flags…] starts one node; sets NODE_URL and NODE_PID.
start_node() {
	local dir=$1
	shift
	mkdir -p "$dir"
	local port
	port=$(freeport)
	"$SERVER" serve --addr "127.0.0.1:$port" --data "$dir/data" --config "$dir/../agents.yaml" \
		--log-level warn "$@" 2>"$dir/server.log" &
	NODE_PID=$!
	PIDS+=("$NODE_PID")
	NODE_URL="http://127.0.0.1:$port"
	for _ in $(seq 300); do
		kill -0 "$NODE_PID" 2>/dev/null || break
		curl -sf "$NODE_URL/readyz" >/dev/null && return
		sleep 0.1
	done
	echo "parley did not start:"
	cat "$dir/server.log"
	exit 1
}

# stop PID stops a server started by start_parley (and its second node).
stop() {
	for p in "$1" ${NODE2_PID:-}; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

# wrk_rps FILE: requests per second of a wrk output.
wrk_rps() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1"; }

say "server: $("$SERVER" version | head -1)${BENCH_SERVER:+ ($BENCH_SERVER)}${STORE:+; two nodes on PostgreSQL and NATS ($BUS)}"
say "machine: $(nproc) CPUs ($(sed -n 's/^model name.*: //p' /proc/cpuinfo | head -1)), $(free -g | awk '/Mem:/{print $2}') GiB, $(go version | cut -d' ' -f3), open files $FDS"

# 1. The ceiling.
"$OUT/hello" -addr 127.0.0.1:0 >"$OUT/hello.out" 2>&1 &
HPID=$!
PIDS+=("$HPID")
for _ in $(seq 50); do grep -q listening "$OUT/hello.out" && break; sleep 0.1; done
HADDR=$(sed -n 's/listening on //p' "$OUT/hello.out")
L0=$(load)
wrk -t2 -c"$CONNS" -d"$WRK_TIME" "http://$HADDR/" >"$OUT/wrk-hello.txt"
HELLO=$(wrk_rps "$OUT/wrk-hello.txt")
stop "$HPID"
say "hello-world ceiling: $HELLO requests/s (wrk -t2 -c$CONNS -d$WRK_TIME; load $L0 → $(load))"

# 2. Send Events. Without rate limits: wrk is a few clients sending as
# fast as they can, which the defaults would refuse.
# shellcheck disable=SC2086
start_parley sendevents $NOLIMIT
B="$URL/clientweb/api/v2"
LUA="$OUT/send-events.lua"
{
	echo 'local chats = {'
	for i in $(seq 100); do
		id=$(curl -sf -X POST "$B/chats?tenantUrl=demo.parley.local" \
			-H "Authorization: MOBILE-API-140-327-PLAIN appId=demo-chat, clientId=wrk-$i" -d '{}' | jq -r .chat_id)
		echo "  {\"$id\", \"wrk-$i\"},"
	done
	echo '}'
	cat <<'LUA'
local n, thread = 0, 0
local counter = 0
function setup(t) counter = counter + 1; t:set("tid", counter) end
function init(args) thread = tid end
function request()
  n = n + 1
  local c = chats[(n % #chats) + 1]
  local body = '{"events":[{"event":"chat_session_message","msg_id":"wrk-' .. thread .. '-' .. n ..
    '","msg":"Hello, I have a question about my order; could you please check where it is?"}]}'
  return wrk.format("POST", "/clientweb/api/v2/chats/" .. c[1] .. "/events?tenantUrl=demo.parley.local",
    {["Authorization"] = "MOBILE-API-140-327-PLAIN appId=demo-chat, clientId=" .. c[2],
     ["Content-Type"] = "application/json; charset=utf-8"}, body)
end
function done(summary, latency, requests)
  io.write(string.format("non-2xx or errors: %d\n", summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
} >"$LUA"
L0=$(load)
wrk -t2 -c"$CONNS" -d"$WRK_TIME" --latency -s "$LUA" "$URL" >"$OUT/wrk-send-events.txt"
SEND=$(wrk_rps "$OUT/wrk-send-events.txt")
SEND_ERR=$(sed -n 's/^non-2xx or errors: //p' "$OUT/wrk-send-events.txt")
SEND_P99=$(awk '/Latency Distribution/{f=1} f && /99%/{print $2; exit}' "$OUT/wrk-send-events.txt")
stop "$PID"
RATIO=$(awk -v a="$SEND" -v b="$HELLO" 'BEGIN{printf "%.2f", a/b}')
say "Send Events: $SEND requests/s, p99 $SEND_P99, errors $SEND_ERR; ratio to the ceiling $RATIO (target ≥ 0.25; load $L0 → $(load))"

# 3. Memory per waiting customer.
for n in $WAITING; do
	if [ $((n + 200)) -gt "$FDS" ]; then
		m=$((FDS - 300))
		say "waiting $n: the open-files limit ($FDS) lets a process hold $m connections at most; running $m"
		n=$m
	fi
	# shellcheck disable=SC2086
	AGENTS=1 start_parley "waiting-$n" $NOLIMIT_IP
	L0=$(load)
	"$OUT/parley" loadgen --url "$URL" --server-pid "$PID" --profile waiting --customers "$n" \
		--ramp $((n / 400 + 5))s --duration 30s --every 10s --source-ips 4 \
		--json "$OUT/waiting-$n.json" | tee "$OUT/waiting-$n.txt"
	stop "$PID"
	say "waiting $n: $(jq -r '"\(.polls_held) polls held, server RSS \(.rss_end_kib / 1024 | floor) MiB (\(.rss_start_kib / 1024 | floor) MiB before), \(.rss_per_waiting_customer_kib * 10 | floor / 10) KiB per waiting customer (target ≤ 24), errors \(.error_count)"' "$OUT/waiting-$n.json") (load $L0 → $(load))"
done

# 4. Messaging at increasing rates.
AG=$(((CUSTOMERS + 99) / 100))
for r in $RATES; do
	# shellcheck disable=SC2086
	AGENTS=$AG start_parley "chat-$r" $NOLIMIT_IP
	L0=$(load)
	# shellcheck disable=SC2086
	"$OUT/parley" loadgen --url "$URL" --agent-url "$AGENT_URL" --server-pid "$PID" --customers "$CUSTOMERS" --agents "$AG" \
		--rate "$r" --ramp 10s --duration "$DURATION" --every 10s $EXTRA \
		--json "$OUT/chat-$r.json" | tee "$OUT/chat-$r.txt"
	stop "$PID"
	say "messaging at $r customer messages/s: $(jq -r '"\(.msgs_per_s | floor) messages/s accepted (target 5000), \(.requests_per_s | floor) requests/s; p99 customer→agent \(.latency_customer_to_agent.p99_ms) ms, agent→customer \(.latency_agent_to_customer.p99_ms) ms (target ≤ 50); errors \(.error_count); server RSS \(.rss_end_kib / 1024 | floor) MiB"' "$OUT/chat-$r.json") (load $L0 → $(load))"
done

echo
echo "summary ($SUMMARY):"
cat "$SUMMARY"
