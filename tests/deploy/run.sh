#!/usr/bin/env bash
# Deployment tests (issue 14), loopback only, bounded time; run by ctest (make test):
#   tests/deploy/run.sh tls BINARY      one process behind docker/nginx/tls.conf (HTTPS, a test CA)
#   tests/deploy/run.sh single BINARY   one process, embedded (SQLite, local disk)
#   tests/deploy/run.sh scale BINARY    three instances on PostgreSQL behind nginx with
#                                       docker/nginx/scale.conf, round-robin, blobs in S3
#                                       (Swift's s3api): no shared volume
#   tests/deploy/run.sh split BINARY    process A (auth, users, documents) and process B (files,
#                                       search, jobs, realtime, with auth's and documents'
#                                       stand-ins) on PostgreSQL behind nginx with
#                                       docker/nginx/split.conf, routing by path prefix
# The same client flow (tests/deploy/flow.py) passes unchanged against each; `scale` also runs
# the cross-instance checks (tests/deploy/cross.py). PostgreSQL comes from BOOKSPACE_TEST_PG
# (make test starts a cluster); without it, `scale` is skipped (exit 77).
set -euo pipefail
mode=$1
binary=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
pids=()
pgdb=""
s3dir=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -z "$s3dir" ] || "$here/../support/s3-server.sh" stop "$s3dir" || true
  [ -z "$pgdb" ] || psql -X -q "$BOOKSPACE_TEST_PG" -c "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"  # no config/bookspace.jsonc here
export BOOKSPACE_AUTH_REGISTER_PER_IP_PER_MINUTE=1000 BOOKSPACE_AUTH_LOGIN_PER_IP_PER_MINUTE=1000 \
  BOOKSPACE_AUTH_REFRESH_REUSE_GRACE_MS=0 BOOKSPACE_JOBS_POLL_INTERVAL_MS=200
# One deployment: instances share the signing key, the file-link key and the blob directory.
key() { head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '='; }
BOOKSPACE_AUTH_SIGNING_KEY=$(key) BOOKSPACE_FILES_LINK_KEY=$(key) BOOKSPACE_FILES_STORAGE_DIR=$work/blobs
export BOOKSPACE_AUTH_SIGNING_KEY BOOKSPACE_FILES_LINK_KEY BOOKSPACE_FILES_STORAGE_DIR

