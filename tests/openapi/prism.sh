#!/usr/bin/env bash
# The contract as clients meet it: a Prism validating proxy (@stoplight/prism-cli, npm) in front
# of the real binary, every operation of its /openapi.json driven through it (contract.py). A
# request meant to succeed that Prism flags — the request, or the server's answer, not as the
# document says — fails the test, and so does an operation the flow never reaches.
#   tests/openapi/prism.sh BINARY
# Prism comes from the npm registry into ~/.cache/bookspace-tools (once). Exit 77 (skipped) when
# this machine has no Node.js 18+.
set -euo pipefail
binary=$(readlink -f "${1:?usage: prism.sh BINARY}")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/npm-tool.sh"
npm_tool prism @stoplight/prism-cli 5.16.0

work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"  # no config/bookspace.jsonc here
export BOOKSPACE_AUTH_REGISTER_PER_IP_PER_MINUTE=1000 BOOKSPACE_AUTH_LOGIN_PER_IP_PER_MINUTE=1000 \
  BOOKSPACE_JOBS_POLL_INTERVAL_MS=100
admin_email=admin@example.com admin_password="prism admin password"
"$binary" users create-admin --email "$admin_email" --data-dir "$work/prism" <<<"$admin_password" >/dev/null
source "$here/../perf/lib.sh"  # start(): the server on port 0, $port set once it listens
start prism all "$binary"
server="http://127.0.0.1:$port"
curl -sf "$server/openapi.json" >"$work/openapi.json"

proxy_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$tools/node_modules/.bin/prism" proxy "$work/openapi.json" "$server" --host 127.0.0.1 -p "$proxy_port" \
  --errors >"$work/prism.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do
  grep -q "Prism is listening" "$work/prism.log" && break
  sleep 0.1
done
grep -q "Prism is listening" "$work/prism.log" || { cat "$work/prism.log" >&2; exit 1; }
python3 "$here/contract.py" "http://127.0.0.1:$proxy_port" "$server" "$work/openapi.json" \
  "$admin_email" "$admin_password" || { tail -40 "$work/prism.log" >&2; exit 1; }
