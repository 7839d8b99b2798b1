#!/usr/bin/env bash
# Blobs in a real S3 server (issue 24): OpenStack Swift with s3api (tests/support/s3-server.sh),
# the real binary, on SQLite and — when BOOKSPACE_TEST_PG is set — PostgreSQL; what BookSpace
# wrote is read back with an independent client (boto3). Faults: a wrong secret, a missing
# bucket, the S3 server stopped mid-upload and restarted mid-download, a kill -9 mid-upload.
#   tests/s3/run.sh BINARY
set -euo pipefail
binary=$(readlink -f "${1:?usage: run.sh BINARY}")
here=$(cd "$(dirname "$0")" && pwd)
support=$(cd "$here/../support" && pwd)
command -v swift-proxy-server >/dev/null || {
  echo "s3: swift missing (docker/install-deps.sh test installs it)" >&2
  exit 1
}
/usr/bin/python3 -c 'import boto3' 2>/dev/null || {
  echo "s3: python3-boto3 missing (docker/install-deps.sh test installs it)" >&2
  exit 1
}
work=$(mktemp -d)
pgdb=""
cleanup() {
  "$support/s3-server.sh" stop "$work/s3" || true
  [ -z "$pgdb" ] || psql -X -q "$BOOKSPACE_TEST_PG" -c "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"  # no config/bookspace.jsonc here
endpoint=$("$support/s3-server.sh" start "$work/s3")
run() {  # label database-url
  /usr/bin/python3 "$here/s3_test.py" --binary "$binary" --endpoint "$endpoint" --s3-dir "$work/s3" \
    --s3-script "$support/s3-server.sh" --database "$2" --work "$work/$1" --bucket "bookspace-$1"
}
mkdir -p "$work/sqlite"
run sqlite "sqlite://$work/sqlite/bookspace.db"
if [ -n "${BOOKSPACE_TEST_PG:-}" ]; then
  pgdb=bookspace_s3_$$
  psql -X -q "$BOOKSPACE_TEST_PG" -c "CREATE DATABASE $pgdb" >/dev/null
  run postgresql "${BOOKSPACE_TEST_PG%/*}/$pgdb"
fi
