#!/usr/bin/env bash
# `redocly lint` over the /openapi.json of the real binary, all modules enabled: the document
# must be valid with zero warnings (operationIds, documented problem responses, …).
#   tests/openapi/lint.sh BINARY
# Redocly CLI comes from the npm registry into ~/.cache/bookspace-tools (once). Exit 77 (skipped)
# when this machine has no Node.js 20+.
set -euo pipefail
binary=$(readlink -f "${1:?usage: lint.sh BINARY}")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/npm-tool.sh"
npm_tool "openapi lint" @redocly/cli 2.77.0 20

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
