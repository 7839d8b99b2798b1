#!/usr/bin/env bash
# Issue 10's targets as ratios taken in one run: nginx `return 200` and BookSpace (the real
# binary, default configuration: access log on, written to a file) on core 0, wrk on core 1,
# rounds alternated, the median of each row reported.
#   tests/perf/ratios.sh [BUILD_DIR] [ROUNDS] [DURATION_S] [CONNECTIONS]
# Loopback only; bounded by ROUNDS × 5 × DURATION_S.
set -euo pipefail
build=${1:-build/release}
rounds=${2:-3}
duration=${3:-8}
conns=${4:-64}
binary=$(readlink -f "$build/src/bookspace")
here=$(cd "$(dirname "$0")" && pwd)
command -v wrk >/dev/null && command -v nginx >/dev/null ||
  { echo "perf: wrk and nginx needed (docker/install-deps.sh test)" >&2; exit 1; }
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
source "$here/lib.sh"

# nginx: one worker, no access log, `return 200`.
nginx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  server { listen 127.0.0.1:$nginx_port; location / { return 200 "{\"status\":\"ok\"}"; } }
}
CONF
taskset -c 0 nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
pids+=($!)
nginx_master=$!

start bookspace 0 "$binary" --io-threads 1
bookspace_pid=${pids[-1]}
base=http://127.0.0.1:$port
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$nginx_port/" >/dev/null && break; sleep 0.1; done

token=$(register_user "$base" bench@example.com)
auth="Authorization: Bearer $token"
for i in $(seq 25); do
  id=$(curl -sf -H "$auth" -H 'Content-Type: application/json' \
    -d "{\"title\":\"Benchmark $i\",\"content\":\"$(printf 'x%.0s' $(seq 200))\",\"tags\":[\"bench\"]}" \
    "$base/api/v1/documents" | field id)
done

declare -A results
run() {  # name url [header]
  local out server before
  # Whose CPU a request costs: nginx's worker, or the BookSpace process (all its threads).
  if [ "$1" = nginx ]; then server=$(pgrep -P "$nginx_master" | head -1); else server=$bookspace_pid; fi
  before=$(cpu_ticks "$server")
  if [ -n "${3:-}" ]; then
    out=$(taskset -c 1 wrk -t1 -c"$conns" -d"${duration}s" --latency -H "$3" "$2")
  else
    out=$(taskset -c 1 wrk -t1 -c"$conns" -d"${duration}s" --latency "$2")
  fi
  if [ "$(non2xx_of <<<"$out")" != 0 ]; then echo "perf: $1 had non-2xx answers" >&2; echo "$out" >&2; exit 1; fi
  results[$1]+="$(rps_of <<<"$out") "
  results[$1.p99]+="$(p99_of <<<"$out") "
  results[$1.cpu]+="$(cpu_us_per_request $(($(cpu_ticks "$server") - before)) "$(total_of <<<"$out")") "
}
taskset -c 1 wrk -t1 -c"$conns" -d2s "$base/healthz" >/dev/null  # warm-up
for r in $(seq "$rounds"); do
  run nginx "http://127.0.0.1:$nginx_port/"
  run healthz "$base/healthz"
  run doc "$base/api/v1/documents/$id" "$auth"
  run list "$base/api/v1/documents?limit=20" "$auth"
  run me "$base/api/v1/users/me" "$auth"
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m() { median <<<"${results[$1]}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo "| workload | req/s (median of $rounds; all) | p99 (median) | server CPU µs/request (median) | ratio | target |"
echo "|---|---|---|---|---|---|"
row() {  # name label denominator-name target
  local r=""
  [ -n "$3" ] && r="$(ratio "$(m "$1")" "$(m "$3")")× $3"
  printf '| %s | %s (%s) | %s | %s | %s | %s |\n' "$2" "$(m "$1")" "${results[$1]% }" \
    "$(median <<<"${results[$1.p99]}")" "$(median <<<"${results[$1.cpu]}")" "$r" "$4"
}
row nginx "nginx 1.22 \`return 200\`, 1 worker, access_log off" "" ""
row healthz "GET /healthz, default config (access log to a file)" nginx "≥ 0.8"
row doc "GET /api/v1/documents/{id} (JWT)" healthz "≥ 0.4"
row list "GET /api/v1/documents?limit=20" healthz "≥ 0.2"
row me "GET /api/v1/users/me" healthz "≥ 0.5"
echo
echo "wrk -t1 -c$conns -d${duration}s on core 1; servers on core 0 (BookSpace --io-threads 1, its pools share the core);" \
  "log lines written: $(wc -l < "$work/bookspace.log"), dropped: $(curl -sf "$base/metrics" | awk '/^bookspace_log_dropped_lines_total/ {print $2}')"
