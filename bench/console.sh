#!/usr/bin/env bash
# The console at size: the groups list (first page and 5,000 groups in) and a 10,000-member
# group's members tab, each next to the REST list of the same page, against a release server
# on the standard dataset in SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
(cd bench && CARGO_TARGET_DIR=../target/bench cargo build --release -q)
DIR=$(mktemp -d)
# The dataset takes minutes to write: it is kept in target/bench/data and copied for each run.
if [ ! -f target/bench/data/standard.db ]; then
  mkdir -p target/bench/data
  target/bench/release/cohort-bench load "sqlite://$PWD/target/bench/data/standard.db"
fi
cp target/bench/data/standard.db "$DIR/cohort.db"
if [ -f target/bench/data/standard.db-wal ]; then cp target/bench/data/standard.db-wal "$DIR/cohort.db-wal"; fi
target/release/cohort serve --database-url "sqlite://$DIR/cohort.db" --listen 127.0.0.1:18106 > "$DIR/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DIR"' EXIT
for _ in $(seq 1 300); do curl -sf http://127.0.0.1:18106/healthz >/dev/null && break; sleep 0.1; done
target/bench/release/cohort-bench console http://127.0.0.1:18106
