#!/usr/bin/env bash
# Realtime benchmarks (issue 14), 127.0.0.1 only, the real binary (connection caps raised to fit):
#   1. idle: CONNECTIONS authenticated WebSockets on a server with ONE io thread; the server's
#      RSS after a warm-up (100 sockets opened and closed) and with all of them open, per
#      connection;
#   2. fan-out: one document shared with 20 users, SUBSCRIBERS sockets subscribed to it (their
#      tokens in turn), ROUNDS title changes; delivery = from just before the PATCH is written
#      to the event read by the client (p50/p95/p99/max over all deliveries) — on SQLite in one
#      process, and with PG_URL set also on PostgreSQL from another instance (edits on one,
#      sockets on the other, the event travelling through the log and NOTIFY).
#   tests/perf/realtime.sh [BUILD_DIR] [CONNECTIONS] [SUBSCRIBERS] [ROUNDS]
#   PG_URL=postgresql://postgres@127.0.0.1:55432/postgres tests/perf/realtime.sh
set -euo pipefail
build=$(cd "${1:-build/release}" && pwd)
connections=${2:-10000}
subscribers=${3:-1000}
rounds=${4:-20}
binary=$build/src/bookspace
load=$build/tests/bookspace-wsload
[ -x "$load" ] || { echo "perf: $load not built" >&2; exit 1; }
for t in curl python3; do command -v $t >/dev/null || { echo "perf: $t missing" >&2; exit 1; }; done
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pids=()
trap 'exec 9>&- 2>/dev/null || true; for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
cd "$work"  # no config/bookspace.jsonc here
ulimit -n "$(ulimit -Hn)"
cap=$((connections + 2000))
export BOOKSPACE_SERVER_MAX_CONNECTIONS=$cap BOOKSPACE_SERVER_MAX_CONNECTIONS_PER_IP=$cap \
  BOOKSPACE_REALTIME_MAX_CONNECTIONS=$cap BOOKSPACE_AUTH_REGISTER_PER_IP_PER_MINUTE=100000 \
  BOOKSPACE_AUTH_LOGIN_PER_IP_PER_MINUTE=100000
# Instances of one deployment share the token signing key.
BOOKSPACE_AUTH_SIGNING_KEY=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
export BOOKSPACE_AUTH_SIGNING_KEY
. "$here/lib.sh"

register() {  # port email → "id token"
  curl -sf -H 'Content-Type: application/json' -d "{\"email\":\"$2\",\"password\":\"correct horse battery\"}" \
    "http://127.0.0.1:$1/api/v1/auth/register" |
    python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["user"]["id"], j["access_token"])'
}
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

echo "## idle: $connections authenticated WebSockets, one io thread (SQLite)"
BOOKSPACE_SERVER_IO_THREADS=1 start idle all "$binary"
server=${pids[-1]}
read -r _ token < <(register "$port" idle@example.com)
"$load" idle "$port" "$token" 100 < <(sleep 2) >/dev/null  # warm-up: 100 opened, held 2 s, closed
sleep 1
before=$(rss_kib "$server")
mkfifo "$work/hold"
"$load" idle "$port" "$token" "$connections" <"$work/hold" >"$work/idle.out" &
loader=$!
exec 9>"$work/hold"  # the loader holds its sockets until this closes
for _ in $(seq 600); do grep -q '^ready' "$work/idle.out" 2>/dev/null && break; kill -0 $loader 2>/dev/null || break; sleep 0.5; done
grep -q '^ready' "$work/idle.out" || { echo "perf: the idle connections did not open" >&2; exit 1; }
sleep 3
after=$(rss_kib "$server")
open=$(curl -sf "http://127.0.0.1:$port/metrics" | awk '/^bookspace_websocket_open_connections / {print $2}')
exec 9>&-
wait $loader
echo "server RSS: $before KiB idle → $after KiB with $open realtime connections open:" \
  "$(( (after - before) * 1024 / connections )) bytes per connection"
stop_last

fanout() {  # label edit-port socket-port
  local owner id users=20 shared tag=$RANDOM
  read -r _ owner < <(register "$2" "owner-$tag@example.com")
  id=$(curl -sf -H "Authorization: Bearer $owner" -H 'Content-Type: application/json' -d '{"title":"fan-out"}' \
    "http://127.0.0.1:$2/api/v1/documents" | field id)
  : >"$work/tokens-$tag"
  for i in $(seq $users); do
    read -r uid utoken < <(register "$2" "reader-$tag-$i@example.com")
    shared=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $owner" \
      -H 'Content-Type: application/json' -d '{"role":"viewer"}' "http://127.0.0.1:$2/api/v1/documents/$id/shares/$uid")
    [ "$shared" = 200 ] || { echo "perf: share answered $shared" >&2; exit 1; }
    echo "$utoken" >>"$work/tokens-$tag"
  done
  echo "### $1: $subscribers subscribers over $users readers, $rounds updates"
  "$load" fanout "$3" "$work/tokens-$tag" "$id" "$subscribers" "$rounds" "$2" "$owner"
}

echo
echo "## fan-out"
start fan all "$binary"
fanout "SQLite, same instance" "$port" "$port"
stop_last
if [ -n "${PG_URL:-}" ]; then
  command -v psql >/dev/null || { echo "perf: psql missing" >&2; exit 1; }
  pgdb=bookspace_realtime_bench_$$
  psql -X -q "$PG_URL" -c "CREATE DATABASE $pgdb" >/dev/null
  trap 'exec 9>&- 2>/dev/null || true; for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; psql -X -q "$PG_URL" -c "DROP DATABASE IF EXISTS $pgdb" >/dev/null 2>&1 || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
  url="${PG_URL%/*}/$pgdb"
  start pg1 all "$binary" --database "$url"
  one=$port
  start pg2 all "$binary" --database "$url"
  two=$port
  fanout "PostgreSQL, same instance" "$one" "$one"
  fanout "PostgreSQL, from another instance" "$one" "$two"
fi
