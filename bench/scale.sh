#!/usr/bin/env bash
# Cost as the data grows: the same server (this checkout's release build) on a database of
# BENCH_SMALL users (10,000) and one of BENCH_LARGE users (1,000,000), both made by
# `usergraph seed`, on PostgreSQL and on SQLite. Prints, and writes to bench/results/scale.md,
# how long seeding took and, per request, the p50 of BENCH_SAMPLES warm requests (after one
# unmeasured) at each size and their ratio.
# Usage: bench/scale.sh   (BENCH_BACKENDS="postgres sqlite", BENCH_LARGE, BENCH_SMALL, BENCH_SAMPLES)
# Everything it creates lives in bench/.work/scale/ and the PostgreSQL databases ug_scale_*.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
WORK=$BENCH_DIR/.work/scale
RESULTS=$BENCH_DIR/results/scale.md
SMALL=${BENCH_SMALL:-10000}
LARGE=${BENCH_LARGE:-1000000}
SAMPLES=${BENCH_SAMPLES:-5}
BACKENDS=${BENCH_BACKENDS:-postgres sqlite}
PG_SERVER=${BENCH_PG_SERVER:-postgres://postgres@127.0.0.1:5432}
TOKEN=glpat-usergraph-scale-0000000000
SECRET=usergraph-scale-secret-0123456789abcdefgh
UG_BIN=${BENCH_USERGRAPH_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/usergraph}

log() { printf '==> %s\n' "$*" >&2; }
mkdir -p "$WORK" "$BENCH_DIR/results"
if [[ ${BENCH_BUILD:-1} == 1 ]]; then
  log "building usergraph (release)"
  cargo build --release --locked --manifest-path "$ROOT/Cargo.toml" >&2
fi
[[ -x $UG_BIN ]] || { echo "no usergraph binary at $UG_BIN" >&2; exit 1; }

SERVER=
cleanup() { [[ -z $SERVER ]] || { kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true; }; }
trap cleanup EXIT

# url BACKEND SIZE: a fresh, empty database for SIZE users.
url() {
  case $1 in
    postgres)
      psql -q -v ON_ERROR_STOP=1 "$PG_SERVER/postgres" \
        -c "DROP DATABASE IF EXISTS ug_scale_$2 WITH (FORCE)" -c "CREATE DATABASE ug_scale_$2" >&2
      echo "$PG_SERVER/ug_scale_$2?sslmode=disable"
      ;;
    sqlite)
      rm -f "$WORK/scale_$2.db" "$WORK/scale_$2.db-wal" "$WORK/scale_$2.db-shm"
      echo "sqlite://$WORK/scale_$2.db?mode=rwc"
      ;;
  esac
}

env_of() { echo "USERGRAPH_SECRET=$SECRET USERGRAPH_ROOT_TOKEN=$TOKEN RUST_LOG=warn"; }

