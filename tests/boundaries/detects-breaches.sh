#!/usr/bin/env bash
# The boundary check itself catches each kind of breach: the fixture has one of each.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$("$here/check-module-boundaries.sh" "$here/fixture" 2>&1)
rc=$?
status=0
[ $rc -eq 1 ] || { echo "expected exit 1, got $rc"; status=1; }
for expected in "alpha includes private sources of beta" "alpha names table 'beta_items' of module beta" \
                "alpha includes the kernel-private header app/application_parts.hpp"; do
  grep -qF "$expected" <<<"$out" || { echo "not reported: $expected"; status=1; }
done
[ $status -eq 0 ] && echo "the boundary check reports every kind of breach in the fixture" || echo "$out"
exit $status
