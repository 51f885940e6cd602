#!/usr/bin/env bash
# Instructions per request of usergraph (and of BENCH_BEFORE_BIN beside it) on the benchmark's
# PostgreSQL database, under valgrind's callgrind: instrumented only while it answers N requests
# of each workload (after a warm-up), so the count is the server's own work per request, the
# database's not included. Counts do not drift with the machine's speed as rates do: this is the
# before/after pair for a change whose effect is smaller than the rounds' spread.
#
# Run `bash bench/run.sh` first (it seeds `ug_bench` and writes the request bodies); then
#   BENCH_BEFORE_BIN=<older binary> bash bench/instructions.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$ROOT/bench/.work
OHA=$WORK/bin/oha
UG_BIN=${BENCH_USERGRAPH_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/usergraph}
BEFORE_BIN=${BENCH_BEFORE_BIN:-}
PG_URL=${BENCH_PG_SERVER:-postgres://postgres@127.0.0.1:5432}/ug_bench?sslmode=disable
ROOT_TOKEN=${BENCH_ROOT_TOKEN:-glpat-usergraph-bench-0000000000}
SECRET=${BENCH_SECRET:-usergraph-bench-secret-0123456789abcdefgh}
USER_ID=${BENCH_USER_ID:-5000}
WARM=30
declare -A COUNT=([a]=60 [b]=200 [c]=60 [d]=200)

for tool in valgrind callgrind_control curl; do
  command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done
[[ -x $OHA && -f $WORK/body-a.json ]] || { echo "run bench/run.sh first" >&2; exit 1; }

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

REQ=()
req() { # WORKLOAD BASE: the request's oha arguments, in REQ
  local auth_gql=(-H "Authorization: Bearer $ROOT_TOKEN") json=(-H 'Content-Type: application/json')
  case $1 in
    a) REQ=(-m POST "${json[@]}" "${auth_gql[@]}" -D "$WORK/body-a.json" "$2/graphql") ;;
    b) REQ=(-m POST "${json[@]}" "${auth_gql[@]}" -D "$WORK/body-b.json" "$2/graphql") ;;
    c) REQ=(-H "PRIVATE-TOKEN: $ROOT_TOKEN" "$2/api/v4/users?per_page=100") ;;
    d) REQ=(-H "PRIVATE-TOKEN: $ROOT_TOKEN" "$2/api/v4/users/$USER_ID") ;;
  esac
}

# measure NAME BIN PORT: prints "NAME WORKLOAD instructions/request" for each workload.
measure() {
  local name=$1 bin=$2 port=$3 base=http://127.0.0.1:$3 out=$WORK/callgrind-$1.out pid w args total
  env USERGRAPH_SECRET="$SECRET" USERGRAPH_ROOT_TOKEN="$ROOT_TOKEN" USERGRAPH_AUTO_MIGRATE=false \
    RUST_LOG=warn valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out.%p" \
    "$bin" --bind "127.0.0.1:$port" --database-url "$PG_URL" --data-dir "$WORK/data-postgres" \
    >"$WORK/callgrind-$name.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1 120); do
    curl -s -o /dev/null "$base/healthz" && break
    sleep 1
  done
  for w in a b c d; do
    req "$w" "$base"
    "$OHA" --no-tui -n "$WARM" -c 2 "${REQ[@]}" >/dev/null 2>&1 || true
    callgrind_control -z "$pid" >/dev/null
    callgrind_control -i on "$pid" >/dev/null
    "$OHA" --no-tui -n "${COUNT[$w]}" -c 2 "${REQ[@]}" >/dev/null 2>&1
    callgrind_control -i off "$pid" >/dev/null
    callgrind_control -d "$pid" >/dev/null
    sleep 1
    total=$(ls -t "$out.$pid"* | head -n1 | xargs grep -h '^totals:' | awk '{print $2}')
    echo "$name $w $((total / ${COUNT[$w]}))"
    [[ -n ${KEEP:-} ]] || rm -f "$out.$pid".*
  done
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}

[[ -n ${ONLY_BEFORE:-} ]] || measure usergraph "$UG_BIN" 18291
if [[ -n $BEFORE_BIN ]]; then measure before "$BEFORE_BIN" 18292; fi
