#!/usr/bin/env bash
# The Dockerfile's final stage installs only `install-deps.sh runtime`. This check fails when the
# binary loads a shared library that set (with its dependencies) does not provide, so a missing
# runtime package is caught here instead of by a container that cannot start.
set -euo pipefail
bin=${1:?binary}
root=$(cd "$(dirname "$0")/../.." && pwd)
mapfile -t runtime < <("$root/docker/install-deps.sh" --list runtime)
closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
          --no-replaces --no-enhances "${runtime[@]}" | grep -v '^ ' | sed 's/:.*//' | sort -u)
status=0
while read -r lib; do
  real=$(readlink -f "$lib")
  pkg=""
  for candidate in "$lib" "$real" "${real#/usr}" "/usr$real"; do
    pkg=$(dpkg -S "$candidate" 2>/dev/null | head -n1 | cut -d: -f1) && [ -n "$pkg" ] && break
  done
  if [ -z "$pkg" ]; then echo "unowned library: $lib"; status=1; continue; fi
  if ! grep -qx "$pkg" <<<"$closure"; then
    echo "$lib comes from $pkg, which the runtime set of docker/install-deps.sh does not install"
    status=1
  fi
done < <(ldd "$bin" | awk '/=> \// {print $3}')
[ $status -eq 0 ] && echo "runtime libraries of $(basename "$bin"): all provided by install-deps.sh runtime"
exit $status
