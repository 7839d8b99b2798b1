#!/usr/bin/env bash
# tus-js-client (the reference tus client, from the npm registry) resumes interrupted uploads
# against the real binary, on SQLite and, when BOOKSPACE_TEST_PG is set, PostgreSQL.
#   tests/tus/resume.sh BINARY
# tus-js-client is installed once into ~/.cache/bookspace-tools. Exit 77 (skipped) without Node.js 18+.
set -euo pipefail
binary=$(readlink -f "${1:?usage: resume.sh BINARY}")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/npm-tool.sh"
npm_tool "tus resume" tus-js-client 4.3.1
export TUS_MODULES="$tools/node_modules"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"  # no config/bookspace.jsonc here
mkdir -p sqlite
node "$here/resume.mjs" "$(free_port)" "$work/sqlite" "sqlite://$work/sqlite/bookspace.db" "$binary"
if [ -n "${BOOKSPACE_TEST_PG:-}" ]; then
  # A database of its own on the test cluster.
  db="bookspace_tus_$$"
  psql "$BOOKSPACE_TEST_PG" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
  url="${BOOKSPACE_TEST_PG%/*}/$db"
  mkdir -p pg
  status=0
  node "$here/resume.mjs" "$(free_port)" "$work/pg" "$url" "$binary" || status=$?
  psql "$BOOKSPACE_TEST_PG" -qc "DROP DATABASE IF EXISTS $db" >/dev/null || true
  exit $status
fi
