#!/usr/bin/env bash
# Added latency per MCP `tools/call` (server-everything's `echo`) and `resources/read`, in one run, with a raw
# JSON-RPC client (holdpoint-bench):
#   direct         the npm server on stdio, no relay
#   holdpoint mcp  the stdio proxy, asking a running gateway about each call
#   mcp-proxy      PyPI's mcp-proxy: stdio server exposed over streamable HTTP, no policy
#   /mcp/{name}    the gateway hosting the same server over streamable HTTP
# Every call through holdpoint is a policy decision and an allowed action committed with
# its audit events (fsync) before it is forwarded.
#   bash bench/mcp.sh            # 10,000 calls each
#   CALLS=2000 bash bench/mcp.sh
#   HOLDPOINT_BIN=PATH bash bench/mcp.sh   # another build of the gateway (a baseline), same client
set -euo pipefail
cd "$(dirname "$0")/.."
CALLS=${CALLS:-10000}
EVERYTHING=tests/peers/node_modules/@modelcontextprotocol/server-everything/dist/index.js
[ -f "$EVERYTHING" ] || npm install --prefix tests/peers --cache tests/peers/.npm-cache --no-audit --no-fund --loglevel=error
[ -x tests/peers/venv/bin/mcp-proxy ] || { python3 -m venv tests/peers/venv && tests/peers/venv/bin/pip install --quiet -r tests/peers/requirements.txt; }

echo "== building (release)"
cargo build --release -p holdpoint -p holdpoint-bench 2>&1 | tail -n 1
H=${HOLDPOINT_BIN:-$PWD/target/release/holdpoint}
B=$PWD/target/release/holdpoint-bench

PORT=${HOLDPOINT_BENCH_PORT:-18470}
PROXY_PORT=$((PORT + 1))
URL="http://127.0.0.1:$PORT"
DATA=$(mktemp -d ${BENCH_TMP:+-p "$BENCH_TMP"})
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$DATA"' EXIT

cat > "$DATA/holdpoint.toml" <<TOML
[[mcp]]
name = "everything"
command = ["node", "$PWD/$EVERYTHING", "stdio"]

[limits]
requests_per_second = 1000000
request_burst = 1000000
TOML
HOLDPOINT_LOG=warn "$H" serve --config "$DATA/holdpoint.toml" --data "$DATA" --listen "127.0.0.1:$PORT" > "$DATA/serve.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do curl -sf "$URL/healthz" > /dev/null && break; sleep 0.1; done
ADMIN=$(cat "$DATA/admin.token")
AGENT=$(HOLDPOINT_URL=$URL HOLDPOINT_TOKEN=$ADMIN "$H" token create --name bench-agent --kind agent 2>/dev/null)

tests/peers/venv/bin/mcp-proxy --host 127.0.0.1 --port "$PROXY_PORT" --log-level WARNING -- node "$EVERYTHING" stdio > "$DATA/mcp-proxy.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PROXY_PORT/mcp" && break; sleep 0.1; done

for ASK in echo resource; do
case $ASK in
  echo) echo "== MCP tools/call of echo, $CALLS calls each (the first tenth more are warm-up)" ;;
  resource) echo "== MCP resources/read of a text resource, $CALLS calls each (an action since issue 19)" ;;
esac
"$B" mcp-stdio --ask "$ASK" --label "direct (stdio)" --calls "$CALLS" -- node "$EVERYTHING" stdio
HOLDPOINT_URL=$URL HOLDPOINT_TOKEN=$AGENT "$B" mcp-stdio --ask "$ASK" --label "holdpoint mcp (stdio)" --calls "$CALLS" -- "$H" mcp --name everything -- node "$EVERYTHING" stdio
"$B" mcp-http --ask "$ASK" --label "mcp-proxy, PyPI (HTTP)" --calls "$CALLS" --endpoint "http://127.0.0.1:$PROXY_PORT/mcp"
"$B" mcp-http --ask "$ASK" --label "holdpoint /mcp/everything (HTTP)" --calls "$CALLS" --endpoint "$URL/mcp/everything" --token "$AGENT"
done
