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
port="$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
data="$(mktemp -d)"
token="glpat-fuzz$("$venv/bin/python" -c 'import secrets; print(secrets.token_hex(12))')"
# Sign-in limits would turn fuzzed sign-ins into 429s; this run is about 500s.
USERGRAPH_ROOT_TOKEN="$token" USERGRAPH_SIGNIN_PER_MINUTE=100000 "$root/target/debug/usergraph" \
  --bind "127.0.0.1:$port" --data-dir "$data" --external-url "http://127.0.0.1:$port" >"$data/server.log" 2>&1 &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
for _ in $(seq 1 100); do
  if "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/healthz')" 2>/dev/null; then break; fi
  sleep 0.1
done
export PYTHONPATH="$root/tests/fuzz${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=hooks
common=(--checks no_internal_error --max-examples "$examples" --max-time "$budget" --seed 20261130
  --suppress-health-check all --no-color --report junit --report-dir "$data/reports")
status=0
echo "--- schemathesis: /api/v4 (OpenAPI)"
"$venv/bin/schemathesis" run "http://127.0.0.1:$port/api/v4/openapi.json" --url "http://127.0.0.1:$port/api/v4" \
  -H "PRIVATE-TOKEN: $token" "${common[@]}" || status=1
echo "--- schemathesis: /graphql"
"$venv/bin/schemathesis" run "http://127.0.0.1:$port/graphql" -H "Authorization: Bearer $token" "${common[@]}" || status=1
if grep -q "panicked\|500 Internal" "$data/server.log"; then
  echo "--- the server logged a panic or an internal error:"; grep -n "panicked\|internal error" "$data/server.log" | head -20
  status=1
fi
if [ "$status" -ne 0 ]; then echo "--- server log"; tail -n 40 "$data/server.log"; fi
exit "$status"
