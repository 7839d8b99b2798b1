#!/usr/bin/env bash
# Mail over STARTTLS to a real SMTP server (aiosmtpd, Debian's python3-aiosmtpd) whose
# certificate a private CA signed, on SQLite and, with BOOKSPACE_TEST_PG, PostgreSQL:
#   - with mail.smtp_ca_file the password-reset mail arrives and its token works;
#   - without it (verification on) the certificate is refused: the mail is not sent, and the
#     job that carries it is retried (bookspace_mail_retried_total), never silently dropped;
#   - a server that is down when the mail is asked for gets it once it is back.
#   tests/mail/starttls.sh BINARY
set -euo pipefail
binary=$(readlink -f "${1:?usage: starttls.sh BINARY}")
here=$(cd "$(dirname "$0")" && pwd)
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || {
  echo "mail: skipped, python3-aiosmtpd is missing (docker/install-deps.sh test)" >&2; exit 77; }
work=$(mktemp -d)
pids=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true
  [ -z "${pgdb:-}" ] || psql -X -q "$BOOKSPACE_TEST_PG" -c "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"  # no config/bookspace.jsonc here
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
fail() { echo "mail: $*" >&2; for f in "$work"/*.log; do echo "== $f" >&2; tail -20 "$f" >&2; done; exit 1; }

# A private CA and a server certificate for 127.0.0.1 signed by it.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=BookSpace test CA" \
  -keyout ca.key -out ca.pem >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\n' >san.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext \
  -out server.pem >/dev/null 2>&1

smtp_start() {  # port dir
  mkdir -p "$2"
  /usr/bin/python3 "$here/smtp_server.py" "$1" server.pem server.key "$2" >"$work/smtp-$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do grep -q listening "$work/smtp-$1.log" && return 0; sleep 0.05; done
  fail "the SMTP server did not start"
}
export BOOKSPACE_JOBS_BACKOFF_BASE_MS=100 BOOKSPACE_JOBS_BACKOFF_CAP_MS=300 BOOKSPACE_JOBS_POLL_INTERVAL_MS=50
source "$here/../perf/lib.sh"  # start(): the server on port 0, $port set once it listens
api() { curl -s -X POST "http://127.0.0.1:$port/api/v1/$1" -H 'Content-Type: application/json' -d "$2"; }
metric() { curl -sf "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
wait_for() {  # seconds command...
  local until=$((SECONDS + $1)); shift
  until "$@"; do [ $SECONDS -lt $until ] || return 1; sleep 0.1; done
}
have_mail() { ls "$1"/*.eml >/dev/null 2>&1; }
retried() { local n; n=$(metric bookspace_mail_retried_total); [ "${n%.*}" -ge "$1" ] 2>/dev/null; }

run() {  # database-url label
  local url=$1 label=$2
  # 1. A private CA, trusted through mail.smtp_ca_file: the mail arrives; its token works.
  local smtp=$(free_port)
  smtp_start "$smtp" "$work/$label-inbox"
  BOOKSPACE_MAIL_SMTP_URL="smtp://127.0.0.1:$smtp" BOOKSPACE_MAIL_SMTP_CA_FILE="$work/ca.pem" \
    start "$label-trusted" all "$binary" --database "$url"
  api auth/register '{"email":"mail@example.com","password":"correct horse battery"}' >/dev/null
  api auth/password-reset '{"email":"mail@example.com"}' >/dev/null
  wait_for 20 have_mail "$work/$label-inbox" || fail "$label: no mail arrived over STARTTLS with the CA file"
  local token
  token=$(grep -A4 -i "reset token" "$work/$label-inbox"/1.eml | grep -oE "[A-Za-z0-9_-]{20,}" | head -1 || true)
  [ -n "$token" ] || fail "$label: no token in the mail"
  local status
  status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/api/v1/auth/password-reset/confirm" \
    -H 'Content-Type: application/json' -d "{\"token\":\"$token\",\"new_password\":\"another correct horse\"}")
  [ "$status" = 204 ] || fail "$label: the mailed token was refused ($status)"
  stop_last

  # 2. The same server without the CA: the certificate is refused, the job retried (not dropped).
  rm -f "$work/$label-inbox"/*.eml
  BOOKSPACE_MAIL_SMTP_URL="smtp://127.0.0.1:$smtp" start "$label-untrusted" all "$binary" --database "$url"
  api auth/password-reset '{"email":"mail@example.com"}' >/dev/null
  wait_for 20 retried 2 || fail "$label: an untrusted certificate was not retried"
  have_mail "$work/$label-inbox" && fail "$label: mail went to a server whose certificate was not verified"
  stop_last

  # 3. The server down when the mail is asked for: delivered once it is back.
  local later=$(free_port)
  BOOKSPACE_MAIL_SMTP_URL="smtp://127.0.0.1:$later" BOOKSPACE_MAIL_SMTP_CA_FILE="$work/ca.pem" \
    start "$label-down" all "$binary" --database "$url"
  api auth/password-reset '{"email":"mail@example.com"}' >/dev/null
  wait_for 20 retried 1 || fail "$label: a refused connection was not retried"
  smtp_start "$later" "$work/$label-later"
  wait_for 30 have_mail "$work/$label-later" || fail "$label: the mail did not arrive once the server was back"
  stop_last
  echo "mail ($label): STARTTLS with a private CA delivered; untrusted refused and retried; delivered after an outage"
}

run "sqlite://$work/bookspace.db" sqlite
if [ -n "${BOOKSPACE_TEST_PG:-}" ]; then
  pgdb="bookspace_mail_$$"
  psql -X -q "$BOOKSPACE_TEST_PG" -c "CREATE DATABASE $pgdb" >/dev/null
  run "${BOOKSPACE_TEST_PG%/*}/$pgdb" postgresql
fi