start() {  # name args... → $port
  local name=$1
  shift
  "$binary" serve --listen 127.0.0.1:0 --data-dir "$work/$name" "$@" 2>"$work/$name.log" &
  pids+=($!)
  port=""
  for _ in $(seq 300); do
    port=$(grep -o '"msg":"listening".*"port":[0-9]*' "$work/$name.log" 2>/dev/null | grep -o '[0-9]*$' || true)
    [ -n "$port" ] && break
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "deploy: $name did not start" >&2; cat "$work/$name.log" >&2; exit 1; }
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
start_nginx() {  # nginx -c $work/nginx.conf in the foreground, its files in $work
  local user=()
  [ "$(id -u)" != 0 ] || user=(-g "user root;")
  nginx -p "$work" -c "$work/nginx.conf" -e "$work/nginx.log" "${user[@]}" \
    -g "daemon off; pid $work/nginx.pid;" 2>>"$work/nginx.log" &
  pids+=($!)
}
show_logs() { for f in "$work"/*.log; do echo "--- $f" >&2; tail -20 "$f" >&2; done; }

case $mode in
  single)
    start single
    python3 "$here/flow.py" "http://127.0.0.1:$port" || { show_logs; exit 1; }
    ;;
  scale | split)
    [ -n "${BOOKSPACE_TEST_PG:-}" ] || { echo "deploy: BOOKSPACE_TEST_PG not set, skipped"; exit 77; }
    command -v nginx >/dev/null || { echo "deploy: nginx missing (docker/install-deps.sh test)" >&2; exit 1; }
    pgdb=bookspace_deploy_$$
    psql -X -q "$BOOKSPACE_TEST_PG" -c "CREATE DATABASE $pgdb" >/dev/null
    url="${BOOKSPACE_TEST_PG%/*}/$pgdb"
    listen=$(free_port)
    # This repository's nginx configuration with the processes on loopback ports, nginx's files
    # in $work.
    nginx_conf=(-e "s|listen 8080;|listen 127.0.0.1:$listen;|"
                -e "s|include /etc/nginx/bookspace/proxy.conf;|include $root/docker/nginx/proxy.conf;|"
                -e "s|worker_processes auto;|worker_processes 1;|"
                -e "s|worker_connections 16384;|worker_connections 1024;|")
    ports=()
    if [ "$mode" = scale ]; then
      # No shared volume: blobs in a real S3 server (tests/support/s3-server.sh), each instance
      # with a data directory of its own.
      endpoint=$("$here/../support/s3-server.sh" start "$work/s3")
      s3dir="$work/s3"
      /usr/bin/python3 -c "import boto3, sys; boto3.client('s3', endpoint_url=sys.argv[1], aws_access_key_id='test:tester', aws_secret_access_key='testing', region_name='us-east-1').create_bucket(Bucket='bookspace')" "$endpoint"
      unset BOOKSPACE_FILES_STORAGE_DIR
      export BOOKSPACE_FILES_STORAGE=s3 BOOKSPACE_FILES_S3_ENDPOINT=$endpoint BOOKSPACE_FILES_S3_BUCKET=bookspace \
        BOOKSPACE_FILES_S3_ACCESS_KEY_ID=test:tester BOOKSPACE_FILES_S3_SECRET_ACCESS_KEY=testing
      for i in 1 2 3; do
        start "i$i" --database "$url"
        ports+=("$port")
      done
      sed "${nginx_conf[@]}" \
          -e "s|server bookspace1:8080;|server 127.0.0.1:${ports[0]};|" \
          -e "s|server bookspace2:8080;|server 127.0.0.1:${ports[1]};|" \
          -e "s|server bookspace3:8080;|server 127.0.0.1:${ports[2]};|" \
          "$root/docker/nginx/scale.conf" >"$work/nginx.conf"
    else
      # The processes call each other's internal routes with this key (cluster.service_key).
      BOOKSPACE_CLUSTER_SERVICE_KEY=$(key)$(key)
      export BOOKSPACE_CLUSTER_SERVICE_KEY
      start a --database "$url" --modules auth,users,documents
      ports+=("$port")
      BOOKSPACE_AUTH_JWKS_URL="http://127.0.0.1:${ports[0]}/.well-known/jwks.json" \
      BOOKSPACE_DOCUMENTS_REMOTE_URL="http://127.0.0.1:${ports[0]}" \
        start b --database "$url" --modules files,search,jobs,realtime
      ports+=("$port")
      sed "${nginx_conf[@]}" \
          -e "s|server bookspace-a:8080;|server 127.0.0.1:${ports[0]};|" \
          -e "s|server bookspace-b:8080;|server 127.0.0.1:${ports[1]};|" \
          "$root/docker/nginx/split.conf" >"$work/nginx.conf"
    fi
    start_nginx
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$listen/healthz" >/dev/null && break; sleep 0.1; done
    python3 "$here/flow.py" "http://127.0.0.1:$listen" || { show_logs; exit 1; }
    if [ "$mode" = scale ]; then
      python3 "$here/cross.py" "http://127.0.0.1:${ports[0]}" "http://127.0.0.1:${ports[1]}" \
        "http://127.0.0.1:${ports[2]}" || { show_logs; exit 1; }
    else
      python3 "$here/split.py" "http://127.0.0.1:$listen" "http://127.0.0.1:${ports[0]}" \
        "http://127.0.0.1:${ports[1]}" || { show_logs; exit 1; }
    fi
    ;;
  tls)
    # docker/nginx/tls.conf as it is, with a certificate of a test CA and loopback ports.
    command -v nginx >/dev/null || { echo "deploy: nginx missing (docker/install-deps.sh test)" >&2; exit 1; }
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=BookSpace test CA" \
      -keyout "$work/ca.key" -out "$work/ca.pem" >/dev/null 2>&1
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$work/privkey.pem" \
      -out "$work/server.csr" >/dev/null 2>&1
    printf 'subjectAltName=IP:127.0.0.1\n' >"$work/san.ext"
    openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
      -days 2 -extfile "$work/san.ext" -out "$work/fullchain.pem" >/dev/null 2>&1
    BOOKSPACE_SERVER_TRUSTED_PROXIES=127.0.0.1/32 start single
    https=$(free_port) plain=$(free_port)
    sed -e "s|listen 80;|listen 127.0.0.1:$plain;|" -e "s|listen 443 ssl;|listen 127.0.0.1:$https ssl;|" \
        -e "s|/etc/nginx/tls/|$work/|g" -e "s|server bookspace:8080;|server 127.0.0.1:$port;|" \
        -e "s|include /etc/nginx/bookspace/proxy.conf;|include $root/docker/nginx/proxy.conf;|" \
        -e "s|worker_processes auto;|worker_processes 1;|" -e "s|worker_connections 16384;|worker_connections 1024;|" \
        "$root/docker/nginx/tls.conf" >"$work/nginx.conf"
    start_nginx
    base="https://127.0.0.1:$https"
    for _ in $(seq 100); do curl -sf --cacert "$work/ca.pem" "$base/healthz" >/dev/null && break; sleep 0.1; done
    BOOKSPACE_TEST_CA="$work/ca.pem" python3 "$here/flow.py" "$base" || { show_logs; exit 1; }
    redirect=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$plain/healthz")
    [ "$redirect" = "308 https://127.0.0.1/healthz" ] || { echo "deploy tls: port 80 answered $redirect" >&2; exit 1; }
    hsts=$(curl -s -D - -o /dev/null --cacert "$work/ca.pem" "$base/healthz" | grep -ci '^strict-transport-security')
    [ "$hsts" = 1 ] || { echo "deploy tls: no Strict-Transport-Security" >&2; exit 1; }
    metrics=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$work/ca.pem" "$base/metrics")
    [ "$metrics" = 403 ] || { echo "deploy tls: /metrics from outside answered $metrics, not 403" >&2; exit 1; }
    echo "deploy tls: the client flow over HTTPS through docker/nginx/tls.conf; 80 redirects; HSTS; /metrics private"
    ;;
  *)
    echo "usage: tests/deploy/run.sh single|scale|split|tls BINARY" >&2
    exit 2
    ;;
esac
