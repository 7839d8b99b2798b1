#!/usr/bin/env bash
# Beast and Asio stay inside the HTTP kernel (src/http/) and the coroutine glue (src/core/async*):
# everything else — modules above all — sees core::Awaitable and kernel types only, which keeps
# modules transport-agnostic and their translation units cheap to compile. The files named in
# `pending` below still include Asio and are being moved out (issue 22); the list may only
# shrink: a new file that includes Beast or Asio anywhere else fails this check.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
pending=(
  src/app/application.cpp        # io_contexts and their threads
  src/app/application_parts.hpp  # the same
  src/core/boost_impl.cpp        # compiles Asio's and Beast's implementation once
  src/core/database.cpp          # the group commit's wake-up
  src/core/event_log.cpp         # consumers' strands and timers
  modules/files/src/service.cpp  # an upload's read, hash and write awaited together
)
status=0
while read -r file; do
  case "$file" in
    src/http/* | src/core/async*) continue ;;
  esac
  if printf '%s\n' "${pending[@]}" | grep -qx "$file"; then continue; fi
  echo "Beast/Asio outside src/http and src/core/async*: $file"
  grep -n '#include <boost/\(asio\|beast\)' "$file" | head -3
  status=1
done < <(git grep -l '#include <boost/\(asio\|beast\)' -- 'src/*.cpp' 'src/*.hpp' 'modules/*.cpp' 'modules/*.hpp' \
           | grep -v '/tests/')
for file in "${pending[@]}"; do
  git grep -q '#include <boost/\(asio\|beast\)' -- "$file" ||
    { echo "$file no longer includes Beast or Asio: take it off the pending list"; status=1; }
done
[ $status -eq 0 ] && echo "Beast/Asio confined: src/http, src/core/async* (+${#pending[@]} files still pending)"
exit $status
