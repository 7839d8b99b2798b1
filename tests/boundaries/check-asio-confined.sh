#!/usr/bin/env bash
# Beast and Asio stay inside the HTTP kernel (src/http/) and the coroutine glue (src/core/async*):
# everything else — modules above all — sees core::Awaitable and kernel types only, which keeps
# modules transport-agnostic and their translation units cheap to compile. A file that includes
# Beast or Asio anywhere else fails this check. (The io threads, the event log's loops, the group
# commit's wait and the upload pipeline use core/async*.)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
status=0
while read -r file; do
  case "$file" in
    src/http/* | src/core/async*) continue ;;
  esac
  echo "Beast/Asio outside src/http and src/core/async*: $file"
  grep -n '#include <boost/\(asio\|beast\)' "$file" | head -3
  status=1
done < <(git grep -l '#include <boost/\(asio\|beast\)' -- 'src/*.cpp' 'src/*.hpp' 'modules/*.cpp' 'modules/*.hpp' \
           | grep -v '/tests/')
[ $status -eq 0 ] && echo "Beast/Asio confined: src/http, src/core/async*"
exit $status
