#!/usr/bin/env bash
# Runs the PyPI scim2-tester suite against a real `cohort serve` on the database URL given
# (a fresh one), installing the tester into target/scim-venv first. Fails on any check at
# ERROR or CRITICAL, and when the tester cannot be installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATABASE_URL=$1
VENV=target/scim-venv
if ! "$VENV/bin/python" -c "import scim2_tester, httpx2" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "scim2-tester[httpx2]==0.5.2"
fi
cargo build --locked --quiet -p cohort
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ADMIN=cohort_scim_conformance_admin_token_0123456789
LOG=$(mktemp)
COHORT_BOOTSTRAP_TOKEN=$ADMIN target/debug/cohort serve --database-url "$DATABASE_URL" \
  --listen "127.0.0.1:$PORT" > "$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -f "$LOG"' EXIT
if ! "$VENV/bin/python" tests/scim/conformance.py "http://127.0.0.1:$PORT" "$ADMIN"; then
  echo "--- server log" >&2; tail -50 "$LOG" >&2
  exit 1
fi
