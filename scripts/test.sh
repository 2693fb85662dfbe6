#!/usr/bin/env bash
# The whole test suite: formatting, lints, then every test on SQLite and again on PostgreSQL,
# both inside one real PostgreSQL 15 server that pg_virtualenv starts for the run (tests that
# are about PostgreSQL itself, such as two servers sharing one database, use it in both
# passes), then the PyPI scim2-tester suite and the PyPI schemathesis fuzzer (once per role)
# against a real server on each backend. Fails, never skips, when a needed part is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null || { echo "test.sh: \`$1\` is required but not installed" >&2; exit 1; }; }
need cargo
need cargo-nextest
need pg_virtualenv
need python3

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== build tests"
cargo nextest run --workspace --locked --no-run

pg_virtualenv sh -c '
  set -e
  export COHORT_TEST_PG_URL="postgres://${PGUSER}:${PGPASSWORD}@${PGHOST:-localhost}:${PGPORT:-5432}/${PGDATABASE:-postgres}"
  psql -qAtc "select 1" >/dev/null
  echo "== tests on SQLite"
  COHORT_TEST_BACKEND=sqlite cargo nextest run --workspace --locked --no-fail-fast
  echo "== tests on PostgreSQL"
  COHORT_TEST_BACKEND=postgres cargo nextest run --workspace --locked --no-fail-fast
  SCIM_DIR=$(mktemp -d)
  echo "== scim2-tester against a real server on SQLite"
  bash tests/scim/run.sh "sqlite://$SCIM_DIR/cohort.db"
  echo "== scim2-tester against a real server on PostgreSQL"
  createdb scim_conformance
  bash tests/scim/run.sh "postgres://${PGUSER}:${PGPASSWORD}@${PGHOST:-localhost}:${PGPORT:-5432}/scim_conformance"
  echo "== schemathesis against a real server on SQLite, per role"
  bash tests/schemathesis/run.sh "sqlite://$SCIM_DIR/schemathesis.db"
  echo "== schemathesis against a real server on PostgreSQL, per role"
  createdb schemathesis
  bash tests/schemathesis/run.sh "postgres://${PGUSER}:${PGPASSWORD}@${PGHOST:-localhost}:${PGPORT:-5432}/schemathesis"
  rm -rf "$SCIM_DIR"
'
echo "== all tests passed on SQLite and PostgreSQL"
