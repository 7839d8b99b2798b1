#!/usr/bin/env bash
# Auth and users benchmarks (issue 3), on SQLite, 127.0.0.1 only:
#   1. login latency with one client (≈ one Argon2id hash) and the hashing limit it implies
#      (cores / latency); login throughput with 8 clients against that limit;
#   2. GET /users/me with a valid access token vs the kernel's DB-read route (probe module),
#      alternated three times: server --io-threads 1 on core 0, wrk on core 1;
#   3. p99 of GET /users/me while a login flood (64 clients, far beyond capacity) runs.
#   tests/perf/auth.sh [BUILD_DIR] [DURATION_S]
set -euo pipefail
build=$(cd "${1:-build/release}" && pwd)
duration=${2:-10}
bin=$build/src/bookspace
testd=$build/tests/bookspace-testd
for b in "$bin" "$testd"; do [ -x "$b" ] || { echo "perf: $b not built (cmake --build $build)" >&2; exit 1; }; done
command -v wrk >/dev/null || { echo "perf: wrk missing (docker/install-deps.sh test)" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
cores=$(nproc)
cd "$work"  # no config/bookspace.jsonc here: defaults + the environment below

# Rate limits out of the way: this measures capacity, not policy.
export BOOKSPACE_LOG_ACCESS_LOG=false
raise_limits() {
  for k in LOGIN_PER_IP LOGIN_PER_EMAIL REGISTER_PER_IP REFRESH_PER_IP REFRESH_PER_SESSION; do
    export "BOOKSPACE_AUTH_${k}_PER_MINUTE=1000000"
  done
}
raise_limits

. "$here/lib.sh"

email=bench@example.com
password='benchmark passphrase 42'
cat >"$work/login.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"$email","password":"$password"}'
LUA
# The flood counts answers by status (429 would mean the rate limits were not raised).
cat >"$work/flood.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"$email","password":"$password"}'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init() counts = {} end
function response(status) counts[status] = (counts[status] or 0) + 1 end
function done()
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("counts")) do io.write(string.format("status %d %d\n", status, n)) end
  end
end
LUA
status() { awk -v s="$1" '$1 == "status" && $2 == s {n += $3} END {print n + 0}' <<<"$flood_out"; }
io_threads=${IO_THREADS:-1}
register() {  # base → access token
  curl -sf -H 'Content-Type: application/json' -d "{\"email\":\"$email\",\"password\":\"$password\"}" \
    "$1/api/v1/auth/register" | field access_token
}

echo "## 1. Login throughput (server on all $cores cores, workers.cpu_threads = $cores)"
start login all "$bin" --io-threads 1 --modules auth,users
base=http://127.0.0.1:$port
register "$base" >/dev/null
echo "| clients | logins/s | p99 | refused (503) |"
echo "|---|---|---|---|"
for clients in 1 8; do
  out=$(wrk -t1 -c$clients -d"${duration}s" --latency -s "$work/login.lua" "$base/api/v1/auth/login")
  echo "| $clients | $(rps_of <<<"$out") | $(p99_of <<<"$out") | $(non2xx_of <<<"$out") |"
done
# The server's own measure of one Argon2id verification (histogram sum / count).
hash_ms=$(curl -sf "$base/metrics" | awk '/^bookspace_auth_password_verify_seconds_sum/ {s=$2} /^bookspace_auth_password_verify_seconds_count/ {c=$2}
  END { printf "%.1f", 1000 * s / c }')
limit=$(awk -v h="$hash_ms" -v c="$cores" 'BEGIN { printf "%.0f", c * 1000 / h }')
echo "hashing limit = $cores cores / $hash_ms ms per Argon2id verification = $limit logins/s"
stop_last

echo
echo "## 2. GET /users/me vs the kernel's DB-read route (server --io-threads 1 on core 0, wrk -t1 -c64 on core 1)"
start me 0 "$bin" --io-threads 1 --modules auth,users
me_base=http://127.0.0.1:$port
me_pid=${pids[-1]}
token=$(register "$me_base")
for v in $(compgen -e | grep '^BOOKSPACE_AUTH_'); do unset "$v"; done  # testd has no auth module
start probe 0 "$testd" --io-threads 1 --modules probe
probe_base=http://127.0.0.1:$port
probe_pid=${pids[-1]}
raise_limits
note=$(curl -sf -H 'Content-Type: application/json' -d '{"text":"benchmark note"}' "$probe_base/api/v1/probe/notes" | field id)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime of the server
measure() {  # label pid url [header]
  local out before after
  before=$(cpu_ticks "$2")
  if [ -n "${4:-}" ]; then
    out=$(taskset -c 1 wrk -t1 -c64 -d"${duration}s" --latency -H "$4" "$3")
  else
    out=$(taskset -c 1 wrk -t1 -c64 -d"${duration}s" --latency "$3")
  fi
  after=$(cpu_ticks "$2")
  if [ "$(non2xx_of <<<"$out")" != 0 ]; then echo "perf: $1 had non-2xx answers" >&2; echo "$out" >&2; exit 1; fi
  # Server CPU time per request: steadier than req/s on a shared VM.
  local us
  us=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$(total_of <<<"$out")" \
    'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
  echo "| $1 | $(rps_of <<<"$out") | $(p99_of <<<"$out") | $us |"
}
taskset -c 1 wrk -t1 -c64 -d2s -H "Authorization: Bearer $token" "$me_base/api/v1/users/me" >/dev/null
echo "| route | req/s | p99 | server CPU µs/request |"
echo "|---|---|---|---|"
for round in 1 2 3; do
  measure "GET /api/v1/probe/notes/{id} (round $round)" "$probe_pid" "$probe_base/api/v1/probe/notes/$note"
  measure "GET /api/v1/users/me (round $round)" "$me_pid" "$me_base/api/v1/users/me" "Authorization: Bearer $token"
done
stop_last
stop_last

echo
echo "## 3. GET /users/me (wrk -t1 -c16) during a login flood (wrk -t1 -c<flood>); server on all cores"
echo "| flood clients | /users/me req/s | /users/me p50 | /users/me p99 | logins 200 | logins 503 (shed) | other |"
echo "|---|---|---|---|---|---|---|"
for flood_clients in 0 64 128; do
  start "flood$flood_clients" all "$bin" --io-threads "$io_threads" --modules auth,users
  base=http://127.0.0.1:$port
  token=$(register "$base")
  flood_s=$((duration + 4))
  if [ "$flood_clients" -gt 0 ]; then
    wrk -t1 -c"$flood_clients" -d"${flood_s}s" -s "$work/flood.lua" "$base/api/v1/auth/login" >"$work/flood.out" &
    flood=$!
    sleep 2
  else
    : >"$work/flood.out"
  fi
  out=$(wrk -t1 -c16 -d"${duration}s" --latency -H "Authorization: Bearer $token" "$base/api/v1/users/me")
  [ "$flood_clients" -gt 0 ] && wait $flood
  flood_out=$(cat "$work/flood.out")
  total=$(total_of <<<"$flood_out")
  other=$((${total:-0} - $(status 200) - $(status 503)))
  echo "| $flood_clients | $(rps_of <<<"$out") | $(awk '$1 == "50%" {print $2}' <<<"$out") | $(p99_of <<<"$out") | $(status 200) | $(status 503) | $other |"
  stop_last
done
