#!/usr/bin/env bash
# Drives a real usergraph server with python-gitlab. Builds nothing but a virtualenv: expects
# target/debug/usergraph (cargo test builds it). Usage: tests/python/run.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/target/python-venv"
# (Re)installed when the pinned requirements change.
stamp="$venv/requirements.txt"
if [ ! -x "$venv/bin/pytest" ] || ! cmp -s "$root/tests/python/requirements.txt" "$stamp"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/tests/python/requirements.txt"
  cp "$root/tests/python/requirements.txt" "$stamp"
fi
port="$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
data="$(mktemp -d)"
token="glpat-ci$("$venv/bin/python" -c 'import secrets; print(secrets.token_hex(12))')"
USERGRAPH_ROOT_TOKEN="$token" "$root/target/debug/usergraph" --bind "127.0.0.1:$port" --data-dir "$data" \
  --external-url "http://127.0.0.1:$port" >"$data/server.log" 2>&1 &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
for _ in $(seq 1 100); do
  if "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/healthz')" 2>/dev/null; then break; fi
  sleep 0.1
done
GITLAB_URL="http://127.0.0.1:$port" GITLAB_TOKEN="$token" "$venv/bin/pytest" -q "$root/tests/python" || {
  echo "--- server log"; tail -n 50 "$data/server.log"; exit 1;
}
