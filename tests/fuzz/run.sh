#!/usr/bin/env bash
# Schemathesis against a running server: /api/v4 through its OpenAPI document, and /graphql
# through introspection, with a bounded number of examples. The only check that fails the run
# (tests/fuzz/hooks.py): no answer may be a 5xx or carry an INTERNAL_SERVER_ERROR. Expects target/debug/usergraph (cargo test builds it).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/target/fuzz-venv"
examples="${FUZZ_EXAMPLES:-25}"
budget="${FUZZ_SECONDS:-150}"
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/tests/fuzz/requirements.txt"
fi
# Each phase gets a server of its own (a fresh database and root token): fuzzed calls may revoke
# or rotate the very token the run signs in with (DELETE|POST /personal_access_tokens/self...),
# and a later phase must not start signed out.
servers=()
data_dirs=()
cleanup() {
  for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  for dir in "${data_dirs[@]}"; do rm -rf "$dir"; done
}
trap cleanup EXIT
start_server() { # sets port, token, data
  port="$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  data="$(mktemp -d)"
  token="glpat-fuzz$("$venv/bin/python" -c 'import secrets; print(secrets.token_hex(12))')"
  # Sign-in limits would turn fuzzed sign-ins into 429s; this run is about 500s.
  USERGRAPH_ROOT_TOKEN="$token" USERGRAPH_SIGNIN_PER_MINUTE=100000 "$root/target/debug/usergraph" \
    --bind "127.0.0.1:$port" --data-dir "$data" --external-url "http://127.0.0.1:$port" >"$data/server.log" 2>&1 &
  servers+=("$!")
  data_dirs+=("$data")
  for _ in $(seq 1 100); do
    if "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/healthz')" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "the server did not come up"; cat "$data/server.log"; return 1
}
export PYTHONPATH="$root/tests/fuzz${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=hooks
status=0
check_log() {
  if grep -q "panicked\|500 Internal" "$data/server.log"; then
    echo "--- the server logged a panic or an internal error:"; grep -n "panicked\|internal error" "$data/server.log" | head -20
    status=1
  fi
  if [ "$status" -ne 0 ]; then echo "--- server log"; tail -n 40 "$data/server.log"; fi
}
run() { # phase name, time budget (s), schemathesis arguments (@URL@ and @TOKEN@ stand for this phase's server)...
  local name="$1" seconds="$2"; shift 2
  start_server
  local base="http://127.0.0.1:$port" args=()
  for arg in "$@"; do arg="${arg//@URL@/$base}"; args+=("${arg//@TOKEN@/$token}"); done
  echo "--- schemathesis: $name"
  "$venv/bin/schemathesis" run "${args[@]}" --checks no_internal_error --max-examples "$examples" --max-time "$seconds" \
    --seed 20261130 --suppress-health-check all --no-color --report junit --report-dir "$data/reports" || status=1
  check_log
}
# Operations that revoke the caller's own token (DELETE|POST /personal_access_tokens/self...) run
# on a server of their own, so that the others keep a valid token to the end.
self_revoking='^/personal_access_tokens/(self|\{id\})(/rotate)?$'
# The phases of a few operations get a third of the budget.
small=$(( budget / 3 ))
run "/api/v4 (OpenAPI)" "$budget" "@URL@/api/v4/openapi.json" --url "@URL@/api/v4" -H "PRIVATE-TOKEN: @TOKEN@" \
  --exclude-path-regex "$self_revoking"
run "/api/v4, the operations that revoke the caller's token" "$small" "@URL@/api/v4/openapi.json" --url "@URL@/api/v4" \
  -H "PRIVATE-TOKEN: @TOKEN@" --include-path-regex "$self_revoking"
self_revoking_gql='^Mutation\.(rotate|revoke)PersonalAccessToken$'
run "/graphql" "$budget" "@URL@/graphql" -H "Authorization: Bearer @TOKEN@" --exclude-name-regex "$self_revoking_gql"
run "/graphql, the mutations that revoke the caller's token" "$small" "@URL@/graphql" -H "Authorization: Bearer @TOKEN@" \
  --include-name-regex "$self_revoking_gql"
exit "$status"
