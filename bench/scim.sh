#!/usr/bin/env bash
# SCIM at size on SQLite: PATCH of one member of a 10,000-member group, and listing 10,000
# groups with excludedAttributes=members, against a release server on a fresh database.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
(cd bench && CARGO_TARGET_DIR=../target/bench cargo build --release -q)
DIR=$(mktemp -d)
COHORT_BOOTSTRAP_TOKEN=cohort_benchmark_admin_token_0123456789 \
  target/release/cohort serve --database-url "sqlite://$DIR/cohort.db" --listen 127.0.0.1:18103 > "$DIR/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DIR"' EXIT
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18103/healthz >/dev/null && break; sleep 0.1; done
target/bench/release/cohort-bench scim http://127.0.0.1:18103