# p50 in milliseconds of SAMPLES runs of a request (after one unmeasured).
p50() {
  local method=$1 path=$2 body=${3:-} t=()
  local args=(-s -o /dev/null -w '%{time_total}\n' -H "PRIVATE-TOKEN: $TOKEN")
  [[ $method == POST ]] && args+=(-H 'Content-Type: application/json' --data "$body")
  curl "${args[@]}" "http://127.0.0.1:$PORT$path" >/dev/null
  for _ in $(seq "$SAMPLES"); do t+=("$(curl "${args[@]}" "http://127.0.0.1:$PORT$path")"); done
  printf '%s\n' "${t[@]}" | sort -n | awk -v n="$SAMPLES" 'NR == int((n + 1) / 2) { printf "%.1f", $1 * 1000 }'
}

# A request's status, to make sure each measured request is answered as meant.
status() {
  local method=$1 path=$2 body=${3:-}
  local args=(-s -o /dev/null -w '%{http_code}' -H "PRIVATE-TOKEN: $TOKEN")
  [[ $method == POST ]] && args+=(-H 'Content-Type: application/json' --data "$body")
  curl "${args[@]}" "http://127.0.0.1:$PORT$path"
}

gql() { printf '{"query":"%s"}' "$1"; }

declare -A FIG SEED
REQUESTS=(
  "GET /api/v4/users (page 1, 20)|GET|/api/v4/users?per_page=20"
  "GET /api/v4/users?search=<one user>|GET|/api/v4/users?search=@N@"
  "GET /api/v4/users?page=500&per_page=100|GET|/api/v4/users?page=500&per_page=100"
  "GET /api/v4/users, keyset, 100 after the middle id|GET|/api/v4/users?pagination=keyset&order_by=id&sort=asc&per_page=100&cursor=@CURSOR@"
  "GraphQL users(first: 20) { totalCount ... }|POST|/graphql|$(gql '{ users(first: 20) { totalCount nodes { id username } } }')"
  "GraphQL users(first: 20, filter: {search: <one user>})|POST|/graphql|$(gql '{ users(first: 20, filter: { search: \"@N@\" }) { nodes { id username } } }')"
  "GET /api/v4/users/<middle id>|GET|/api/v4/users/@HALF@"
  "GET /api/v4/users?username=<middle user>|GET|/api/v4/users?username=@NAME@"
)

for backend in $BACKENDS; do
  for size in $SMALL $LARGE; do
    db=$(url "$backend" "$size")
    data=$WORK/data-$backend-$size
    rm -rf "$data" && mkdir -p "$data"
    log "$backend: seeding $size users"
    out=$(env $(env_of) "$UG_BIN" seed --users "$size" --database-url "$db" --data-dir "$data" 2>&1 | tail -n 1)
    SEED[$backend,$size]=$(sed -n 's/.* in \([0-9.]*\) s\./\1/p' <<<"$out")
    log "$out"
    PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    env $(env_of) "$UG_BIN" --bind "127.0.0.1:$PORT" --database-url "$db" --data-dir "$data" >"$WORK/server.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
    half=$((size / 2 + 1))
    name=$(curl -s -H "PRIVATE-TOKEN: $TOKEN" "http://127.0.0.1:$PORT/api/v4/users/$half" |
      python3 -c 'import json, sys; print(json.load(sys.stdin)["username"])')
    n=$((size / 2 + 7))
    # The cursor of a keyset page that starts in the middle (what following `Link: rel="next"`
    # from the first page would reach after size/200 pages).
    cursor=$(python3 -c 'import base64, json, sys; h = int(sys.argv[1]); print(base64.urlsafe_b64encode(json.dumps({"o": "id", "d": "asc", "v": str(h), "id": h}, separators=(",", ":")).encode()).decode().rstrip("="))' "$half")
    for r in "${REQUESTS[@]}"; do
      IFS='|' read -r label method path body <<<"$r"
      path=${path//@N@/$n}; path=${path//@HALF@/$half}; path=${path//@NAME@/$name}; path=${path//@CURSOR@/$cursor}; body=${body//@N@/$n}
      code=$(status "$method" "$path" "$body")
      [[ $code == 200 ]] || { echo "$label: $code at $size users on $backend" >&2; exit 1; }
      FIG[$backend,$size,$label]=$(p50 "$method" "$path" "$body")
    done
    kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
  done
done

{
  echo "# Scale: $SMALL against $LARGE users"
  echo
  echo "- commit $(git -C "$ROOT" rev-parse --short HEAD), $(date -u +%Y-%m-%d), $(nproc) cores; p50 of $SAMPLES warm requests, milliseconds, one at a time"
  echo
  for backend in $BACKENDS; do
    echo "## $backend"
    echo
    echo "\`usergraph seed\`: $SMALL users in ${SEED[$backend,$SMALL]} s, $LARGE users in ${SEED[$backend,$LARGE]} s"
    echo
    echo "| request | $SMALL users | $LARGE users | ratio |"
    echo "|---|---:|---:|---:|"
    for r in "${REQUESTS[@]}"; do
      label=${r%%|*}
      a=${FIG[$backend,$SMALL,$label]} b=${FIG[$backend,$LARGE,$label]}
      echo "| $label | $a | $b | $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b / a }') |"
    done
    echo
  done
} | tee "$RESULTS"
