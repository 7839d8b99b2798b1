#!/usr/bin/env bash
# Kernel baseline: req/s and p99 of GET /healthz and of a route doing one database read through
# the pool (the probe module's GET /api/v1/probe/notes/{id}), on SQLite.
# The server runs with one io thread pinned to core 0, wrk pinned to core 1, on 127.0.0.1 only.
#   tests/perf/run.sh [BUILD_DIR] [DURATION_S] [CONNECTIONS]
set -euo pipefail
build=${1:-build/release}
duration=${2:-10}
conns=${3:-64}
testd=$build/tests/bookspace-testd
[ -x "$testd" ] || { echo "perf: $testd not built (cmake --build $build)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "perf: wrk missing (docker/install-deps.sh test)" >&2; exit 1; }
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

BOOKSPACE_LOG_ACCESS_LOG=false taskset -c 0 "$testd" serve --listen 127.0.0.1:0 --io-threads 1 \
  --data-dir "$work" --modules probe 2>"$work/server.log" &
server=$!
for _ in $(seq 100); do
  port=$(grep -o '"msg":"listening".*"port":[0-9]*' "$work/server.log" 2>/dev/null | grep -o '[0-9]*$' || true)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "${port:-}" ] || { cat "$work/server.log" >&2; exit 1; }
base=http://127.0.0.1:$port
id=$(curl -sf -H 'Content-Type: application/json' -d '{"text":"benchmark note"}' "$base/api/v1/probe/notes" \
     | sed 's/.*"id":"\([^"]*\)".*/\1/')

measure() {  # name url
  local out rps p99
  out=$(taskset -c 1 wrk -t1 -c"$conns" -d"${duration}s" --latency "$2")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  if grep -q "Non-2xx" <<<"$out"; then echo "perf: $1 had non-2xx answers" >&2; echo "$out" >&2; exit 1; fi
  printf '| %s | %s | %s |\n' "$1" "$rps" "$p99"
}

echo "| route | req/s | p99 |"
echo "|---|---|---|"
taskset -c 1 wrk -t1 -c"$conns" -d2s "$base/healthz" >/dev/null  # warm-up
measure "GET /healthz" "$base/healthz"
measure "GET /api/v1/probe/notes/{id} (1 SQLite read)" "$base/api/v1/probe/notes/$id"
echo
echo "wrk -t1 -c$conns -d${duration}s, server: --io-threads 1 on core 0 (database pool threads share it), wrk on core 1"
