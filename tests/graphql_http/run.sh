#!/usr/bin/env bash
# The GraphQL-over-HTTP audit suite (npm's graphql-http, serverAudits) against a running usergraph:
# every audit must pass. Installs the pinned packages (package-lock.json) when they are missing;
# expects target/debug/usergraph (cargo test builds it). Usage: tests/graphql_http/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if [ ! -d "$here/node_modules/graphql-http" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --silent)
fi
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
data="$(mktemp -d)"
"$root/target/debug/usergraph" --bind "127.0.0.1:$port" --data-dir "$data" \
  --external-url "http://127.0.0.1:$port" >"$data/server.log" 2>&1 &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break; fi
  sleep 0.1
done
GRAPHQL_URL="http://127.0.0.1:$port/graphql" node "$here/audit.mjs" || {
  echo "--- server log"; tail -n 30 "$data/server.log"; exit 1;
}
