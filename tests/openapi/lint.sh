#!/usr/bin/env bash
# `redocly lint` over the /openapi.json of the real binary, all modules enabled: the document
# must be valid with zero warnings (operationIds, documented problem responses, …).
#   tests/openapi/lint.sh BINARY
# Redocly CLI comes from the npm registry into ~/.cache/bookspace-tools (once). Exit 77 (skipped)
# when this machine has no Node.js 20+.
set -euo pipefail
binary=$(readlink -f "${1:?usage: lint.sh BINARY}")
here=$(cd "$(dirname "$0")" && pwd)
version=2.77.0
tools=${XDG_CACHE_HOME:-$HOME/.cache}/bookspace-tools/redocly-$version
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "openapi lint: skipped, Node.js and npm are missing (docker/install-deps.sh test)" >&2; exit 77
fi
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "openapi lint: skipped, Redocly CLI $version needs Node.js 20+ (have $(node --version))" >&2; exit 77
fi
if [ ! -x "$tools/node_modules/.bin/redocly" ]; then
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --loglevel=error "@redocly/cli@$version" >&2
fi

work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"  # no config/bookspace.jsonc here
source "$here/../perf/lib.sh"  # start(): the server on port 0, $port set once it listens
start lint all "$binary"
curl -sf "http://127.0.0.1:$port/openapi.json" >"$work/openapi.json"

out=$("$tools/node_modules/.bin/redocly" lint --config "$here/redocly.yaml" "$work/openapi.json" 2>&1) || {
  echo "$out"; exit 1; }
if grep -q "You have [0-9]* warning" <<<"$out"; then
  echo "$out"
  echo "openapi lint: warnings are not allowed" >&2
  exit 1
fi
echo "openapi lint: $(grep -c '"operationId"' <<<"$(tr ',' '\n' <"$work/openapi.json")") operations, valid, no warnings"
