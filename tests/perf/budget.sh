#!/usr/bin/env bash
# Server CPU per request for the hot workloads, against the budget recorded in
# tests/perf/budget.txt: a later change that doubles the CPU of a request fails loudly here.
# Not a ctest (timings are machine-bound): people run it, and its table goes in
# docs/performance.md.
#   tests/perf/budget.sh [BUILD_DIR] [ROUNDS] [DURATION_S]
#   PG_URL=postgresql://…  also runs every workload on PostgreSQL (a scratch database in it)
#   EXTRA_ARGS="--disable-modules search"  extra serve flags (default: every module on)
#   ONLY="post patch"  runs only these workloads (healthz read list post patch)
# BookSpace on core 0 (--io-threads 1, default configuration), wrk on core 1, loopback only.
# Exit status 1 when a workload's median is above twice its budget.
set -euo pipefail
build=${1:-build/release}
rounds=${2:-3}
duration=${3:-6}
binary=$(readlink -f "$build/src/bookspace")
here=$(cd "$(dirname "$0")" && pwd)
command -v wrk >/dev/null || { echo "perf: wrk needed (docker/install-deps.sh test)" >&2; exit 1; }
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
source "$here/lib.sh"

# POST: the peer's body. PATCH: each request updates one of the seeded documents with the
# If-Match its last answer gave (an answer's id and ETag are read back), so none is stale.
cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"title":"Bench doc","content":"Some content for the write benchmark","tags":["a","b"]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
LUA
cat >"$work/patch.lua" <<'LUA'
local ids, etags, free, n = {}, {}, {}, 0
for id in string.gmatch(os.getenv("DOC_IDS"), "[^,]+") do
  n = n + 1; ids[n] = id; etags[id] = '"1"'; free[#free + 1] = id
end
local auth = "Bearer " .. os.getenv("TOKEN")
local i = 0
request = function()
  -- a document with no request in flight (there are more documents than connections)
  local id = table.remove(free, 1)
  i = i + 1
  return wrk.format("PATCH", "/api/v1/documents/" .. id,
    {["Content-Type"] = "application/json", ["Authorization"] = auth, ["If-Match"] = etags[id]},
    '{"content":"Edited content number ' .. i .. ' for the write benchmark"}')
end
response = function(status, headers, body)
  local id = string.match(body, '"id":"([^"]+)"')
  if id then
    if status == 200 then etags[id] = headers["ETag"] or headers["etag"] end
    free[#free + 1] = id
  end
end
LUA

declare -A results
run_workloads() {  # label  (bookspace started; $port set)
  local base=http://127.0.0.1:$port pid=${pids[-1]} token auth id ids="" i out before
  token=$(register_user "$base" bench@example.com)
  auth="Authorization: Bearer $token"
  for i in $(seq 64); do
    id=$(curl -sf -H "$auth" -H 'Content-Type: application/json' \
      -d "{\"title\":\"Doc $i\",\"content\":\"Some content number $i for the benchmark\",\"tags\":[\"a\",\"b\"]}" \
      "$base/api/v1/documents" | field id)
    ids+="$id,"
  done
  one() {  # name conns wrk-args…
    local name=$1 c=$2
    shift 2
    before=$(cpu_ticks "$pid")
    out=$(TOKEN=$token DOC_IDS=$ids taskset -c 1 wrk -t1 -c"$c" -d"${duration}s" --latency "$@")
    if [ "$(non2xx_of <<<"$out")" != 0 ]; then echo "perf: $name had non-2xx answers" >&2; echo "$out" >&2; exit 1; fi
    results[$name]+="$(rps_of <<<"$out") "
    results[$name.p99]+="$(p99_of <<<"$out") "
    results[$name.cpu]+="$(cpu_us_per_request $(($(cpu_ticks "$pid") - before)) "$(total_of <<<"$out")") "
  }
  taskset -c 1 wrk -t1 -c64 -d2s "$base/healthz" >/dev/null
  TOKEN=$token taskset -c 1 wrk -t1 -c16 -d2s -s "$work/post.lua" "$base/api/v1/documents" >/dev/null
  wanted healthz && one "$1 healthz" 64 "$base/healthz"
  wanted read && one "$1 read" 64 -H "$auth" "$base/api/v1/documents/${ids%%,*}"
  wanted list && one "$1 list" 64 -H "$auth" "$base/api/v1/documents?limit=20"
  wanted post && one "$1 post" 16 -s "$work/post.lua" "$base/api/v1/documents"
  wanted patch && one "$1 patch" 16 -s "$work/patch.lua" "$base/api/v1/documents"
  return 0
}
wanted() { [[ " ${ONLY:-healthz read list post patch} " == *" $1 "* ]]; }

# shellcheck disable=SC2086 # EXTRA_ARGS is a list of flags
for r in $(seq "$rounds"); do
  start "sqlite$r" 0 "$binary" --io-threads 1 ${EXTRA_ARGS:-}
  run_workloads sqlite
  stop_last
  if [ -n "${PG_URL:-}" ]; then
    db="bench_budget_$$_$r"
    psql "$PG_URL" -qc "CREATE DATABASE $db" >/dev/null
    BOOKSPACE_DATABASE_URL="${PG_URL%/*}/$db" start "pg$r" 0 "$binary" --io-threads 1 ${EXTRA_ARGS:-}
    run_workloads postgresql
    stop_last
    psql "$PG_URL" -qc "DROP DATABASE $db" >/dev/null
  fi
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
over=0
echo "| database | workload | req/s (median of $rounds) | p99 | server CPU µs/request (all rounds) | budget µs | |"
echo "|---|---|---|---|---|---|---|"
for dbname in sqlite postgresql; do
  [[ " ${!results[*]} " == *" $dbname "* ]] || continue
  for w in healthz read list post patch; do
    wanted "$w" || continue
    key="$dbname $w"
    cpu=$(median <<<"${results[$key.cpu]}")
    budget=$(awk -v k="$dbname.$w" '$1 == k {print $2}' "$here/budget.txt")
    verdict=ok
    if [ -n "$budget" ] && awk -v c="$cpu" -v b="$budget" 'BEGIN {exit !(c > 2 * b)}'; then
      verdict="**over 2× budget**"
      over=1
    fi
    printf '| %s | %s | %s | %s | %s (%s) | %s | %s |\n' "$dbname" "$w" "$(median <<<"${results[$key]}")" \
      "$(median <<<"${results[$key.p99]}")" "$cpu" "${results[$key.cpu]% }" "${budget:-?}" "$verdict"
  done
done
echo
echo "wrk -t1 -d${duration}s (-c64 reads, -c16 writes) on core 1; BookSpace on core 0 with --io-threads 1" \
  "${EXTRA_ARGS:-(every module on)}; budgets: tests/perf/budget.txt"
exit "$over"
