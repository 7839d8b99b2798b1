#!/usr/bin/env bash
# Transfers through BookSpace on S3 against the same transfers straight to the same S3 server
# (OpenStack Swift's s3api on loopback), same run; docs/performance.md, "Storage on S3".
#   tests/perf/s3.sh [BUILD_DIR] [ROUNDS] [SIZES_MIB...]     default: 3 rounds of 10, 100, 1024 MiB
set -euo pipefail
build=${1:-build/release}
rounds=${2:-3}
shift $(( $# >= 2 ? 2 : $# ))
binary=$(readlink -f "$build/src/bookspace")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap '"$here/../support/s3-server.sh" stop "$work/s3" || true; rm -rf "$work"' EXIT
cd "$work"
endpoint=$("$here/../support/s3-server.sh" start "$work/s3")
/usr/bin/python3 "$here/s3_bench.py" "$binary" "$endpoint" "$work" "$rounds" "$@"
