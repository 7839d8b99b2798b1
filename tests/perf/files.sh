#!/usr/bin/env bash
# Files benchmarks (issue 12), the real binary in its default configuration (access log on, to
# a file), SQLite (synchronous=FULL), loopback only:
#   1. uploads of 10 MiB and 1 GiB (raw body, curl from a file) against the disk's own
#      `dd … oflag=dsync` rate, same run; peak RSS of the server during the 1 GiB upload;
#   2. downloads of 1 MiB and 100 MiB against nginx (`sendfile on`) serving the very same blob
#      file, alternated, ROUNDS rounds: wrk -c1 (one stream) and, for 1 MiB, -c64;
# Medians of the rounds.
#   tests/perf/files.sh [BUILD_DIR] [ROUNDS] [DURATION_S]
set -euo pipefail
build=${1:-build/release}
rounds=${2:-3}
duration=${3:-5}
binary=$(readlink -f "$build/src/bookspace")
here=$(cd "$(dirname "$0")" && pwd)
for t in wrk nginx curl dd python3; do command -v $t >/dev/null || { echo "perf: $t missing" >&2; exit 1; }; done
work=$(mktemp -d -p "${PERF_DIR:-/var/tmp}")
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
cd "$work"
source "$here/lib.sh"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mb_per_s() { awk -v b="$1" -v s="$2" 'BEGIN {printf "%.0f", b / s / 1048576}'; }

start bookspace all "$binary"
pid=${pids[-1]}
base=http://127.0.0.1:$port
token=$(curl -sf -H 'Content-Type: application/json' \
  -d '{"email":"bench@example.com","password":"correct horse battery staple"}' "$base/api/v1/auth/register" |
  field access_token)
auth="Authorization: Bearer $token"

echo "## Uploads (durable: 201 after fsync and rename; median of $rounds alternated runs)"
echo "| size | BookSpace MB/s | dd oflag=dsync MB/s (1 MiB blocks) | ratio | server peak RSS − idle (MiB) |"
echo "|---|---|---|---|---|"
for mib in 10 1024; do
  head -c $((mib * 1048576)) /dev/urandom >"$work/up.bin"
  sync
  rss_idle=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
  ours_all="" dd_all=""
  for r in $(seq "$rounds"); do
    t=$(curl -sf -o "$work/up.json" -w '%{time_total}' -H "$auth" -H 'Content-Type: application/octet-stream' \
      -X POST -T "$work/up.bin" "$base/api/v1/files?name=up$r.bin")
    dd_out=$(dd if="$work/up.bin" of="$work/dd.bin" bs=1M oflag=dsync 2>&1 | tail -1)
    dd_s=$(echo "$dd_out" | awk -F, '{print $3}' | awk '{print $1}')
    rm -f "$work/dd.bin"
    ours_all+="$(mb_per_s $((mib * 1048576)) "$t") "
    dd_all+="$(mb_per_s $((mib * 1048576)) "$dd_s") "
    # The same content again would be deduplicated: new bytes for the next round.
    printf '%08d' "$r" | dd of="$work/up.bin" bs=8 count=1 conv=notrunc status=none
  done
  hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
  ours=$(tr ' ' '\n' <<<"$ours_all" | grep . | median)
  theirs=$(tr ' ' '\n' <<<"$dd_all" | grep . | median)
  echo "| $mib MiB | $ours | $theirs | $(awk -v a="$ours" -v b="$theirs" 'BEGIN {printf "%.2f", a / b}') | $(((hwm - rss_idle) / 1024)) |"
done
rm -f "$work/up.bin"

# Two blobs to download: 1 MiB and 100 MiB; nginx serves the same files from the blob store.
ids=()
for mib in 1 100; do
  head -c $((mib * 1048576)) /dev/urandom >"$work/d.bin"
  ids+=("$(curl -sf -H "$auth" -X POST -T "$work/d.bin" "$base/api/v1/files?name=d$mib.bin" | field id)")
done
rm -f "$work/d.bin"
nginx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
user root;  # the blob files belong to this user, in a private temporary directory
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  server { listen 127.0.0.1:$nginx_port; root $work/bookspace/blobs; }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
pids+=($!)
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$nginx_port/" && break; sleep 0.1; done
blob_path() {  # file id → path under the blob root
  local sha
  sha=$(curl -sf -H "$auth" "$base/api/v1/files/$1" | field sha256)
  echo "sha256/${sha:0:2}/${sha:2:2}/$sha"
}

declare -A results
for r in $(seq "$rounds"); do
  for i in 0 1; do
    path=$(blob_path "${ids[$i]}")
    for c in 1 64; do
      [ "$i" = 1 ] && [ "$c" = 64 ] && continue
      n=$(wrk -t1 -c$c -d"${duration}s" --latency "http://127.0.0.1:$nginx_port/$path")
      b=$(wrk -t1 -c$c -d"${duration}s" --latency -H "$auth" "$base/api/v1/files/${ids[$i]}/content")
      results["$i-$c-nginx"]+="$(rps_of <<<"$n") "
      results["$i-$c-ours"]+="$(rps_of <<<"$b") "
      results["$i-$c-nginx-p99"]+="$(p99_of <<<"$n") "
      results["$i-$c-ours-p99"]+="$(p99_of <<<"$b") "
    done
  done
done
ms() { sed -E 's/([0-9.]+)us$/\1 0.001/; s/([0-9.]+)ms$/\1 1/; s/([0-9.]+)s$/\1 1000/' | awk '{printf "%.2f\n", $1 * $2}'; }
echo
echo "## Downloads (req/s and p99; median of $rounds alternated rounds of ${duration} s)"
echo "| file | connections | nginx sendfile | BookSpace | ratio | p99 nginx | p99 BookSpace |"
echo "|---|---|---|---|---|---|---|"
for i in 0 1; do
  for c in 1 64; do
    [ "$i" = 1 ] && [ "$c" = 64 ] && continue
    n=$(tr ' ' '\n' <<<"${results["$i-$c-nginx"]}" | grep . | median)
    b=$(tr ' ' '\n' <<<"${results["$i-$c-ours"]}" | grep . | median)
    np=$(tr ' ' '\n' <<<"${results["$i-$c-nginx-p99"]}" | grep . | ms | median)
    bp=$(tr ' ' '\n' <<<"${results["$i-$c-ours-p99"]}" | grep . | ms | median)
    size=$([ "$i" = 0 ] && echo "1 MiB" || echo "100 MiB")
    echo "| $size | $c | $n | $b | $(awk -v a="$b" -v n="$n" 'BEGIN {printf "%.2f", a / n}') | $np ms | $bp ms |"
  done
done
