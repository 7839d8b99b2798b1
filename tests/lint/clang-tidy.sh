#!/usr/bin/env bash
# clang-tidy over every production translation unit (src/, modules/*/src) with the repository's
# .clang-tidy, where every finding is an error (the checks kept, and why: docs/decisions/0013).
# Among them readability-function-size: no function body over 80 lines. Usage: clang-tidy.sh BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: clang-tidy.sh BUILD_DIR}" && pwd)
tidy=$(command -v clang-tidy || command -v clang-tidy-14 || true)
[ -n "$tidy" ] || { echo "clang-tidy is not installed (docker/install-deps.sh test)"; exit 1; }
[ -f "$build/compile_commands.json" ] || { echo "no $build/compile_commands.json"; exit 1; }
cd "$root"
mapfile -t files < <(python3 - "$build/compile_commands.json" <<'PY'
import json, sys
for e in json.load(open(sys.argv[1])):
    f = e["file"]
    if "/tests/" not in f and "/build/" not in f and f.endswith(".cpp"):
        print(f)
PY
)
[ ${#files[@]} -gt 0 ] || { echo "no translation units found"; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# GCC's own warning flags mean nothing to clang; the code is parsed as GCC compiles it otherwise.
status=0
printf '%s\n' "${files[@]}" |
  xargs -P "$(nproc)" -n 4 "$tidy" -p "$build" --quiet --extra-arg=-Wno-unknown-warning-option >"$out" 2>/dev/null ||
  status=$?
if [ $status -ne 0 ] || grep -q 'error:' "$out"; then
  grep -A3 'error:' "$out" | head -200
  echo "clang-tidy: findings in the ${#files[@]} translation units above"
  exit 1
fi
echo "clang-tidy: ${#files[@]} translation units, no finding"
