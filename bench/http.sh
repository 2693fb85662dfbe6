#!/usr/bin/env bash
# HTTP /check throughput and latency over loopback at concurrency 1, 8 and 64, next to the
# trivial /healthz of the same server in the same run, on the standard dataset in SQLite.
# Needs wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "http.sh: wrk is required (apt-get install wrk)" >&2; exit 1; }
cargo build --release -q
(cd bench && CARGO_TARGET_DIR=../target/bench cargo build --release -q)
DIR=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$DIR"' EXIT
if [ -n "${BENCH_SQLITE:-}" ]; then
  # Reuse a database `cohort-bench load` already wrote (it takes minutes to write).
  cp "$BENCH_SQLITE" "$DIR/cohort.db"
  [ -f "$BENCH_SQLITE-wal" ] && cp "$BENCH_SQLITE-wal" "$DIR/cohort.db-wal"
else
  target/bench/release/cohort-bench load "sqlite://$DIR/cohort.db"
fi
PORT=18090
target/release/cohort serve --database-url "sqlite://$DIR/cohort.db" --listen "127.0.0.1:$PORT" > "$DIR/server.log" 2>&1 &
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
DURATION=${DURATION:-10s}
for c in 1 8 64; do
  threads=$(( c < 2 ? 1 : 2 ))
  echo "== concurrency $c: /healthz"
  wrk -t$threads -c$c -d$DURATION --latency "http://127.0.0.1:$PORT/healthz" | grep -E 'Requests/sec|^ +50%|^ +99%'
  echo "== concurrency $c: POST /check"
  wrk -t$threads -c$c -d$DURATION --latency -s bench/check.lua "http://127.0.0.1:$PORT/t/default/api/v1/check" | grep -E 'Requests/sec|^ +50%|^ +99%|Non-2xx'
done
