#!/usr/bin/env bash
# Jobs queue benchmarks (issue 11), default configuration (8 workers), 127.0.0.1 only, on SQLite
# (synchronous=FULL, one process) and, when PG_URL is set, PostgreSQL (two processes):
#   1. throughput: no-op jobs enqueued through POST /jobs by wrk for DURATION_S while the
#      workers run them; jobs/s = jobs / (last finished_at − first created_at), so enqueue and
#      completion both count; the enqueue rate is wrk's;
#   2. enqueue-to-start latency with idle workers: COUNT jobs posted one at a time, 20 ms apart;
#      from the POST being sent to the handler starting (probe_jobs_runs.started_us).
# ROUNDS rounds, alternating the databases; the table lists every round and the median.
#   tests/perf/jobs.sh [BUILD_DIR] [DURATION_S] [ROUNDS] [COUNT]
#   PG_URL=postgresql://postgres@127.0.0.1:55432/postgres tests/perf/jobs.sh
set -euo pipefail
build=$(cd "${1:-build/release}" && pwd)
duration=${2:-8}
rounds=${3:-3}
count=${4:-300}
jobsd=$build/tests/bookspace-jobsd
[ -x "$jobsd" ] || { echo "perf: $jobsd not built" >&2; exit 1; }
for t in wrk sqlite3 curl python3; do command -v $t >/dev/null || { echo "perf: $t missing" >&2; exit 1; }; done
[ -z "${PG_URL:-}" ] || command -v psql >/dev/null || { echo "perf: psql missing" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
cd "$work"  # no config/bookspace.jsonc here
export BOOKSPACE_JOBS_WORKERS=8 BOOKSPACE_AUTH_REGISTER_PER_IP_PER_MINUTE=1000
# Instances of one deployment share the token signing key (else each verifies only its own).
BOOKSPACE_AUTH_SIGNING_KEY=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
export BOOKSPACE_AUTH_SIGNING_KEY
. "$here/lib.sh"
cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"type":"probe.noop"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
LUA

token_of() {  # port
  curl -sf -H 'Content-Type: application/json' -d '{"email":"bench@example.com","password":"correct horse battery"}' \
    "http://127.0.0.1:$1/api/v1/auth/register" | field access_token
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

one_round() {  # kind (sqlite|pg) round → appends "kind rps jobs_per_s p50 p99 max" to $work/results
  local kind=$1 n=$2 url q ports=() rps=0
  if [ "$kind" = sqlite ]; then
    mkdir -p "$work/s$n"
    url="sqlite://$work/s$n/bookspace.db"
    q() { sqlite3 "$work/s$n/bookspace.db" "$1"; }
  else
    local name="bookspace_jobs_bench_$n" base=${PG_URL%/*}
    psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null
    url="$base/$name"
    q() { psql -tA "$url" -c "$1"; }
  fi
  local procs=1
  [ "$kind" = pg ] && procs=2
  for i in $(seq $procs); do
    start "$kind$n-$i" all "$jobsd" --database "$url"
    ports+=("$port")
  done
  export TOKEN
  TOKEN=$(token_of "${ports[0]}")
  local conns=$((32 / procs)) outs=()
  for p in "${ports[@]}"; do
    wrk -t1 -c$conns -d${duration}s -s "$work/post.lua" "http://127.0.0.1:$p/api/v1/jobs" >"$work/wrk-$p" &
    outs+=($!)
  done
  wait "${outs[@]}"
  for p in "${ports[@]}"; do
    [ "$(non2xx_of <"$work/wrk-$p")" = 0 ] || { echo "perf: POST /jobs answered errors:" >&2; cat "$work/wrk-$p" >&2; exit 1; }
    rps=$(echo "$rps + $(rps_of <"$work/wrk-$p")" | bc)
  done
  for _ in $(seq 1200); do
    [ "$(q "SELECT COUNT(*) FROM jobs_jobs WHERE status <> 'succeeded'")" = 0 ] && break
    sleep 0.1
  done
  local jps
  jps=$(q "SELECT COUNT(*) * 1000 / (MAX(finished_at) - MIN(created_at)) FROM jobs_jobs")
  python3 "$here/jobs_latency.py" send "${ports[0]}" "$TOKEN" "$count" 20 "$work/sent"
  for _ in $(seq 300); do
    [ "$(q "SELECT COUNT(*) FROM probe_jobs_runs")" -ge "$count" ] && break
    sleep 0.1
  done
  q "SELECT job_id, started_us FROM probe_jobs_runs" >"$work/started"
  echo "$kind $rps $jps $(python3 "$here/jobs_latency.py" report "$work/sent" "$work/started")" >>"$work/results"
  for _ in $(seq $procs); do stop_last; done
}

kinds=(sqlite)
[ -n "${PG_URL:-}" ] && kinds+=(pg)
for r in $(seq "$rounds"); do
  for k in "${kinds[@]}"; do one_round "$k" "$r"; done
done

echo "| database | round | enqueue req/s | jobs/s (enqueue + complete) | start latency p50 ms | p99 ms | max ms |"
echo "|---|---|---|---|---|---|---|"
for k in "${kinds[@]}"; do
  grep "^$k " "$work/results" | awk -v k="$k" '{printf "| %s | %d | %.0f | %s | %s | %s | %s |\n", k, NR, $2, $3, $4, $5, $6}'
  echo "| $k | **median** | $(grep "^$k " "$work/results" | awk '{print $2}' | median | xargs printf '%.0f') | $(grep "^$k " "$work/results" | awk '{print $3}' | median) | $(grep "^$k " "$work/results" | awk '{print $4}' | median) | $(grep "^$k " "$work/results" | awk '{print $5}' | median) | $(grep "^$k " "$work/results" | awk '{print $6}' | median) |"
done
