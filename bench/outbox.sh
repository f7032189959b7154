#!/usr/bin/env bash
# The outbox does not slow the gate, and how soon Slack hears of a hold (issue 8):
#   1. allowed and held submissions per second on a gateway with no channel, and on one
#      with Slack and two webhooks configured (stand-ins answering at once), alternately,
#      same client, same run;
#   2. the time from a hold's submission to its chat.postMessage at the Slack stand-in,
#      over 1,000 holds submitted one at a time.
#   bash bench/outbox.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "== building (release)"
cargo build --release -p holdpoint -p holdpoint-bench 2>&1 | tail -n 1
H=$PWD/target/release/holdpoint
B=$PWD/target/release/holdpoint-bench
PORT=${HOLDPOINT_BENCH_PORT:-18470}
STAND_IN=$((PORT + 5))
URL="http://127.0.0.1:$PORT"
PIDS=()
DATA=""
trap 'kill "${PIDS[@]}" 2>/dev/null || true; [ -n "$DATA" ] && rm -rf "$DATA"' EXIT

LIMITS='[limits]
requests_per_second = 1000000
request_burst = 1000000
pending_holds = 1000000
long_polls = 20000
connections = 20000'

CHANNELS="[slack]
channel = \"C_BENCH\"
api_url = \"http://127.0.0.1:$STAND_IN/api\"

[[webhooks]]
name = \"siem\"
url = \"http://127.0.0.1:$STAND_IN/hooks/siem\"
secret_env = \"BENCH_WEBHOOK_SECRET\"

[[webhooks]]
name = \"pager\"
url = \"http://127.0.0.1:$STAND_IN/hooks/pager\"
secret_env = \"BENCH_WEBHOOK_SECRET\""

# start CONFIG_TEXT: a gateway on a fresh data folder; sets DATA, SERVER, AGENT.
start() {
  DATA=$(mktemp -d)
  printf '%s\n' "$1" > "$DATA/holdpoint.toml"
  SLACK_BOT_TOKEN=xoxb-bench SLACK_SIGNING_SECRET=bench BENCH_WEBHOOK_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw \
    HOLDPOINT_LOG=warn "$H" serve --config "$DATA/holdpoint.toml" --data "$DATA" --listen "127.0.0.1:$PORT" > "$DATA/serve.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 100); do grep -q "listening" "$DATA/serve.log" 2>/dev/null && break; sleep 0.1; done
  AGENT=$(HOLDPOINT_URL=$URL HOLDPOINT_TOKEN=$(cat "$DATA/admin.token") "$H" token create --name bench-bot --kind agent 2>/dev/null)
}

stop() {
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; rm -rf "$DATA"; DATA=""
}

# The stand-in serves through the whole run.
"$B" slack-latency --port "$STAND_IN" --serve-secs 3600 &
PIDS+=($!)
sleep 0.5

echo "== submissions per second, 32 connections: no channel vs Slack + 2 webhooks (two rounds)"
for round in 1 2; do
  for setup in none channels; do
    if [ "$setup" = none ]; then start "$LIMITS"; else start "$LIMITS
$CHANNELS"; fi
    for target in submit hold; do
      printf -- "-- %-8s round %s: " "$setup" "$round"
      "$B" --url "$URL" throughput --token "$AGENT" --target "$target" --concurrency 32 --requests 20000
    done
    stop
  done
done

echo "== hold submitted → chat.postMessage at the stand-in, 1,000 holds one at a time"
kill "${PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null || true
PIDS=()
start "$LIMITS
$CHANNELS"
"$B" --url "$URL" slack-latency --port "$STAND_IN" --agent "$AGENT" --holds 1000
echo "-- deliveries left undelivered: $(curl -s -H "Authorization: Bearer $(cat "$DATA/admin.token")" "$URL/v1/deliveries?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["undelivered"])')"
stop
