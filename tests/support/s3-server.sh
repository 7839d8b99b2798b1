#!/usr/bin/env bash
# A real S3 server for tests: OpenStack Swift with its s3api middleware (Debian 12's packages),
# its account, container, object and proxy servers on loopback, data in DIR.
#   tests/support/s3-server.sh start DIR   → prints the endpoint (http://127.0.0.1:PORT); the
#                                             servers run until `stop DIR`
#   tests/support/s3-server.sh stop DIR
#   tests/support/s3-server.sh stop-proxy|start-proxy DIR   the S3 front alone (fault tests: the
#                                             storage unreachable, then back on the same port)
# Credentials: access key "test:tester", secret "testing", region us-east-1, path-style.
# Ports are free ones picked at start (several tests may run their own servers at once).
set -euo pipefail
cmd=${1:?usage: s3-server.sh start|stop DIR}
dir=$(mkdir -p "${2:?usage: s3-server.sh start|stop DIR}" && cd "$2" && pwd)

stop() {
  if [ -f "$dir/pids" ]; then
    while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$dir/pids"
    for _ in $(seq 50); do
      alive=0
      while read -r pid; do kill -0 "$pid" 2>/dev/null && alive=1; done <"$dir/pids"
      [ $alive = 0 ] && break
      sleep 0.1
    done
    while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done <"$dir/pids"
    rm -f "$dir/pids"
  fi
}

start_proxy() {
  swift-proxy-server "$dir/etc/proxy-server.conf" >>"$dir/run/proxy.log" 2>&1 &
  echo $! >"$dir/proxy.pid"
  echo $! >>"$dir/pids"
  local port
  port=$(sed -n 's/^bind_port = //p' "$dir/etc/proxy-server.conf")
  for _ in $(seq 150); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/healthcheck" 2>/dev/null; then
      echo "http://127.0.0.1:$port"
      return 0
    fi
    sleep 0.1
  done
  echo "s3-server: swift did not start" >&2
  tail -5 "$dir"/run/*.log >&2
  return 1
}

case $cmd in
  stop)
    stop
    exit 0
    ;;
  stop-proxy)
    pid=$(cat "$dir/proxy.pid")
    kill -9 "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    exit 0
    ;;
  start-proxy)
    start_proxy >/dev/null
    exit 0
    ;;
esac
[ "$cmd" = start ] || { echo "usage: s3-server.sh start|stop DIR" >&2; exit 2; }
command -v swift-proxy-server >/dev/null || {
  echo "s3-server: swift missing (docker/install-deps.sh test installs it)" >&2
  exit 1
}
stop
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
mkdir -p "$dir/etc" "$dir/srv/node/d1" "$dir/run"
object=$(free_port) container=$(free_port) account=$(free_port) proxy=$(free_port)
cat >"$dir/etc/swift.conf" <<EOF
[swift-hash]
swift_hash_path_prefix = bookspace-test
swift_hash_path_suffix = bookspace-test
[storage-policy:0]
name = gold
default = yes
EOF
# The three rings, one device each, built in one Python process (swift-ring-builder would start
# nine).
/usr/bin/python3 - "$dir/etc" "$object" "$container" "$account" <<'PY'
import sys
from swift.common.ring import RingBuilder
etc = sys.argv[1]
for name, port in zip(("object", "container", "account"), sys.argv[2:5]):
    b = RingBuilder(10, 1, 1)
    b.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": int(port), "device": "d1", "weight": 1})
    b.rebalance()
    b.get_ring().save(f"{etc}/{name}.ring.gz")
PY
for server in object:$object container:$container account:$account; do
  name=${server%%:*} port=${server##*:}
  cat >"$dir/etc/$name-server.conf" <<EOF
[DEFAULT]
devices = $dir/srv/node
mount_check = false
bind_ip = 127.0.0.1
bind_port = $port
workers = 0
swift_dir = $dir/etc
log_name = $name
log_facility = LOG_LOCAL0
log_level = WARNING
[pipeline:main]
pipeline = $name-server
[app:$name-server]
use = egg:swift#$name
EOF
  [ "$name" = object ] || continue
  # Uploads in tests may be large: no per-object size check beyond Swift's own 5 GiB.
done
cat >"$dir/etc/proxy-server.conf" <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $proxy
workers = 0
swift_dir = $dir/etc
log_level = WARNING
[pipeline:main]
pipeline = catch_errors gatekeeper proxy-logging cache s3api tempauth copy slo dlo proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
[filter:s3api]
use = egg:swift#s3api
location = us-east-1
[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:1
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
EOF
: >"$dir/pids"
for name in object container account; do
  "swift-$name-server" "$dir/etc/$name-server.conf" >"$dir/run/$name.log" 2>&1 &
  echo $! >>"$dir/pids"
done
start_proxy || { stop; exit 1; }
