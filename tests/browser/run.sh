#!/usr/bin/env bash
# The server as a browser meets it, in Debian's Chromium driven by puppeteer-core (npm, into
# ~/.cache/bookspace-tools once): CORS from a page on another origin (cors.mjs), and the /docs
# page's "try it" (docs.mjs).
#   tests/browser/run.sh BINARY
# Exit 77 (skipped) without Chromium or Node.js 18+ (docker/install-deps.sh test installs both).
set -euo pipefail
binary=$(readlink -f "${1:?usage: run.sh BINARY}")
here=$(cd "$(dirname "$0")" && pwd)
chromium=$(command -v chromium || true)
[ -n "$chromium" ] || { echo "browser: skipped, Chromium is missing (docker/install-deps.sh test)" >&2; exit 77; }
source "$here/../support/npm-tool.sh"
npm_tool browser puppeteer-core 25.19.0

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"  # no config/bookspace.jsonc here
# The page's origin: a static server on loopback (its own port, so another origin than the API).
page_port=$(free_port)
mkdir -p site
echo '<!doctype html><title>another origin</title><p>client</p>' >site/index.html
python3 -m http.server "$page_port" --bind 127.0.0.1 --directory site >"$work/site.log" 2>&1 &
pids+=($!)
export BOOKSPACE_SERVER_CORS_ORIGINS="http://127.0.0.1:$page_port"
source "$here/../perf/lib.sh"  # start(): the server on port 0, $port set once it listens
start api all "$binary"
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$page_port/" >/dev/null && break; sleep 0.05; done
export CHROMIUM_PROFILE="$work/profile"
timeout 120 node "$here/cors.mjs" "$chromium" "$tools/node_modules" "http://127.0.0.1:$port" \
  "http://127.0.0.1:$page_port/"
timeout 120 node "$here/docs.mjs" "$chromium" "$tools/node_modules" "http://127.0.0.1:$port"
