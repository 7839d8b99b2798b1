#!/usr/bin/env bash
# Search benchmarks (issue 13) on SQLite (FTS5) or, with PG_URL set, PostgreSQL (a database of
# its own on that server), the real binary in its default configuration:
#   1. seed: DOCS documents over USERS users through the API (Zipf vocabulary of 50,000 words,
#      200 B – 20 KB, a fifth shared), with the search module disabled;
#   2. cold indexing: the server restarted with search enabled; documents/s until the consumer
#      search.index has caught up; the growth of the database files;
#   3. queries through HTTP (with snippets) against the raw engine statement (the same ranked,
#      permission-filtered statement on the same data: Python's sqlite3, or one psql session with
#      \timing on PostgreSQL), alternated,
#      3 rounds of N each: p50/p95/p99 for a rare, a medium and a common term and a 2-term AND.
#   tests/perf/search.sh [BUILD_DIR] [DOCS] [USERS] [N]
#   KEEP=1 keeps the work directory (and the PostgreSQL database); REUSE=<it> runs the queries
#   again on its data (PG_DB=<its database> on PostgreSQL); with SEEDED=1 too, data seeded with
#   search disabled and never indexed are indexed first (DOCS: how many documents they hold).
#   PG_URL=postgresql://postgres@127.0.0.1:55432/postgres tests/perf/search.sh
set -euo pipefail
build=$(cd "${1:-build/release}" && pwd)
docs=${2:-20000}
users=${3:-1000}
n=${4:-200}
binary=$build/src/bookspace
for t in curl python3; do command -v $t >/dev/null || { echo "perf: $t missing" >&2; exit 1; }; done
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d -p "${PERF_DIR:-/var/tmp}")
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
cd "$work"  # no config/bookspace.jsonc here
export BOOKSPACE_AUTH_REGISTER_PER_IP_PER_MINUTE=100000 BOOKSPACE_AUTH_LOGIN_PER_IP_PER_MINUTE=100000
. "$here/lib.sh"
bench=$here/search_bench.py
db=$work/bs/bookspace.db
lag() { curl -sf "http://127.0.0.1:$port/metrics" | awk -F' ' '/^bookspace_event_consumer_lag\{consumer="search.index"\}/ {print $2}'; }
dbargs=()
if [ -n "${PG_URL:-}" ]; then
  command -v psql >/dev/null || { echo "perf: psql missing" >&2; exit 1; }
  pgdb=${PG_DB:-bookspace_search_bench_$$}
  [ -n "${PG_DB:-}" ] || psql -X -q "$PG_URL" -c "CREATE DATABASE $pgdb" >/dev/null
  url="${PG_URL%/*}/$pgdb"
  dbargs=(--database "$url")
  trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; [ -n "${KEEP:-}" ] || { psql -X -q "$PG_URL" -c "DROP DATABASE IF EXISTS $pgdb" >/dev/null 2>&1 || true; rm -rf "$work"; }' EXIT
fi
bytes() {  # SQLite: the database file after a checkpoint (the WAL folded in); PostgreSQL: the database
  if [ -n "${PG_URL:-}" ]; then psql -X -Atq "$url" -c "SELECT pg_database_size(current_database())"; return; fi
  python3 -c "import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute('PRAGMA wal_checkpoint(TRUNCATE)')" "$db"
  du -cb "$db"* | tail -1 | cut -f1
}
raw() {  # term
  if [ -n "${PG_URL:-}" ]; then python3 "$bench" raw-pg "$url" "$work/accounts" "$1" "$n"; return; fi
  python3 "$bench" raw-sqlite "$db" "$work/accounts" "$1" "$n"
}

if [ -n "${REUSE:-}" ]; then
  # The data of an earlier run kept with KEEP=1 (its work directory; PG_DB its database).
  cd /; rm -rf "$work"; work=$REUSE; cd "$work"; db=$work/bs/bookspace.db
fi
if [ -n "${REUSE:-}" ] && [ -z "${SEEDED:-}" ]; then
  # Queries only.
  start bs all "$binary" "${dbargs[@]}"
  python3 "$bench" login "$port" "$work/accounts" $(( users < 100 ? users : 100 ))
else
if [ -z "${REUSE:-}" ]; then
start bs all "$binary" --disable-modules search "${dbargs[@]}"
t0=$(date +%s.%N)
python3 "$bench" seed "$port" "$docs" "$users" 4 "$work/accounts"
t1=$(date +%s.%N)
stop_last
echo "seeded $docs documents in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", b - a}') s ($(awk -v a="$t0" -v b="$t1" -v n="$docs" 'BEGIN {printf "%.0f", n / (b - a)}') documents/s through the API)"
fi  # SEEDED=1 with REUSE: seeded already (DOCS documents), never indexed: from here
before=$(bytes)  # the server is stopped here

start bs all "$binary" "${dbargs[@]}"
t0=$(date +%s.%N)
for _ in $(seq 36000); do
  l=$(lag || true)
  [ "$l" = "0" ] && break
  sleep 0.1
done
t1=$(date +%s.%N)
after=$(bytes)
# PostgreSQL: the statistics and visibility autovacuum would settle shortly, settled now, so the
# queries measure the steady state rather than the minute after a million inserts.
[ -z "${PG_URL:-}" ] || psql -X -q "$url" -c "VACUUM ANALYZE" >/dev/null
echo "cold indexing: $(awk -v a="$t0" -v b="$t1" -v n="$docs" 'BEGIN {printf "%.0f", n / (b - a)}') documents/s; the database grew by $(( (after - before) / 1048576 )) MiB"
# The seed's tokens may have expired (15 minutes) by now: the queries' users log in again.
python3 "$bench" login "$port" "$work/accounts" $(( users < 100 ? users : 100 ))
fi

echo
echo "Median of 3 alternated rounds of $n queries each (every column is its own median)."
echo "| query | HTTP p50 | p95 | p99 | raw engine p50 | p95 | p99 | p95 ratio |"
echo "|---|---|---|---|---|---|---|---|"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
col() { awk -v c="$1" '{print $c}' | median; }
for term in "w20000" "w300" "w0" "w1 w50"; do
  http="" raw=""
  for r in 1 2 3; do
    http+="$(python3 "$bench" query "$port" "$work/accounts" "$term" "$n")"$'\n'
    raw+="$(raw "$term")"$'\n'
  done
  hp50=$(grep . <<<"$http" | col 1) hp95=$(grep . <<<"$http" | col 2) hp99=$(grep . <<<"$http" | col 3)
  rp50=$(grep . <<<"$raw" | col 1) rp95=$(grep . <<<"$raw" | col 2) rp99=$(grep . <<<"$raw" | col 3)
  echo "| \`$term\` | $hp50 ms | $hp95 ms | $hp99 ms | $rp50 ms | $rp95 ms | $rp99 ms | $(awk -v a="$hp95" -v b="$rp95" 'BEGIN {printf "%.2f", a / b}') |"
done
