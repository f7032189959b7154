#!/usr/bin/env bash
# holdpoint's benchmarks, each beside its baseline in the same run. Loopback only.
#   bash bench/run.sh                         # everything
#   HOLDPOINT_BASELINE=REV bash bench/run.sh  # also an earlier revision's gateway, side by side
#   HOLDPOINT_BASELINE_BIN=PATH bash bench/run.sh   # ... or an already built `holdpoint`
#   HOLDPOINT_BENCH_SKIP_CEDAR=1 ...          # without the Cedar micro-benchmark
# Prints one line per figure; see bench/README.md for what each means.
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

echo "== building (release)"
cargo build --release -p holdpoint -p holdpoint-bench 2>&1 | tail -n 1
B=./target/release/holdpoint-bench

BASELINE_BIN=${HOLDPOINT_BASELINE_BIN:-}
if [ -z "$BASELINE_BIN" ] && [ -n "${HOLDPOINT_BASELINE:-}" ]; then
  echo "== building the baseline ${HOLDPOINT_BASELINE} (release, in target/baseline)"
  rm -rf target/baseline-src
  git worktree add --force --detach target/baseline-src "$HOLDPOINT_BASELINE" > /dev/null
  (cd target/baseline-src && CARGO_TARGET_DIR=../baseline cargo build --release -p holdpoint 2>&1 | tail -n 1)
  git worktree remove --force target/baseline-src
  BASELINE_BIN=target/baseline/release/holdpoint
fi

if [ -z "${HOLDPOINT_BENCH_SKIP_CEDAR:-}" ]; then
  echo "== Cedar evaluation per decision (holdpoint vs bare Cedar)"
  cargo bench -p holdpoint-policy --bench evaluate 2>/dev/null | grep -v '^$'
fi

PORT=${HOLDPOINT_BENCH_PORT:-18470}
URL="http://127.0.0.1:$PORT"
export HOLDPOINT_URL=$URL
DATA=""
SERVER=""
trap 'kill $SERVER 2>/dev/null || true; [ -n "$DATA" ] && rm -rf "$DATA"' EXIT

# start BIN [CONFIG]: a gateway on a fresh data folder; sets DATA, SERVER, ADMIN, AGENT.
start() {
  DATA=$(mktemp -d)
  local config=()
  if [ -n "${2:-}" ]; then cp "$2" "$DATA/holdpoint.toml"; config=(--config "$DATA/holdpoint.toml"); fi
  HOLDPOINT_LOG=warn "$1" serve --data "$DATA" --listen "127.0.0.1:$PORT" "${config[@]}" > "$DATA/serve.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 100); do grep -q "listening" "$DATA/serve.log" 2>/dev/null && break; sleep 0.1; done
  ADMIN=$(cat "$DATA/admin.token")
  AGENT=$(HOLDPOINT_TOKEN=$ADMIN "$1" token create --name bench-bot --kind agent 2>/dev/null)
}

stop() {
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
}

# The limits stay on (every request goes through the rate, pending and long-poll checks),
# set high enough that one bench agent is never refused.
LIMITS=$(mktemp)
cat > "$LIMITS" <<'EOF'
[limits]
requests_per_second = 1000000
request_burst = 1000000
pending_holds = 20000
long_polls = 20000
connections = 20000
EOF

throughput() {
  $B --url "$URL" throughput --token "$AGENT" --target healthz --concurrency 32 --requests 5000 > /dev/null   # warm-up
  $B --url "$URL" throughput --token "$AGENT" --target "$1" --concurrency "$2" --requests 50000
}

if [ -n "$BASELINE_BIN" ]; then
  echo "== allowed actions: the baseline gateway ($BASELINE_BIN), then this one, same client"
  for round in 1 2; do
    start "$BASELINE_BIN" "$LIMITS"
    echo "-- baseline, round $round"
    throughput submit 32
    stop; rm -rf "$DATA"
    start ./target/release/holdpoint "$LIMITS"
    echo "-- this build, round $round"
    throughput submit 32
    stop; rm -rf "$DATA"
  done
fi

start ./target/release/holdpoint "$LIMITS"
echo "== HTTP: GET /healthz (baseline) vs POST /v1/actions (allowed, durable in the audit log)"
throughput healthz 32
throughput submit 32
throughput submit 64

echo "== wake latency (1,000 holds, an agent long-polling each; each answer hands over the approval)"
$B --url "$URL" wake --agent "$AGENT" --reviewer "$ADMIN" --holds 1000

echo "== memory with 10,000 agents long-polling pending holds"
$B --url "$URL" waiters --agent "$AGENT" --count 10000 --pid "$SERVER"

echo "== audit chain after the run"
stop
./target/release/holdpoint audit verify --data "$DATA"
rm -f "$LIMITS"
