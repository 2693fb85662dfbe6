#!/usr/bin/env bash
# A 1,000-row CSV member import, previewed and confirmed, against a release server on a
# fresh SQLite database.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
(cd bench && CARGO_TARGET_DIR=../target/bench cargo build --release -q)
DIR=$(mktemp -d)
COHORT_BOOTSTRAP_TOKEN=cohort_benchmark_admin_token_0123456789 \
  target/release/cohort serve --database-url "sqlite://$DIR/cohort.db" --listen 127.0.0.1:18104 > "$DIR/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DIR"' EXIT
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18104/healthz >/dev/null && break; sleep 0.1; done
target/bench/release/cohort-bench import http://127.0.0.1:18104
