#!/usr/bin/env bash
# Documents benchmarks (issue 4) on SQLite (synchronous=FULL) and, when PG_URL is set, on
# PostgreSQL; 127.0.0.1 only. Seeds 1,000,000 documents across 1,000 owners (the benchmark
# user owns 1,000 of them and 100 more are shared with it), each with its version row,
# member row and a tag, then measures with wrk:
#   1. GET /documents/{id} vs the kernel's DB-read route (probe module), alternated;
#   2. POST /documents (durable: a 201 means the row is on disk);
#   3. PATCH /documents/{id} with If-Match over the user's 1,000 documents;
#   4. GET /documents first page and a deep page (position 1,000) via cursor: p99.
#   tests/perf/documents.sh [BUILD_DIR] [DURATION_S] [DOCUMENTS]
#   PG_URL=postgresql://postgres@127.0.0.1:55433/postgres tests/perf/documents.sh …
set -euo pipefail
build=$(cd "${1:-build/release}" && pwd)
duration=${2:-10}
total=${3:-1000000}
bin=$build/src/bookspace
testd=$build/tests/bookspace-testd
for b in "$bin" "$testd"; do [ -x "$b" ] || { echo "perf: $b not built" >&2; exit 1; }; done
for t in wrk sqlite3 curl; do command -v $t >/dev/null || { echo "perf: $t missing (docker/install-deps.sh test)" >&2; exit 1; }; done
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
cd "$work"  # no config/bookspace.jsonc here
# The default configuration (access log on, to the log file), as a user runs it.
export BOOKSPACE_AUTH_REGISTER_PER_IP_PER_MINUTE=1000

. "$here/lib.sh"
row() {  # label wrk-output
  local bad
  bad=$(non2xx_of <<<"$2")
  echo "| $1 | $(rps_of <<<"$2") | $(p_of 50% <<<"$2") | $(p_of 99% <<<"$2") | $bad |"
}

# The seed, as one INSERT … SELECT per table over a generated sequence. Document i belongs to
# owner (i % 1000); owner 0 is the benchmark user; every 10,000th document of the others is
# shared with it. updated_at grows with i.
seed_sql() {  # dialect user-id
  local seq
  if [ "$1" = sqlite ]; then
    seq="WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < $((total - 1)))"
    from="FROM s"
    hex="printf('%012x', i)"
  else
    seq=""
    from="FROM generate_series(0, $((total - 1))) AS s(i)"
    hex="lpad(to_hex(i), 12, '0')"
  fi
  local id="'0190aaaa-0000-7000-8000-' || $hex"
  local owner="CASE WHEN i % 1000 = 0 THEN '$2' ELSE 'seed-user-' || (i % 1000) END"
  local t="1700000000000 + i * 10"
  cat <<SQL
BEGIN;
$seq INSERT INTO documents_documents (id, owner_id, title, content, tags, version, created_at, updated_at)
  SELECT $id, $owner, 'Document ' || i, 'Seeded content of document ' || i || '. Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.', '["tag' || (i % 50) || '"]', 1, $t, $t $from;
$seq INSERT INTO documents_versions (document_id, version, title, content, tags, author_id, created_at)
  SELECT $id, 1, 'Document ' || i, 'Seeded content of document ' || i || '.', '["tag' || (i % 50) || '"]', $owner, $t $from;
$seq INSERT INTO documents_members (document_id, user_id, role, owned, created_at, updated_at, title_key, trashed)
  SELECT $id, $owner, 'owner', 1, $t, $t, 'document ' || i, 0 $from;
$seq INSERT INTO documents_members (document_id, user_id, role, owned, created_at, updated_at, title_key, trashed)
  SELECT $id, '$2', 'viewer', 0, $t, $t, 'document ' || i, 0 $from WHERE i % 10000 = 1;
$seq INSERT INTO documents_tags (document_id, tag) SELECT $id, 'tag' || (i % 50) $from;
COMMIT;
ANALYZE;
SQL
}

lua_list() {  # file: GET with a bearer token
  cat >"$1" <<LUA
wrk.headers["Authorization"] = "Bearer $token"
LUA
}

