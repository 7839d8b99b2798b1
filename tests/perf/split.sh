#!/usr/bin/env bash
# What the split costs (issue 14), PostgreSQL, default configuration (access log on), loopback:
# one process with every module against process B of the split (files… with auth's and
# documents' stand-ins, A on the same machine), same run, alternated, ROUNDS rounds, medians.
#   - GET /api/v1/files/{id} by a viewer of the file's document: the files module asks
#     documents::Access — in one process a query, in B an HTTP call to A's internal route;
#   - GET /api/v1/files/usage: a verified token only (B's stand-in verifies A's tokens itself);
#   - /healthz of each, the reference of the run.
#   PG_URL=postgresql://postgres@127.0.0.1:55432/postgres tests/perf/split.sh [BUILD_DIR] [ROUNDS] [DURATION_S]
set -euo pipefail
build=${1:-build/release}
rounds=${2:-3}
duration=${3:-5}
binary=$(readlink -f "$build/src/bookspace")
here=$(cd "$(dirname "$0")" && pwd)
: "${PG_URL:?PG_URL=postgresql://… (a server this script may create databases on)}"
for t in wrk curl psql; do command -v $t >/dev/null || { echo "perf: $t missing" >&2; exit 1; }; done
work=$(mktemp -d -p "${PERF_DIR:-/var/tmp}")
pids=()
dbs=(bookspace_split_one_$$ bookspace_split_ab_$$)
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  for d in "${dbs[@]}"; do psql -X -q "$PG_URL" -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1 || true; done
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
source "$here/lib.sh"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for d in "${dbs[@]}"; do psql -X -q "$PG_URL" -c "CREATE DATABASE $d" >/dev/null; done
export BOOKSPACE_AUTH_REGISTER_PER_IP_PER_MINUTE=1000
key() { head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '='; }

start one all "$binary" --database "${PG_URL%/*}/${dbs[0]}"
one=http://127.0.0.1:$port
export BOOKSPACE_CLUSTER_SERVICE_KEY=$(key)$(key)
start a all "$binary" --database "${PG_URL%/*}/${dbs[1]}" --modules auth,users,documents
a=http://127.0.0.1:$port
BOOKSPACE_AUTH_JWKS_URL=$a/.well-known/jwks.json BOOKSPACE_DOCUMENTS_REMOTE_URL=$a \
  start b all "$binary" --database "${PG_URL%/*}/${dbs[1]}" --modules files,search,jobs,realtime
b=http://127.0.0.1:$port

# In each deployment: an owner's document shared with a viewer, a file attached to it.
setup() {  # auth_base files_base → "viewer_token file_id"
  local owner viewer viewer_id doc file
  owner=$(curl -sf -H 'Content-Type: application/json' -d "{\"email\":\"owner$RANDOM@example.com\",\"password\":\"correct horse battery\"}" "$1/api/v1/auth/register")
  viewer=$(curl -sf -H 'Content-Type: application/json' -d "{\"email\":\"viewer$RANDOM@example.com\",\"password\":\"correct horse battery\"}" "$1/api/v1/auth/register")
  viewer_id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["user"]["id"])' <<<"$viewer")
  local ot; ot=$(field access_token <<<"$owner")
  doc=$(curl -sf -H "Authorization: Bearer $ot" -H 'Content-Type: application/json' -d '{"title":"bench"}' "$1/api/v1/documents" | field id)
  curl -sf -o /dev/null -X PUT -H "Authorization: Bearer $ot" -H 'Content-Type: application/json' -d '{"role":"viewer"}' "$1/api/v1/documents/$doc/shares/$viewer_id"
  file=$(curl -sf -H "Authorization: Bearer $ot" -H 'Content-Type: text/plain' --data-binary 'hello' "$2/api/v1/files?name=a.txt&document_id=$doc" | field id)
  echo "$(field access_token <<<"$viewer") $file"
}
read -r one_token one_file < <(setup "$one" "$one")
read -r b_token b_file < <(setup "$a" "$b")

run() {  # url token → requests/s
  wrk -t2 -c16 -d"${duration}s" --latency -H "Authorization: Bearer $2" "$1" | rps_of
}
declare -A all
for r in $(seq "$rounds"); do
  for target in one b; do
    base=${!target}
    token_var=${target}_token file_var=${target}_file
    all[$target.healthz]+="$(run "$base/healthz" "${!token_var}") "
    all[$target.file]+="$(run "$base/api/v1/files/${!file_var}" "${!token_var}") "
    all[$target.usage]+="$(run "$base/api/v1/files/usage" "${!token_var}") "
  done
done
med() { tr ' ' '\n' <<<"${all[$1]}" | grep . | median; }
echo "## One process against B of the split (PostgreSQL, wrk -t2 -c16 -d${duration}s, median of $rounds alternated rounds)"
echo "| request | one process req/s | ÷ its /healthz | split B req/s | ÷ its /healthz | B ÷ one |"
echo "|---|---|---|---|---|---|"
for what in healthz usage file; do
  o=$(med one.$what) s=$(med b.$what)
  echo "| $what | $o | $(awk -v a="$o" -v b="$(med one.healthz)" 'BEGIN {printf "%.2f", a / b}') | $s | $(awk -v a="$s" -v b="$(med b.healthz)" 'BEGIN {printf "%.2f", a / b}') | $(awk -v a="$s" -v b="$o" 'BEGIN {printf "%.2f", a / b}') |"
done
grep -c '"status":5' "$work/b.log" | sed 's/^/B 5xx responses: /'
