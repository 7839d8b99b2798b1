#!/usr/bin/env bash
# Installs the Debian 12 packages BookSpace needs; only what is missing, so it is cheap to rerun.
# Used by the Makefile (make run / make test), CI and docker/Dockerfile.
#   install-deps.sh build     compiler, CMake, Ninja, ccache and the -dev libraries
#   install-deps.sh runtime   shared libraries only (the Dockerfile's final stage)
#   install-deps.sh test      build + PostgreSQL 15 server, wrk, nginx, Chromium, Swift (make test, benchmarks)
#   install-deps.sh fuzz      build + clang 14 with libFuzzer
#   install-deps.sh --list SET   print the package names of SET, install nothing
set -euo pipefail

runtime=(ca-certificates libsodium23 libmagic1 libpoppler-cpp0v5 libzip4 libsqlite3-0 libpq5 postgresql-client-15
         libsoci-core4.0 libsoci-sqlite3-4.0 libsoci-postgresql4.0
         libboost-json1.81.0 libboost-container1.81.0 libboost-url1.81.0
         libboost-program-options1.81.0 libcurl4 libidn2-0 libunistring2 libssl3)
build=(g++ cmake ninja-build ccache make pkg-config git
       libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-program-options1.81-dev
       libsoci-dev libsqlite3-dev libpq-dev libsodium-dev libcurl4-openssl-dev libssl-dev libidn2-dev libunistring-dev libmagic-dev libpoppler-cpp-dev libzip-dev doctest-dev
       sqlite3 curl)
# chromium: the browser tests (tests/browser, puppeteer-core drives it); prometheus: promtool
# checks /metrics (tests/ops/promtool.sh); python3-aiosmtpd and openssl: a real SMTP server with
# STARTTLS and a private CA (tests/mail); clang-tidy: tests/lint (decision 0013); swift-* (with
# its s3api middleware): a real S3 server, and python3-boto3 an independent S3 client (tests/s3).
test=(postgresql-15 postgresql-client-15 wrk procps nginx chromium prometheus python3-aiosmtpd openssl
      clang-tidy swift swift-proxy swift-object swift-container swift-account python3-boto3)
# The OpenAPI lint runs Redocly CLI from the npm registry: Node.js and npm, unless the machine
# has them already (a newer Node.js than Debian's may be installed outside apt).
if ! command -v npm >/dev/null 2>&1; then test+=(nodejs npm); fi
fuzz=(clang-14 libclang-rt-14-dev)

list_only=false
if [ "${1:-}" = "--list" ]; then list_only=true; shift; fi

wanted=()
for set in "${@:-build}"; do
  case "$set" in
    runtime) wanted+=("${runtime[@]}") ;;
    build) wanted+=("${build[@]}") ;;
    test) wanted+=("${build[@]}" "${test[@]}") ;;
    fuzz) wanted+=("${build[@]}" "${fuzz[@]}") ;;
    *) echo "install-deps.sh: unknown set '$set' (runtime, build, test, fuzz)" >&2; exit 2 ;;
  esac
done

if $list_only; then printf '%s\n' "${wanted[@]}"; exit 0; fi

missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: missing packages: ${missing[*]}" >&2
  echo "install-deps.sh: run as root (or install them with sudo apt-get install)" >&2
  exit 1
fi
echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# The PostgreSQL package would create and start a cluster of its own; tests make their own.
if printf '%s\n' "${missing[@]}" | grep -q '^postgresql-15$'; then
  mkdir -p /etc/postgresql-common
  [ -f /etc/postgresql-common/createcluster.conf ] || echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
fi
apt-get install -y -q --no-install-recommends "${missing[@]}"
