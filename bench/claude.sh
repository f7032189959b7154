#!/usr/bin/env bash
# Added latency per allowed `ls` tool call through the real Claude Code CLI (tests/peers,
# pinned), in one run: no hook, the command hook as `holdpoint init --agent claude-code`
# writes it, and the HTTP hook (`POST /hooks/claude-code`). A local stand-in of the
# Messages API scripts 60 `ls` calls per configuration (the first 5 left out as warm-up)
# and times each call from its answer to Claude Code's next request; the gateway and the
# hook are the release build, the stand-in is the test harness (the same in all three).
# Claude Code reaches 127.0.0.1 only (see crates/holdpoint/tests/support/claude.rs).
#   bash bench/claude.sh
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== building (release)"
cargo build --release -p holdpoint 2>&1 | tail -n 1
HOLDPOINT_BENCH_BIN=$PWD/target/release/holdpoint \
  cargo test -p holdpoint --test claude_code -- --ignored --exact bench_claude_code_hooks --nocapture 2>&1 \
  | grep -E '^(no hook|command hook|HTTP hook) '