bench() {  # dialect database-url
  local dialect=$1 url=$2
  echo
  echo "## $dialect, $total documents"
  start "docs-$dialect" all "$bin" --io-threads 1 --modules auth,documents --database "$url"
  local base=http://127.0.0.1:$port
  local reg
  reg=$(curl -sf -H 'Content-Type: application/json' -d '{"email":"bench@example.com","password":"benchmark passphrase 42"}' "$base/api/v1/auth/register")
  token=$(field access_token <<<"$reg")
  local user
  user=$(sed 's/.*"user":{"id":"\([^"]*\)".*/\1/' <<<"$reg")
  stop_last
  local t0=$SECONDS
  if [ "$dialect" = sqlite ]; then
    seed_sql sqlite "$user" | sqlite3 "$work/docs-sqlite/bookspace.db"
  else
    seed_sql postgresql "$user" | psql -q -v ON_ERROR_STOP=1 "$url" >/dev/null
  fi
  echo "seeded in $((SECONDS - t0)) s"
  start "docs-$dialect" all "$bin" --io-threads 1 --modules auth,documents --database "$url"
  base=http://127.0.0.1:$port
  local auth="Authorization: Bearer $token"
  local one
  one=$(curl -sf -H "$auth" "$base/api/v1/documents?limit=1" | sed 's/.*"items":\[{"id":"\([^"]*\)".*/\1/')

  echo "| request (wrk -t1 -c32 unless noted, ${duration}s) | req/s | p50 | p99 | non-2xx |"
  echo "|---|---|---|---|---|"
  if [ "$dialect" = sqlite ]; then
    start probe all "$testd" --io-threads 1 --modules probe
    local probe_base=http://127.0.0.1:$port
    local note
    note=$(curl -sf -H 'Content-Type: application/json' -d '{"text":"benchmark note"}' "$probe_base/api/v1/probe/notes" | field id)
    for round in 1 2 3; do
      row "kernel DB-read route GET /probe/notes/{id} (round $round)" "$(wrk -t1 -c32 -d"${duration}s" --latency "$probe_base/api/v1/probe/notes/$note")"
      row "GET /documents/{id} (round $round)" "$(wrk -t1 -c32 -d"${duration}s" --latency -H "$auth" "$base/api/v1/documents/$one")"
    done
    stop_last
  else
    row "GET /documents/{id}" "$(wrk -t1 -c32 -d"${duration}s" --latency -H "$auth" "$base/api/v1/documents/$one")"
  fi

  # Lists: latency of one client (p99 is the target), then throughput with 32.
  row "GET /documents?limit=20 (first page, 32 clients)" "$(wrk -t1 -c32 -d"${duration}s" --latency -H "$auth" "$base/api/v1/documents?limit=20")"
  row "GET /documents?limit=20 (first page, 1 client)" "$(wrk -t1 -c1 -d"${duration}s" --latency -H "$auth" "$base/api/v1/documents?limit=20")"
  local cursor="" path page
  for _ in $(seq 50); do  # 50 pages of 20: position 1,000
    path="/api/v1/documents?limit=20${cursor:+&cursor=$cursor}"
    page=$(curl -sf -H "$auth" "$base$path")
    grep -q '"next_cursor":null' <<<"$page" && break
    cursor=$(sed 's/.*"next_cursor":"\([^"]*\)".*/\1/' <<<"$page")
  done
  row "GET /documents?limit=20&cursor=… (position 1,000, 1 client)" "$(wrk -t1 -c1 -d"${duration}s" --latency -H "$auth" "$base/api/v1/documents?limit=20&cursor=$cursor")"
  row "GET /documents?sort=title&limit=20 (1 client)" "$(wrk -t1 -c1 -d"${duration}s" --latency -H "$auth" "$base/api/v1/documents?sort=title&limit=20")"
  row "GET /documents?tag=tag0&limit=20 (1 client)" "$(wrk -t1 -c1 -d"${duration}s" --latency -H "$auth" "$base/api/v1/documents?tag=tag0&limit=20")"

  # (With a smaller DOCUMENTS than 1M most of these ids do not exist: 404s in non-2xx.)
  # PATCH over the user's 1,000 documents, each request with If-Match: * (the version check
  # and the new version row happen as with a concrete ETag).
  cat >"$work/patch.lua" <<LUA
wrk.method = "PATCH"
wrk.headers["Authorization"] = "Bearer $token"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["If-Match"] = "*"
wrk.body = '{"content":"patched by the benchmark"}'
local n = 0
request = function()
  local i = (math.random(0, 999)) * 1000
  n = n + 1
  return wrk.format(nil, string.format("/api/v1/documents/0190aaaa-0000-7000-8000-%012x", i))
end
LUA
  row "PATCH /documents/{id} If-Match (durable)" "$(wrk -t1 -c32 -d"${duration}s" --latency -s "$work/patch.lua" "$base")"
  cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $token"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"title":"benchmark","content":"created by the benchmark","tags":["bench"]}'
LUA
  row "POST /documents (durable)" "$(wrk -t1 -c32 -d"${duration}s" --latency -s "$work/post.lua" "$base/api/v1/documents")"
  stop_last
}

[ -n "${SKIP_SQLITE:-}" ] || bench sqlite "sqlite://$work/docs-sqlite/bookspace.db"
if [ -n "${PG_URL:-}" ]; then
  db=bookspace_perf_$$
  psql -q "$PG_URL" -c "CREATE DATABASE $db" >/dev/null
  pg=${PG_URL%/*}/$db
  bench postgresql "$pg"
  if [ -n "${KEEP:-}" ]; then echo "kept database $pg"; else psql -q "$PG_URL" -c "DROP DATABASE $db WITH (FORCE)" >/dev/null; fi
fi
