#!/usr/bin/env bash
# /check's throughput as a share of /healthz's, on one release server, measured the same way
# each time: `wrk -t2 -c64` for DURATION (5 s), five runs per endpoint alternating /healthz and
# /check, the median of each; the ratio is check/healthz.
#
#   small     a tenant of one group, one member, one resource granted `edit` through the
#             group (and a role giving `docs:read`): the same check over and over
#   standard  the standard dataset (100,000 users): pseudo-random users against random
#             permissions (bench/check.lua, mostly denials) and random resources and levels
#             (bench/check_level.lua)
#
#   bash bench/ratio.sh                  both
#   bash bench/ratio.sh small            only the small tenant
#
# The server runs on core 0 and wrk on core 1 (`taskset`), so that the two do not take turns
# on the same core; set PIN=0 to leave placement to the kernel. COHORT_BIN=path measures another
# build (an older commit's, for a before-and-after). Needs wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "ratio.sh: wrk is required (apt-get install wrk)" >&2; exit 1; }
WHICH=${1:-all}
DURATION=${DURATION:-5s}
RUNS=${RUNS:-5}
PORT=18095
TOKEN=cohort_benchmark_admin_token_0123456789
if [ "${PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ]; then
  SERVER_CPU=(taskset -c 0)
  WRK_CPU=(taskset -c 1)
else
  SERVER_CPU=()
  WRK_CPU=()
fi
if [ -n "${COHORT_BIN:-}" ]; then BIN=$COHORT_BIN; else cargo build --release -q; BIN=target/release/cohort; fi
DIR=$(mktemp -d)
SERVER=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; rm -rf "$DIR"' EXIT

start() {
  COHORT_BOOTSTRAP_TOKEN=$TOKEN "${SERVER_CPU[@]}" "$BIN" serve \
    --database-url "sqlite://$1" --listen "127.0.0.1:$PORT" > "$DIR/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && return; sleep 0.1; done
  echo "ratio.sh: the server did not start" >&2
  cat "$DIR/server.log" >&2
  exit 1
}

stop() {
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  SERVER=
}

# Requests per second of one wrk run; the rest of the call is passed to wrk.
rps() {
  "${WRK_CPU[@]}" wrk -t2 -c64 -d"$DURATION" --latency "$@" > "$DIR/wrk.out"
  if grep -q 'Non-2xx' "$DIR/wrk.out"; then
    echo "ratio.sh: some answers were errors:" >&2
    cat "$DIR/wrk.out" >&2
    exit 1
  fi
  awk '/Requests\/sec/ { print $2 }' "$DIR/wrk.out"
}

median() {
  tr ' ' '\n' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# Alternates /healthz and the check (wrk arguments after the label) RUNS times and prints the
# medians and their ratio.
compare() {
  local label=$1
  shift
  local health=() check=()
  for _ in $(seq 1 "$RUNS"); do
    health+=("$(rps "http://127.0.0.1:$PORT/healthz")")
    check+=("$(rps "$@")")
  done
  local h c
  h=$(echo "${health[*]}" | median)
  c=$(echo "${check[*]}" | median)
  printf '%-28s /healthz %9.0f req/s   /check %9.0f req/s   ratio %.2f   (runs: healthz %s; check %s)\n' \
    "$label" "$h" "$c" "$(awk -v c="$c" -v h="$h" 'BEGIN { print c / h }')" "${health[*]}" "${check[*]}"
}

api() {
  curl -sf -X "$1" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    "http://127.0.0.1:$PORT/t/default/api/v1$2" ${3:+-d "$3"}
}
field() {
  python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# A wrk script that posts one fixed body.
fixed() {
  printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer %s"\nwrk.body = [[%s]]\n' \
    "$TOKEN" "$1" > "$2"
}

if [ "$WHICH" = all ] || [ "$WHICH" = small ]; then
  start "$DIR/small.db"
  user=$(api POST /users '{"email":"ann@example.com","displayName":"Ann"}' | field id)
  role=$(api POST /roles '{"name":"Reader","permissions":["docs:read"]}' | field id)
  group=$(api POST /groups '{"name":"Support"}' | field id)
  api POST "/groups/$group/members" "{\"userId\":\"$user\"}" > /dev/null
  api POST "/groups/$group/roles" "{\"roleId\":\"$role\"}" > /dev/null
  api POST /resource-types '{"name":"doc","levels":["view","edit"]}' > /dev/null
  doc=$(api POST /resources '{"type":"doc","name":"Handbook"}' | field id)
  api POST "/groups/$group/grants" "{\"resourceId\":\"$doc\",\"level\":\"edit\"}" > /dev/null
  fixed "{\"userId\":\"$user\",\"resourceId\":\"$doc\",\"level\":\"edit\"}" "$DIR/level.lua"
  fixed "{\"userId\":\"$user\",\"permission\":\"docs:read\"}" "$DIR/permission.lua"
  echo "small tenant, the level check answers: $(api POST /check "{\"userId\":\"$user\",\"resourceId\":\"$doc\",\"level\":\"edit\"}")"
  compare "small, level check" -s "$DIR/level.lua" "http://127.0.0.1:$PORT/t/default/api/v1/check"
  compare "small, permission check" -s "$DIR/permission.lua" "http://127.0.0.1:$PORT/t/default/api/v1/check"
  stop
fi

if [ "$WHICH" = all ] || [ "$WHICH" = standard ]; then
  (cd bench && CARGO_TARGET_DIR=../target/bench cargo build --release -q)
  # The dataset takes minutes to write: it is kept in target/bench/data and copied for each run.
  if [ ! -f target/bench/data/standard.db ]; then
    mkdir -p target/bench/data
    target/bench/release/cohort-bench load "sqlite://$PWD/target/bench/data/standard.db"
  fi
  cp target/bench/data/standard.db "$DIR/standard.db"
  if [ -f target/bench/data/standard.db-wal ]; then cp target/bench/data/standard.db-wal "$DIR/standard.db-wal"; fi
  start "$DIR/standard.db"
  compare "standard, permission checks" -s bench/check.lua "http://127.0.0.1:$PORT/t/default/api/v1/check"
  compare "standard, level checks" -s bench/check_level.lua "http://127.0.0.1:$PORT/t/default/api/v1/check"
  stop
fi
