#!/usr/bin/env bash
# Module boundaries (DESIGN.md §1, STYLE.md 1): a module may include only other modules' public
# headers (<bookspace/<other>/…>), may not include the kernel's private headers (listed in
# src/kernel-private-headers.txt), and may not name another module's tables. Tables are found in
# migrations/<module>/*.sql (CREATE TABLE / CREATE VIRTUAL TABLE). Exit 1 listing every breach.
#   check-module-boundaries.sh [ROOT]   (default: the repository)
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
status=0
[ -d "$root/modules" ] || { echo "no modules yet: nothing to check"; exit 0; }
mapfile -t modules < <(find "$root/modules" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort)

tables_of() {
  cat "$root/migrations/$1"/*.sql 2>/dev/null |
    grep -oiE 'create +(virtual +)?table +(if +not +exists +)?[a-z_][a-z0-9_]*' |
    awk '{print tolower($NF)}' | sort -u
}

mapfile -t private_headers < <(grep -v '^#' "$root/src/kernel-private-headers.txt" 2>/dev/null | grep . || true)

for m in "${modules[@]}"; do
  for header in "${private_headers[@]}"; do
    hits=$(grep -rnFs "#include \"$header\"" "$root/modules/$m" || true)
    if [ -n "$hits" ]; then
      echo "$m includes the kernel-private header $header:"; echo "$hits"; status=1
    fi
  done
  for other in "${modules[@]}"; do
    [ "$m" = "$other" ] && continue
    # Another module's private sources, by any relative or project path.
    hits=$(grep -rnEs "#include *[\"<][^\">]*(modules/)?$other/src/" "$root/modules/$m" || true)
    if [ -n "$hits" ]; then
      echo "$m includes private sources of $other:"; echo "$hits"; status=1
    fi
    while read -r table; do
      [ -n "$table" ] || continue
      hits=$(grep -rnwis -- "$table" "$root/modules/$m/src" "$root/modules/$m/include" || true)
      if [ -n "$hits" ]; then
        echo "$m names table '$table' of module $other:"; echo "$hits"; status=1
      fi
    done < <(tables_of "$other")
  done
done
[ $status -eq 0 ] && echo "module boundaries hold for: ${modules[*]:-none}"
exit $status
