#!/usr/bin/env bash
# Every header compiles on its own (Seastar's checkheaders): the kernel's (src/**/*.hpp) and each
# module's public ones (modules/*/include/**/*.hpp), each as a translation unit of one #include,
# syntax only. A header that leans on what its includer happened to include first fails here.
#   tests/boundaries/check-headers.sh BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: check-headers.sh BUILD_DIR}" && pwd)
cxx=${CXX:-g++}
flags=(-std=c++20 -fsyntax-only -Wall -Wextra -Werror -Wno-missing-field-initializers
       -DBOOST_ASIO_SEPARATE_COMPILATION -DBOOST_BEAST_SEPARATE_COMPILATION -DBOOST_ASIO_NO_DEPRECATED
       '-DBOOKSPACE_VERSION="check"' -I "$root/src" -I "$build/src/generated" -isystem /usr/include/postgresql)
for m in "$root"/modules/*/; do
  flags+=(-I "$m/include")
  [ ! -d "$build/modules/$(basename "$m")/generated" ] || flags+=(-I "$build/modules/$(basename "$m")/generated")
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"
mapfile -t headers < <(git ls-files 'src/*.hpp' 'modules/*/include/*.hpp')
export cxx work
printf '%s\n' "${flags[@]}" >"$work/flags"
check() {  # header
  local tu="$work/$(echo "$1" | tr '/' '_').cpp"
  case "$1" in
    modules/*) echo "#include <${1#modules/*/include/}>" >"$tu" ;;
    *) echo "#include \"${1#src/}\"" >"$tu" ;;
  esac
  mapfile -t f <"$work/flags"
  "$cxx" "${f[@]}" "$tu" 2>"$tu.err" || { echo "not self-contained: $1"; head -5 "$tu.err"; return 1; }
}
export -f check
printf '%s\n' "${headers[@]}" | xargs -P "$(nproc)" -I{} bash -c 'check {}'
echo "headers: ${#headers[@]} compile on their own"
