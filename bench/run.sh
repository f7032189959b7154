#!/usr/bin/env bash
# holdpoint's benchmarks, each beside its baseline in the same run. Loopback only.
#   bash bench/run.sh            # everything
# Prints one line per figure; see bench/README.md for what each means.
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

echo "== building (release)"
cargo build --release -p holdpoint -p holdpoint-bench 2>&1 | tail -n 1

echo "== Cedar evaluation per decision (holdpoint vs bare Cedar)"
cargo bench -p holdpoint-policy --bench evaluate 2>/dev/null | grep -v '^$'

PORT=${HOLDPOINT_BENCH_PORT:-18470}
URL="http://127.0.0.1:$PORT"
DATA=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
HOLDPOINT_LOG=warn ./target/release/holdpoint serve --data "$DATA" --listen "127.0.0.1:$PORT" > "$DATA/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do grep -q "listening" "$DATA/serve.log" 2>/dev/null && break; sleep 0.1; done
export HOLDPOINT_URL=$URL
ADMIN=$(cat "$DATA/admin.token")
AGENT=$(HOLDPOINT_TOKEN=$ADMIN ./target/release/holdpoint token create --name bench-bot --kind agent 2>/dev/null)
B=./target/release/holdpoint-bench

echo "== HTTP: GET /healthz (baseline) vs POST /v1/actions (allowed, durable in the audit log)"
$B --url "$URL" throughput --token "$AGENT" --target healthz --concurrency 32 --requests 5000 > /dev/null   # warm-up
$B --url "$URL" throughput --token "$AGENT" --target healthz --concurrency 32 --requests 50000
$B --url "$URL" throughput --token "$AGENT" --target submit --concurrency 32 --requests 50000
$B --url "$URL" throughput --token "$AGENT" --target submit --concurrency 64 --requests 50000

echo "== wake latency (1,000 holds, an agent long-polling each)"
$B --url "$URL" wake --agent "$AGENT" --reviewer "$ADMIN" --holds 1000

echo "== memory with 10,000 agents long-polling pending holds"
$B --url "$URL" waiters --agent "$AGENT" --count 10000 --pid "$SERVER"

echo "== audit chain after the run"
kill $SERVER; wait $SERVER 2>/dev/null || true
./target/release/holdpoint audit verify --data "$DATA"
