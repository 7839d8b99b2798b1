#!/usr/bin/env bash
# The restore drill (tests/backup/drill.py) on SQLite and, when BOOKSPACE_TEST_PG is set,
# PostgreSQL (the backup through pg_dump, the restore into a new database with pg_restore).
#   tests/backup/run.sh BINARY
set -euo pipefail
binary=$(readlink -f "${1:?usage: run.sh BINARY}")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
dbs=()
cleanup() {
  for db in "${dbs[@]}"; do
    psql -X -q "$BOOKSPACE_TEST_PG" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"  # no config/bookspace.jsonc here
python3 "$here/drill.py" --binary "$binary" --work "$work/sqlite" \
  --database "sqlite://$work/sqlite/live.db" --restore-database "sqlite://$work/sqlite/restored/bookspace.db"
if [ -n "${BOOKSPACE_TEST_PG:-}" ]; then
  command -v pg_dump >/dev/null || { echo "backup: pg_dump missing (docker/install-deps.sh test)" >&2; exit 1; }
  live=bookspace_drill_$$ restored=bookspace_drill_restored_$$
  dbs=("$live" "$restored")
  for db in "${dbs[@]}"; do psql -X -q "$BOOKSPACE_TEST_PG" -c "CREATE DATABASE $db" >/dev/null; done
  python3 "$here/drill.py" --binary "$binary" --work "$work/pg" \
    --database "${BOOKSPACE_TEST_PG%/*}/$live" --restore-database "${BOOKSPACE_TEST_PG%/*}/$restored"
fi
