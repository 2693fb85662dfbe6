#!/usr/bin/env bash
# The whole test suite: formatting, lints, then every test on SQLite and again on PostgreSQL,
# both inside one real PostgreSQL 15 server that pg_virtualenv starts for the run (tests that
# are about PostgreSQL itself, such as two servers sharing one database, use it in both
# passes), then the PyPI scim2-tester suite and the PyPI schemathesis fuzzer (once per role)
# against a real server on each backend. The console's browser tests drive Debian's Chromium
# (installed here when missing) and run npm's axe-core in its pages; the sign-in tests run npm's
# oidc-provider as the tenant's identity provider. Fails, never skips, when a
# needed part is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null || { echo "test.sh: \`$1\` is required but not installed" >&2; exit 1; }; }
need cargo
need cargo-nextest
need pg_virtualenv
need python3

echo "== browser tools: Debian chromium and chromium-driver, axe-core from npm; oidc-provider from npm"
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=; else need sudo; SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
need npm
need node
AXE=target/browser-tools/node_modules/axe-core/axe.min.js
OIDC=target/browser-tools/node_modules/oidc-provider/package.json
if [ ! -f "$AXE" ] || [ ! -f "$OIDC" ]; then
  mkdir -p target/browser-tools
  npm install --prefix target/browser-tools --no-audit --no-fund --silent \
    axe-core@4.14.1 oidc-provider@9.13.3 jose@6.2.19
fi
export COHORT_AXE_JS="$PWD/$AXE"
# The sign-in tests run a real OpenID provider (tests/oidc/provider.mjs) from these packages.
export COHORT_NODE_MODULES="$PWD/target/browser-tools/node_modules"

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== build tests"
cargo nextest run --workspace --locked --no-run
echo "== doc tests of the use cases (a read without the guard's proof does not build)"
cargo test --doc -p cohort-service --locked

# Run as root, pg_virtualenv makes its throw-away cluster as 15/regress in /etc/postgresql and
# refuses to start when one is there: a run that was killed leaves it behind. Drop only a cluster
# that pg_virtualenv marked as its own.
if [ "$(id -u)" = 0 ]; then
  for marker in /etc/postgresql/*/regress/.by_pg_virtualenv; do
    [ -f "$marker" ] || continue
    v=$(basename "$(dirname "$(dirname "$marker")")")
    echo "== dropping the throw-away cluster $v/regress that a killed run left behind"
    rm -f "$marker"
    pg_ctlcluster --mode immediate "$v" regress stop 2>/dev/null || true
    pg_dropcluster "$v" regress 2>/dev/null || true
    rm -rf "/etc/postgresql/$v/regress" "/var/lib/postgresql/$v/regress"
  done
fi

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
  echo "== schemathesis against a real server on PostgreSQL, as an admin"
  createdb schemathesis
  SCHEMATHESIS_ROLES=admin bash tests/schemathesis/run.sh "postgres://${PGUSER}:${PGPASSWORD}@${PGHOST:-localhost}:${PGPORT:-5432}/schemathesis"
  rm -rf "$SCIM_DIR"
'
echo "== all tests passed on SQLite and PostgreSQL"
