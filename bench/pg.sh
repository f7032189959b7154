#!/usr/bin/env bash
# The PostgreSQL proxy against a direct connection and pgbouncer, in one run: pgbench
# at 8 clients, select-only (-S) and the default TPC-B-like mix, each for DURATION
# seconds, in turn:
#   direct      PostgreSQL on 127.0.0.1:5432
#   pgbouncer   session pooling (from apt), relaying only
#   holdpoint   the [[postgres]] listener with the starter policies: every statement
#               parsed by pg_query, judged by Cedar, summarised in the audit log
# Clients reach every one over loopback TCP. The two proxies each reach PostgreSQL over
# loopback TCP, and again (`…-unix`) over its Unix-domain socket, as a proxy on the
# database's host would.
#   bash bench/pg.sh                 # 30 s per figure
#   DURATION=10 SCALE=8 bash bench/pg.sh
#   ROUNDS=3 DURATION=5 bash bench/pg.sh   # every figure 3 times, interleaved; medians
#   HOLDPOINT_BIN=/path/to/holdpoint bash bench/pg.sh   # a given build, not this tree's
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-30}
ROUNDS=${ROUNDS:-1}
SCALE=${SCALE:-8}
CLIENTS=${CLIENTS:-8}
DB=hp_bench_pg
SOCKET_DIR=${SOCKET_DIR:-$(psql -h 127.0.0.1 -U postgres -d test -Atc "SHOW unix_socket_directories" | cut -d, -f1)}
command -v pgbouncer > /dev/null || { apt-get update -qq && apt-get install -y -qq pgbouncer > /dev/null; }

if [ -n "${HOLDPOINT_BIN:-}" ]; then
  H=$HOLDPOINT_BIN # a binary built elsewhere (another commit, to compare)
else
  echo "== building (release)"
  cargo build --release -p holdpoint 2>&1 | tail -n 1
  H=$PWD/target/release/holdpoint
fi

