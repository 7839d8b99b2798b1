#!/usr/bin/env bash
# /metrics as Prometheus reads it: the real binary (every module, after some traffic, with
# server.metrics_token set) passes `promtool check metrics` with zero problems.
#   tests/ops/promtool.sh BINARY
# Exit 77 (skipped) without promtool (docker/install-deps.sh test installs Debian's prometheus).
set -euo pipefail
binary=$(readlink -f "${1:?usage: promtool.sh BINARY}")
here=$(cd "$(dirname "$0")" && pwd)
command -v promtool >/dev/null || { echo "promtool: skipped, not installed" >&2; exit 77; }
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"  # no config/bookspace.jsonc here
export BOOKSPACE_SERVER_METRICS_TOKEN=promtool-scrape-token-0123456789
source "$here/../perf/lib.sh"  # start(): the server on port 0, $port set once it listens
start promtool all "$binary"
base="http://127.0.0.1:$port"
curl -sf "$base/healthz" >/dev/null
curl -s "$base/api/v1/nowhere" >/dev/null
token=$(curl -sf -X POST "$base/api/v1/auth/register" -H 'Content-Type: application/json' \
  -d '{"email":"promtool@example.com","password":"correct horse battery"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
curl -sf -X POST "$base/api/v1/documents" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"title":"measured"}' >/dev/null
curl -sf "$base/api/v1/search?q=measured" -H "Authorization: Bearer $token" >/dev/null
status=$(curl -s -o /dev/null -w '%{http_code}' "$base/metrics")
[ "$status" = 401 ] || { echo "promtool: /metrics without the token answered $status, not 401" >&2; exit 1; }
curl -sf "$base/metrics" -H "Authorization: Bearer $BOOKSPACE_SERVER_METRICS_TOKEN" >"$work/metrics.txt"
if ! out=$(promtool check metrics <"$work/metrics.txt" 2>&1); then echo "$out" >&2; exit 1; fi
[ -z "$out" ] || { echo "$out" >&2; exit 1; }
echo "promtool: $(grep -c '^# TYPE' "$work/metrics.txt") families, no problem"
