#!/usr/bin/env bash
# Auto-assignment rules: the standard dataset (100,000 users) on a fresh database, a release
# server on it, then rules saved over all users and 100 rules re-run for one user.
#   bash bench/rules.sh             on SQLite
#   bash bench/rules.sh postgres    on a PostgreSQL server started by pg_virtualenv
#   bash bench/rules.sh limits      on SQLite, the heaviest rules the save-time bounds accept
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
(cd bench && CARGO_TARGET_DIR=../target/bench cargo build --release -q)
if [ "${1:-sqlite}" = postgres ]; then
  # The dataset is written into the fresh server each time (about five minutes).
  exec pg_virtualenv bash -c '
    set -euo pipefail
    URL="postgres://${PGUSER}:${PGPASSWORD}@${PGHOST:-localhost}:${PGPORT:-5432}/${PGDATABASE:-postgres}"
    target/bench/release/cohort-bench load "$URL"
    target/release/cohort serve --database-url "$URL" --listen 127.0.0.1:18105 > /dev/null 2>&1 &
    SERVER=$!
    trap "kill $SERVER 2>/dev/null || true" EXIT
    for _ in $(seq 1 600); do curl -sf http://127.0.0.1:18105/healthz >/dev/null && break; sleep 0.1; done
    if [ "${1:-}" = limits ]; then
  target/bench/release/cohort-bench rules-limits http://127.0.0.1:18105
else
  target/bench/release/cohort-bench rules http://127.0.0.1:18105
fi
  '
fi
DIR=$(mktemp -d)
# The dataset takes minutes to write: it is kept in target/bench/data and copied for each run.
if [ ! -f target/bench/data/standard.db ]; then
  mkdir -p target/bench/data
  target/bench/release/cohort-bench load "sqlite://$PWD/target/bench/data/standard.db"
fi
cp target/bench/data/standard.db "$DIR/cohort.db"
if [ -f target/bench/data/standard.db-wal ]; then cp target/bench/data/standard.db-wal "$DIR/cohort.db-wal"; fi
target/release/cohort serve --database-url "sqlite://$DIR/cohort.db" --listen 127.0.0.1:18105 > "$DIR/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DIR"' EXIT
for _ in $(seq 1 300); do curl -sf http://127.0.0.1:18105/healthz >/dev/null && break; sleep 0.1; done
if [ "${1:-}" = limits ]; then
  target/bench/release/cohort-bench rules-limits http://127.0.0.1:18105
else
  target/bench/release/cohort-bench rules http://127.0.0.1:18105
fi