WORK=$(mktemp -d)
chmod 755 "$WORK"
PIDS=()
cleanup() {
  kill "${PIDS[@]}" 2>/dev/null || true
  [ -f "$WORK/pgb/pgbouncer.pid" ] && kill "$(cat "$WORK/pgb/pgbouncer.pid")" 2>/dev/null || true
  psql -h 127.0.0.1 -U postgres -d test -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" > /dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== pgbench -i -s $SCALE"
psql -h 127.0.0.1 -U postgres -d test -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" > /dev/null
pgbench -i -q -s "$SCALE" -h 127.0.0.1 -U postgres "$DB" 2>&1 | tail -n 1

# pgbouncer, session mode, trusting local logins as PostgreSQL here does.
cat > "$WORK/pgbouncer.ini" <<INI
[databases]
$DB = host=127.0.0.1 port=5432 dbname=$DB
${DB}_unix = host=$SOCKET_DIR port=5432 dbname=$DB
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = 16433
auth_type = trust
auth_file = $WORK/users.txt
pool_mode = session
max_client_conn = 100
default_pool_size = 20
logfile = $WORK/pgb/pgbouncer.log
pidfile = $WORK/pgb/pgbouncer.pid
INI
echo '"postgres" ""' > "$WORK/users.txt"
chmod 644 "$WORK"/*
mkdir -p "$WORK/pgb" && chown postgres "$WORK/pgb"
runuser -u postgres -- pgbouncer -d "$WORK/pgbouncer.ini"
for _ in $(seq 1 50); do pg_isready -q -h 127.0.0.1 -p 16433 && break; sleep 0.1; done

# holdpoint, named `bench` in environment `staging`: reads and writes pass.
cat > "$WORK/holdpoint.toml" <<TOML
[server]
listen = "127.0.0.1:18480"
[[postgres]]
name = "bench"
listen = "127.0.0.1:16434"
upstream_env = "BENCH_DATABASE_URL"
environment = "staging"
[[postgres]]
name = "bench-unix"
listen = "127.0.0.1:16435"
upstream_env = "BENCH_UNIX_DATABASE_URL"
environment = "staging"
TOML
BENCH_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB" HOLDPOINT_LOG=warn \
  BENCH_UNIX_DATABASE_URL="postgres://postgres@localhost/$DB?host=$SOCKET_DIR&port=5432" \
  "$H" serve --config "$WORK/holdpoint.toml" --data "$WORK/data" > "$WORK/serve.log" 2>&1 &
PIDS+=($!)
HPID=$!
# The gateway's CPU time (user + system) so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$HPID/stat"; }
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18480/healthz > /dev/null && break; sleep 0.1; done
TOKEN=$(HOLDPOINT_URL=http://127.0.0.1:18480 HOLDPOINT_TOKEN=$(cat "$WORK/data/admin.token") "$H" token create --name bench --kind agent 2>/dev/null)

run() { # label, port, user, password, database, pgbench args...
  local label=$1 port=$2 user=$3 password=$4 db=$5; shift 5
  local out before
  before=$(cpu_ticks)
  out=$(PGPASSWORD=$password PGSSLMODE=disable pgbench -n -c "$CLIENTS" -j 2 -T "$DURATION" -h 127.0.0.1 -p "$port" -U "$user" "$@" "$db" 2>&1) || { echo "$label $*: pgbench failed"; echo "$out" | tail -n 5; return 1; }
  local tps lat
  tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p')
  lat=$(echo "$out" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
  local cpu=""
  if [ "${label#holdpoint}" != "$label" ]; then # the gateway's CPU per transaction, however busy the machine
    cpu=$(awk -v t="$(( $(cpu_ticks) - before ))" -v hz="$(getconf CLK_TCK)" -v tps="$tps" -v d="$DURATION" \
      'BEGIN { printf "  gateway CPU %.1f us/transaction", t / hz * 1e6 / (tps * d) }')
  fi
  printf "%-15s %-26s %10s tps %8s ms%s\n" "$label" "$*" "$tps" "$lat" "$cpu"
  echo "$tps" >> "$WORK/tps.$label.$(echo "$*" | tr -c 'a-zA-Z0-9' _)"
}

echo "== pgbench -c $CLIENTS -T $DURATION, $ROUNDS round(s)"
for round in $(seq 1 "$ROUNDS"); do
[ "$ROUNDS" -gt 1 ] && echo "-- round $round"
for mode in "-S" "-S -M prepared" "-M simple"; do
  # shellcheck disable=SC2086
  run direct 5432 postgres "" "$DB" $mode
  # shellcheck disable=SC2086
  run pgbouncer 16433 postgres "" "$DB" $mode
  # shellcheck disable=SC2086
  run holdpoint 16434 bench "$TOKEN" "$DB" $mode
  # shellcheck disable=SC2086
  run pgbouncer-unix 16433 postgres "" "${DB}_unix" $mode
  # shellcheck disable=SC2086
  run holdpoint-unix 16435 bench "$TOKEN" "$DB" $mode
done
done
echo "== ratios to direct (medians of $ROUNDS round(s))"
for mode in "-S" "-S -M prepared" "-M simple"; do
  key=$(echo "$mode" | tr -c 'a-zA-Z0-9' _)
  t() { sort -g "$WORK/tps.$1.$key" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
  awk -v m="$mode" -v d="$(t direct)" -v b="$(t pgbouncer)" -v h="$(t holdpoint)" \
    -v bu="$(t pgbouncer-unix)" -v hu="$(t holdpoint-unix)" 'BEGIN {
      printf "%-18s upstream over TCP: pgbouncer %.2f x  holdpoint %.2f x (%.2f x pgbouncer)\n", m, b / d, h / d, h / b
      printf "%-18s over a Unix socket: pgbouncer %.2f x  holdpoint %.2f x (%.2f x pgbouncer)\n", "", bu / d, hu / d, hu / bu }'
done
