#!/usr/bin/env bash
# The hostile-client figures of docs/performance.md ("Hardening"), for one binary:
#   tests/perf/hardening.sh BINARY
# 1. 150 and 400 anonymous 6.3 MB bodies to POST /documents: peak RSS and RSS after.
# 2. RLIMIT_NOFILE 1024 and 1,500 connections: warn lines logged and /healthz meanwhile.
# 3. 10,000 idle connections from 127.0.0.1: /healthz from 127.0.0.2.
# Loopback only; every step is bounded in count and time.
set -euo pipefail
binary=$(readlink -f "${1:?usage: hardening.sh BINARY}")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
source "$here/lib.sh"

# The per-IP cap (item 3) is lifted here so that these figures show items 1 and 2 alone.
export BOOKSPACE_SERVER_MAX_CONNECTIONS_PER_IP=100000
for n in 150 400; do
  start "bodies$n" all "$binary"
  echo "bodies $n: $("$here/hostile.py" bodies "$port" "${pids[-1]}" "$n")"
  stop_last
done

# The server under `ulimit -n 1024` (soft and hard); the client has its own, higher limit.
mkdir -p "$work/fd"
prlimit --nofile=1024:1024 "$binary" serve --listen 127.0.0.1:0 --data-dir "$work/fd" 2>"$work/fd.log" &
pids+=($!)
for _ in $(seq 300); do
  port=$(grep -o '"msg":"listening".*"port":[0-9]*' "$work/fd.log" 2>/dev/null | grep -o '[0-9]*$' || true)
  [ -n "$port" ] && break
  sleep 0.1
done
before=$(wc -l < "$work/fd.log")
cpu_before=$(awk '{print $14 + $15}' "/proc/${pids[-1]}/stat")
result=$("$here/hostile.py" flood "$port" 1500)
cpu_after=$(awk '{print $14 + $15}' "/proc/${pids[-1]}/stat")
echo "fd limit 1024, 1500 connections: $result, log lines $(($(wc -l < "$work/fd.log") - before)), \
log bytes $(stat -c %s "$work/fd.log"), server cpu $(( (cpu_after - cpu_before) * 10 )) ms"
stop_last

unset BOOKSPACE_SERVER_MAX_CONNECTIONS_PER_IP
start flood all "$binary"
echo "10000 idle connections: $("$here/hostile.py" flood "$port" 10000)"
stop_last
