#!/usr/bin/env bash
# Runs the PyPI schemathesis fuzzer against a real `cohort serve` on the database URL given (a
# fresh one), once per role: admin, group-admin, auditor and a plain user. Every response must
# conform to the served /openapi.json (status codes, content types, bodies), no request may
# get a server error, and no operation may ignore authentication. Installs schemathesis into
# target/schemathesis-venv first; fails when it cannot.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATABASE_URL=$1
VENV=target/schemathesis-venv
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "4.32.5"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "schemathesis==4.32.5"
fi
cargo build --locked --quiet -p cohort
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
ADMIN=cohort_schemathesis_admin_token_0123456789
WORK=$(mktemp -d)
COHORT_BOOTSTRAP_TOKEN=$ADMIN target/debug/cohort serve --database-url "$DATABASE_URL" \
  --listen "127.0.0.1:$PORT" > "$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
python3 - "$BASE" <<'PY'
import sys, time, urllib.request
for _ in range(600):
    try:
        urllib.request.urlopen(sys.argv[1] + "/healthz", timeout=1)
        break
    except OSError:
        time.sleep(0.1)
PY
# One user per role, each with a token of its own.
"$VENV/bin/python" tests/schemathesis/actors.py "$BASE" "$ADMIN" > "$WORK/tokens"
printf '[parameters]\n"path.tenant" = "default"\n' > "$WORK/schemathesis.toml"
status=0
while read -r role token; do
  # SCHEMATHESIS_ROLES (space separated) runs only those roles: the second backend's run
  # checks the admin's answers only, the roles' refusals being the same code on both.
  if [ -n "${SCHEMATHESIS_ROLES:-}" ] && [[ " $SCHEMATHESIS_ROLES " != *" $role "* ]]; then continue; fi
  echo "-- schemathesis as $role"
  # Regenerating or revoking a token would end the run's own credential; the Rust tests cover
  # both operations.
  if ! (cd "$WORK" && "$OLDPWD/$VENV/bin/schemathesis" run "$BASE/openapi.json" \
      -H "Authorization: Bearer $token" \
      --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,ignored_auth \
      --phases examples,fuzzing --max-examples 25 --workers 2 --seed 20261203 \
      --exclude-path-regex '/tokens/\{tokenId\}' \
      --generation-database none --no-color > "$WORK/$role.txt" 2>&1); then
    status=1
    cat "$WORK/$role.txt"
  fi
  sed -n '/Test cases:/,/^Seed/p' "$WORK/$role.txt" | sed -n '2p' | sed "s/^ */   $role: /"
done < "$WORK/tokens"
if [ $status -ne 0 ]; then
  echo "--- server log" >&2; tail -50 "$WORK/server.log" >&2
fi
exit $status
