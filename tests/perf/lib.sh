# Shared by the benchmark scripts (sourced): servers started in $work, tracked in $pids, and
# readers of wrk's output. The caller sets $work and `pids=()` and kills $pids on exit.

start() {  # name pin-spec binary args... ; pin-spec "all" or a taskset core list; sets $port
  local name=$1 pin=$2 binary=$3
  shift 3
  mkdir -p "$work/$name"
  # A restart keeps the earlier run's log (e.g. the seed phase's) beside the new one.
  [ ! -f "$work/$name.log" ] || mv "$work/$name.log" "$work/$name.$(date +%s).log"
  if [ "$pin" = all ]; then
    "$binary" serve --listen 127.0.0.1:0 --data-dir "$work/$name" "$@" 2>"$work/$name.log" &
  else
    taskset -c "$pin" "$binary" serve --listen 127.0.0.1:0 --data-dir "$work/$name" "$@" 2>"$work/$name.log" &
  fi
  pids+=($!)
  port=""
  for _ in $(seq 300); do
    port=$(grep -o '"msg":"listening".*"port":[0-9]*' "$work/$name.log" 2>/dev/null | grep -o '[0-9]*$' || true)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$work/$name.log" >&2; exit 1; }
}
stop_last() { kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'; }

# CPU time (user + system, clock ticks) the processes PID… have used so far, threads included.
cpu_ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
# Server CPU per request in microseconds: ticks used over a run divided by the requests it served.
cpu_us_per_request() {  # ticks requests
  awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0)}'
}

field() { sed "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/"; }
# Registers EMAIL on the server at BASE and prints its access token.
register_user() {  # base email
  curl -sf -H 'Content-Type: application/json' \
    -d "{\"email\":\"$2\",\"password\":\"correct horse battery staple\",\"display_name\":\"Bench\"}" \
    "$1/api/v1/auth/register" | field access_token
}
rps_of() { awk '/Requests\/sec/ {print $2}'; }
p_of() { awk -v p="$1" '$1 == p {print $2}'; }
p99_of() { p_of 99%; }
non2xx_of() { awk '/Non-2xx/ {print $5}' | grep . || echo 0; }
total_of() { awk '/requests in/ {print $1}'; }
