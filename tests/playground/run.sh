#!/usr/bin/env bash
# The GraphiQL page in a real browser: Debian's chromium, headless, driven by puppeteer-core
# (pinned in package-lock.json), against a running usergraph. Installs chromium and the npm
# packages when they are missing; expects target/debug/usergraph (cargo test builds it). Leaves
# a screenshot at target/playground.png. Usage: tests/playground/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if [ ! -d "$here/node_modules/puppeteer-core" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --silent)
fi
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
data="$(mktemp -d)"
token="glpat-pg$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
USERGRAPH_ROOT_TOKEN="$token" "$root/target/debug/usergraph" --bind "127.0.0.1:$port" --data-dir "$data" \
  --external-url "http://127.0.0.1:$port" >"$data/server.log" 2>&1 &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break; fi
  sleep 0.1
done
USERGRAPH_URL="http://127.0.0.1:$port" USERGRAPH_TOKEN="$token" SCREENSHOT="$root/target/playground.png" \
  node "$here/browser.mjs" || { echo "--- server log"; tail -n 30 "$data/server.log"; exit 1; }
