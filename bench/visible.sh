#!/usr/bin/env bash
# Write → visible on one server and across two servers sharing a PostgreSQL started by
# pg_virtualenv.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
(cd bench && CARGO_TARGET_DIR=../target/bench cargo build --release -q)
pg_virtualenv bash -c '
  set -euo pipefail
  URL="postgres://${PGUSER}:${PGPASSWORD}@${PGHOST:-localhost}:${PGPORT:-5432}/${PGDATABASE:-postgres}"
  export COHORT_BOOTSTRAP_TOKEN=cohort_benchmark_admin_token_0123456789
  target/release/cohort serve --database-url "$URL" --listen 127.0.0.1:18101 >/tmp/cohort-a.log 2>&1 &
  A=$!
  sleep 2
  target/release/cohort serve --database-url "$URL" --listen 127.0.0.1:18102 >/tmp/cohort-b.log 2>&1 &
  B=$!
  trap "kill $A $B" EXIT
  for p in 18101 18102; do for _ in $(seq 1 100); do curl -sf http://127.0.0.1:$p/healthz >/dev/null && break; sleep 0.1; done; done
  target/bench/release/cohort-bench visible http://127.0.0.1:18101 http://127.0.0.1:18102
'
