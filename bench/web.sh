#!/usr/bin/env bash
# The web inbox, each figure beside its baseline in the same run:
#   1. GET /inbox (signed in through the sign-in form, session cookie) with 1,000 pending
#      holds, 200 to a page, beside GET /v1/actions?status=pending&limit=200 (JSON, bearer
#      token) for the same reviewer;
#   2. a review sent through the API → its `hold` event on the signed-in GET /events
#      stream, beside an agent long-polling GET /v1/actions/{id}?wait=30s on other holds.
# The event stream is read by a raw HTTP client standing in for a browser.
#   bash bench/web.sh
#   REQUESTS=100 DECISIONS=100 bash bench/web.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "== building (release)"
cargo build --release -p holdpoint -p holdpoint-bench 2>&1 | tail -n 1
H=$PWD/target/release/holdpoint
B=$PWD/target/release/holdpoint-bench
PORT=${HOLDPOINT_BENCH_PORT:-18470}
URL="http://127.0.0.1:$PORT"
HOLDS=${HOLDS:-1000}
REQUESTS=${REQUESTS:-200}
DECISIONS=${DECISIONS:-300}
DATA=$(mktemp -d)
SERVER=""
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT

# Schema changes are held for dba, for an hour (none lapses during the run). The limits
# stay on, set high enough that neither the agent nor the reviewer is ever refused.
mkdir "$DATA/policies"
cat > "$DATA/policies/ddl.cedar" <<'CEDAR'
@id("ddl") @hold("Schema change") @approvers("dba") @expires("1h")
permit (principal, action in Action::"db.ddl", resource);
CEDAR
cat > "$DATA/holdpoint.toml" <<'TOML'
[policy]
dir = "policies"

[limits]
requests_per_second = 1000000
request_burst = 1000000
pending_holds = 20000
long_polls = 20000
connections = 20000
TOML
HOLDPOINT_LOG=warn "$H" serve --config "$DATA/holdpoint.toml" --data "$DATA" --listen "127.0.0.1:$PORT" > "$DATA/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do grep -q "listening" "$DATA/serve.log" 2>/dev/null && break; sleep 0.1; done
grep -q "listening" "$DATA/serve.log" || { cat "$DATA/serve.log"; exit 1; }
ADMIN=$(cat "$DATA/admin.token")
AGENT=$(HOLDPOINT_URL=$URL HOLDPOINT_TOKEN=$ADMIN "$H" token create --name bench-bot --kind agent 2>/dev/null)
REVIEWER=$(HOLDPOINT_URL=$URL HOLDPOINT_TOKEN=$ADMIN "$H" token create --name bench-dba --kind user --group dba 2>/dev/null)

echo "== inbox with $HOLDS pending holds ($REQUESTS requests each, alternately) and decision → event ($DECISIONS holds each way)"
"$B" --url "$URL" web --agent "$AGENT" --reviewer "$REVIEWER" --holds "$HOLDS" --requests "$REQUESTS" --decisions "$DECISIONS"

echo "== audit chain after the run"
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
"$H" audit verify --data "$DATA"
