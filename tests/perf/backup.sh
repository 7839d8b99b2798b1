#!/usr/bin/env bash
# Backup and restore time on SQLite (issue 24): DOCUMENTS seeded documents (one version, member
# and tag each, as tests/perf/documents.sh seeds them) and FILES files of FILE_MIB MiB of
# distinct random content uploaded through the server; then `bookspace backup` (while the
# server runs), a second, incremental one, `backup verify`, and `bookspace restore` into a fresh
# data directory. docs/performance.md, "Backups".
#   tests/perf/backup.sh [BUILD_DIR] [DOCUMENTS] [FILES] [FILE_MIB]   default 1000000 1024 10
set -euo pipefail
build=$(cd "${1:-build/release}" && pwd)
total=${2:-1000000}
files=${3:-1024}
file_mib=${4:-10}
bin=$build/src/bookspace
here=$(cd "$(dirname "$0")" && pwd)
work=${WORK:-$(mktemp -d)}
pid=""
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; wait 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
cd "$work"
export BOOKSPACE_AUTH_REGISTER_PER_IP_PER_MINUTE=1000 BOOKSPACE_FILES_QUOTA_BYTES=0
seconds() { python3 -c 'import time; print(time.monotonic())'; }
took() { python3 -c "print(f'{$(seconds) - $1:.1f}')"; }

"$bin" serve --listen 127.0.0.1:0 --data-dir "$work/live" 2>"$work/live.log" &
pid=$!
port=""
for _ in $(seq 300); do
  port=$(grep -o '"msg":"listening".*"port":[0-9]*' "$work/live.log" 2>/dev/null | grep -o '[0-9]*$' || true)
  [ -n "$port" ] && break
  sleep 0.1
done
base=http://127.0.0.1:$port/api/v1
token=$(curl -s -XPOST "$base/auth/register" -H 'Content-Type: application/json' \
  -d '{"email":"backup@example.com","password":"correct horse battery"}' |
  python3 -c 'import sys, json; print(json.load(sys.stdin)["access_token"])')
user=$(curl -s "$base/users/me" -H "Authorization: Bearer $token" | python3 -c 'import sys, json; print(json.load(sys.stdin)["id"])')

echo "seeding $total documents…" >&2
hex="printf('%012x', i)"
id="'0190aaaa-0000-7000-8000-' || $hex"
seq="WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < $((total - 1)))"
sqlite3 "$work/live/bookspace.db" <<SQL
PRAGMA busy_timeout = 60000;
BEGIN;
$seq INSERT INTO documents_documents (id, owner_id, title, content, tags, version, created_at, updated_at)
  SELECT $id, '$user', 'Document ' || i, 'Seeded content of document ' || i || '. Lorem ipsum dolor sit amet, consectetur adipiscing elit.', '["tag' || (i % 50) || '"]', 1, 1700000000000 + i, 1700000000000 + i FROM s;
$seq INSERT INTO documents_versions (document_id, version, title, content, tags, author_id, created_at)
  SELECT $id, 1, 'Document ' || i, 'Seeded content of document ' || i || '.', '["tag' || (i % 50) || '"]', '$user', 1700000000000 + i FROM s;
$seq INSERT INTO documents_members (document_id, user_id, role, owned, created_at, updated_at, title_key, trashed)
  SELECT $id, '$user', 'owner', 1, 1700000000000 + i, 1700000000000 + i, 'document ' || i, 0 FROM s;
$seq INSERT INTO documents_tags (document_id, tag) SELECT $id, 'tag' || (i % 50) FROM s;
COMMIT;
SQL
echo "uploading $files files of $file_mib MiB…" >&2
for i in $(seq "$files"); do
  head -c $((file_mib << 20)) /dev/urandom >"$work/upload.bin"
  curl -sf -o /dev/null -XPOST "$base/files?name=f$i.bin" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/octet-stream' --data-binary @"$work/upload.bin"
done
rm -f "$work/upload.bin"
db_mib=$(( $(stat -c %s "$work/live/bookspace.db") >> 20 ))
blob_mib=$(du -sm "$work/live/blobs" | cut -f1)

t=$(seconds)
"$bin" backup --to "$work/backups" --data-dir "$work/live" >/dev/null
full=$(took "$t")
t=$(seconds)
"$bin" backup --to "$work/backups" --data-dir "$work/live" >/dev/null
incremental=$(took "$t")
t=$(seconds)
"$bin" backup verify "$work/backups" --data-dir "$work/live" >/dev/null
verify=$(took "$t")
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=""
t=$(seconds)
"$bin" restore --from "$work/backups" --data-dir "$work/restored" >/dev/null
restore=$(took "$t")
echo "| documents | files | database | blobs | backup | second backup (incremental) | verify | restore |"
echo "|---|---|---|---|---|---|---|---|"
echo "| $total | $files × $file_mib MiB | $db_mib MiB | $blob_mib MiB | $full s | $incremental s | $verify s | $restore s |"
