#!/usr/bin/env bash
# Issue 20's store benchmark, with wrk (a load client no one here wrote): allowed
# `POST /v1/actions` (each action and its audit events committed and fsynced before the
# answer) beside `GET /healthz` on the same server, in one run, the load client sharing
# the machine. Loopback only.
#   bash bench/submit.sh                       # SQLite, 32 connections, 10 s each
#   CONNECTIONS=64 DURATION=20 bash bench/submit.sh
#   HOLDPOINT_BIN=PATH bash bench/submit.sh    # another build of the gateway
#   PROFILE=1 bash bench/submit.sh             # also `perf record -g` of the gateway during
#                                              # the submit run (perf.data in the data folder)
#   PROFILE=dwarf bash bench/submit.sh         # the same with DWARF call graphs (deep stacks
#                                              # without frame pointers; larger perf.data)
set -euo pipefail
cd "$(dirname "$0")/.."
CONNECTIONS=${CONNECTIONS:-32}
DURATION=${DURATION:-10}
THREADS=${THREADS:-2}
command -v wrk > /dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
if [ -z "${HOLDPOINT_BIN:-}" ]; then
  echo "== building (release)"
  cargo build --release -p holdpoint 2>&1 | tail -n 1
fi
H=${HOLDPOINT_BIN:-$PWD/target/release/holdpoint}
PORT=${HOLDPOINT_BENCH_PORT:-18480}
URL="http://127.0.0.1:$PORT"
DATA=$(mktemp -d ${BENCH_TMP:+-p "$BENCH_TMP"})
SERVER=""
trap 'kill $SERVER 2>/dev/null || true; [ -z "${KEEP:-}" ] && rm -rf "$DATA"' EXIT
cat > "$DATA/holdpoint.toml" <<TOML
[limits]
requests_per_second = 1000000
request_burst = 1000000
connections = 20000
TOML
HOLDPOINT_LOG=warn "$H" serve --config "$DATA/holdpoint.toml" --data "$DATA" --listen "127.0.0.1:$PORT" > "$DATA/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -sf "$URL/healthz" > /dev/null && break; sleep 0.1; done
ADMIN=$(cat "$DATA/admin.token")
export HOLDPOINT_BENCH_TOKEN
HOLDPOINT_BENCH_TOKEN=$(HOLDPOINT_URL=$URL HOLDPOINT_TOKEN=$ADMIN "$H" token create --name bench-agent --kind agent 2>/dev/null)
check=$(curl -s -X POST "$URL/v1/actions" -H "Authorization: Bearer $HOLDPOINT_BENCH_TOKEN" \
  -H 'content-type: application/json' \
  -d '{"kind":"db.read","resource":"postgres/prod/customers","environment":"prod","params":{},"justification":"check"}')
case $check in *'"status":"allowed"'*) ;; *) echo "the bench action is not allowed: $check" >&2; exit 1 ;; esac

echo "== wrk, $THREADS threads, $CONNECTIONS connections, ${DURATION}s each"
wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "$URL/healthz" > /dev/null   # warm-up
echo "-- GET /healthz"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$URL/healthz" | grep -E "Requests/sec|50%|99%"
echo "-- POST /v1/actions (allowed, durable)"
if [ -n "${PROFILE:-}" ]; then
  if [ "$PROFILE" = dwarf ]; then GRAPH=(--call-graph dwarf,16384 -F 99); else GRAPH=(-g -F 499); fi
  perf record "${GRAPH[@]}" -p "$SERVER" -o "$DATA/perf.data" -- sleep "$DURATION" > /dev/null 2>&1 &
  PERF=$!
fi
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s bench/submit.lua "$URL" | grep -E "Requests/sec|50%|99%|^requests"
if [ -n "${PROFILE:-}" ]; then
  wait "$PERF" || true
  echo "perf data: $DATA/perf.data (kept)"
  KEEP=1
fi
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
echo "-- audit chain after the run"
"$H" audit verify --data "$DATA" | tail -n 1
