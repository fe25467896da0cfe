#!/usr/bin/env bash
# nginx-compare.sh: rempart and nginx side by side, as equivalent caching
# proxies in front of the same origin, on loopback. Invoked by `make bench`.
#
#   1. cached-hit throughput and latency (wrk) for a 1 KiB playlist and a
#      1 MiB segment, with a check that the origin saw no request during the
#      measurement;
#   2. a flash crowd: BURST_N viewers ask for one new segment at the same
#      moment; we count how many requests reached the origin.
#
# Each proxy runs alone on CPU $SERVER_CPU (rempart with GOMAXPROCS=1, nginx
# with one worker); wrk, the burst client and the origin share $LOAD_CPU.
# Prints a markdown table and writes bench/out/results.md (raw outputs in
# bench/out/raw/). Every process started here is stopped on exit, error or
# Ctrl-C, and the whole run is bounded by a watchdog.
#
# Knobs (environment):
#   DUR=10s          wrk duration per test (Ns or Nm)
#   CONNS=64         wrk connections
#   BURST_N=2000     viewers in the flash crowd
#   BURST_DELAY=0.1  seconds the origin takes before answering a new segment
#   PROXIES="rempart nginx"   which proxies to measure (order of the runs)
#   REMPART_BIN=bin/rempart
#   ORIGIN_PORT=18000 REMPART_PORT=18080 REMPART_ADMIN_PORT=18090 NGINX_PORT=18081
#   SERVER_CPU=0 LOAD_CPU=1
#   MAX_SECONDS      watchdog for the whole run (default 4 x DUR + 120 s)
set -euo pipefail
BENCH_TAG=bench
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

cd "$(dirname "${BASH_SOURCE[0]}")/.."   # the repository root

DUR=${DUR:-10s}
CONNS=${CONNS:-64}
BURST_N=${BURST_N:-2000}
BURST_DELAY=${BURST_DELAY:-0.1}
PROXIES=${PROXIES:-rempart nginx}
REMPART_BIN=${REMPART_BIN:-bin/rempart}
ORIGIN_PORT=${ORIGIN_PORT:-18000}
REMPART_PORT=${REMPART_PORT:-18080}
REMPART_ADMIN_PORT=${REMPART_ADMIN_PORT:-18090}
NGINX_PORT=${NGINX_PORT:-18081}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
OUT_DIR=bench/out
HOST=127.0.0.1   # every listener and every request stays on loopback

COMMAND="$(printf '%q ' "$0" "$@")"; COMMAND=${COMMAND% }
ENV_USED="DUR=$DUR CONNS=$CONNS BURST_N=$BURST_N BURST_DELAY=$BURST_DELAY PROXIES=\"$PROXIES\""
PIDS=()               # every background process we started, stopped by cleanup
TMP=""                # config, logs, nginx temp paths
CACHE_DIR=""          # nginx proxy_cache_path, on tmpfs
declare -A R=()       # results: R[proxy|metric]=value
declare -A NOTE=()    # results flagged as not trustworthy: NOTE[proxy|test]=why

die() { log "error: $*"; exit 1; }

# --- lifecycle ---------------------------------------------------------------

# cleanup stops every process we started (by pid), then removes temp files.
cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "$TMP" ]; then   # keep the servers' logs next to the raw results
    mkdir -p "$OUT_DIR/raw"
    cp "$TMP/origin.log" "$TMP/rempart.log" "$TMP/nginx/nginx-error.log" "$OUT_DIR/raw/" 2>/dev/null || true
    rm -rf "$TMP"
  fi
  [ -n "$CACHE_DIR" ] && rm -rf "$CACHE_DIR"
  exit "$rc"
}


# start_watchdog kills this script (and so runs cleanup) if the run overruns.
start_watchdog() {
  local limit=${MAX_SECONDS:-$(( 4 * $(seconds "$DUR") + 120 ))}
  (
    trap 'kill "$sp" 2>/dev/null; exit 0' TERM   # stopped by cleanup: take sleep along
    sleep "$limit" & sp=$!
    wait "$sp"
    log "watchdog: run exceeded ${limit}s, stopping"
    kill -TERM $$
  ) &
  PIDS+=($!)
}

# stop_pid stops one server we started and forgets it.
stop_pid() {
  local pid=$1 p keep=()
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

# --- setup -------------------------------------------------------------------

install_tools() {
  scripts/apt-install.sh nginx-light wrk
  local c
  for c in taskset curl python3 go nginx wrk; do
    command -v "$c" >/dev/null || die "$c not found"
  done
  [ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (proxy on one, load on the other); nproc=$(nproc)"
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  [ "$(ulimit -n)" -ge $(( BURST_N * 2 + 512 )) ] ||
    die "open files limit $(ulimit -n) too low for BURST_N=$BURST_N"
}


check_ports() {
  local p
  for p in "$ORIGIN_PORT" "$REMPART_PORT" "$REMPART_ADMIN_PORT" "$NGINX_PORT"; do
    port_free "$p" || die "port $HOST:$p is in use; set *_PORT to free ports"
  done
}


build_burst() {
  go build -o "$TMP/burst" ./bench/burst || die "build bench/burst"
}

start_origin() {
  taskset -c "$LOAD_CPU" python3 bench/origin.py --listen "$HOST:$ORIGIN_PORT" \
    --burst-delay "$BURST_DELAY" >"$TMP/origin.log" 2>&1 &
  PIDS+=($!)
  wait_http "http://$HOST:$ORIGIN_PORT/_stats" || die "origin did not start: $(cat "$TMP/origin.log")"
}

# origin_count prints how many requests the origin has had for path $1.
origin_count() {
  curl -fsS --max-time 2 "http://$HOST:$ORIGIN_PORT/_stats" |
    python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], 0))' "$1"
}

# start_rempart starts the edge with its quick-start flags and prints its pid.
# start_rempart runs rempart as a plain caching proxy, shield off: wrk's one
# address at tens of thousands of requests/s is a flood to the shield, and
# nginx here has no limits either. bench/siege-compare.sh measures the shield.
start_rempart() {
  [ -x "$REMPART_BIN" ] || die "$REMPART_BIN not found: run make build (or PROXIES=nginx)"
  cat >"$TMP/rempart.yaml" <<EOF
listen: "$HOST:$REMPART_PORT"
admin: {listen: "$HOST:$REMPART_ADMIN_PORT"}
shield: {mode: "off"}
sites:
  - name: bench
    hosts: ["*"]
    origins: [{url: "http://$HOST:$ORIGIN_PORT"}]
EOF
  GOMAXPROCS=1 taskset -c "$SERVER_CPU" "$REMPART_BIN" serve --log-level warn \
    --config "$TMP/rempart.yaml" >"$TMP/rempart.log" 2>&1 &
  PIDS+=($!)
  SERVER_PID=$!
  wait_http "http://$HOST:$REMPART_ADMIN_PORT/readyz" || die "rempart did not start: $(tail -5 "$TMP/rempart.log")"
}

# start_nginx renders bench/nginx/nginx.conf.tmpl into $TMP and starts nginx.
start_nginx() {
  CACHE_DIR=$(mktemp -d /dev/shm/rempart-bench-nginx-cache.XXXXXX)
  mkdir -p "$TMP/nginx"
  sed -e "s|@TMP@|$TMP/nginx|g" -e "s|@CACHE@|$CACHE_DIR|g" \
      -e "s|@LISTEN@|$HOST:$NGINX_PORT|g" -e "s|@ORIGIN@|$HOST:$ORIGIN_PORT|g" \
      -e "s|@BACKLOG@|$(cat /proc/sys/net/core/somaxconn)|g" \
      bench/nginx/nginx.conf.tmpl >"$TMP/nginx/nginx.conf"
  nginx -t -q -p "$TMP/nginx" -e "$TMP/nginx/nginx-error.log" -c "$TMP/nginx/nginx.conf" ||
    die "nginx config test failed"
  taskset -c "$SERVER_CPU" nginx -p "$TMP/nginx" -e "$TMP/nginx/nginx-error.log" \
    -c "$TMP/nginx/nginx.conf" >"$TMP/nginx/stdout.log" 2>&1 &
  PIDS+=($!)
  SERVER_PID=$!
  wait_http "http://$HOST:$NGINX_PORT/live/master.m3u8" || die "nginx did not start: $(tail -5 "$TMP/nginx/nginx-error.log")"
}

# rempart_fetches prints rempart_cache_origin_fetches_total (0 if absent).
rempart_fetches() {
  curl -fsS --max-time 2 "http://$HOST:$REMPART_ADMIN_PORT/metrics" 2>/dev/null |
    awk '/^rempart_cache_origin_fetches_total/ {s += $NF} END {print s + 0}'
}

# --- measurements ------------------------------------------------------------


# alive fails the run when the proxy under test has exited (Ctrl-C reaches
# the servers too: wrk handles SIGINT itself, so the shell goes on).
alive() {
  kill -0 "$SERVER_PID" 2>/dev/null || die "$1 is no longer running (interrupted, or crashed: see $OUT_DIR/raw/)"
}

# warm fetches $1 twice; the second must not reach the origin. Prints the
# cache header the proxy gave (X-Cache-Status for nginx, Age for rempart).
warm() {
  local proxy=$1 url=$2 path=$3 before after hdr
  alive "$proxy"
  curl -fsS -o /dev/null --max-time 10 "$url" || die "$proxy: warm-up $url failed"
  before=$(origin_count "$path")
  hdr=$(curl -fsS -D - -o /dev/null --max-time 10 "$url" | tr -d '\r' |
        grep -iE '^(x-cache-status|age):' | paste -sd' ' -) || true
  after=$(origin_count "$path")
  [ "$before" = "$after" ] || NOTE["$proxy|$4"]="warm-up request was not a hit"
  log "$proxy $path warm-up: second request ${hdr:-without cache header}, origin requests $before -> $after"
}

# hit_test measures cached hits of path $3 through proxy $1 at base URL $2,
# storing req/s, MB/s, p50/p99 (ms) and origin requests during the run.
hit_test() {
  local proxy=$1 base=$2 path=$3 test=$4 raw line c0 c1 t0 t1 secs
  warm "$proxy" "$base$path" "$path" "$test"
  raw="$OUT_DIR/raw/wrk-$proxy-$test.txt"
  secs=$(seconds "$DUR")
  c0=$(origin_count "$path")
  t0=$(server_ticks)
  timeout --foreground $(( secs + 20 )) taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"$DUR" --latency \
    -s bench/wrk-report.lua "$base$path" >"$raw" 2>&1 || die "$proxy: wrk failed: $(tail -3 "$raw")"
  t1=$(server_ticks)
  c1=$(origin_count "$path")
  line=$(grep '^wrk ' "$raw") || die "$proxy: no summary from wrk (see $raw)"
  # shellcheck disable=SC2086  # line is key=value words from wrk-report.lua
  local ${line#wrk }
  R["$proxy|$test.rps"]=$(awk -v n="$requests" -v us="$duration_us" 'BEGIN {printf "%.0f", n / (us / 1e6)}')
  R["$proxy|$test.mbps"]=$(awk -v b="$bytes" -v us="$duration_us" 'BEGIN {printf "%.1f", b / us}')
  R["$proxy|$test.p50"]=$(awk -v u="$p50_us" 'BEGIN {printf "%.2f", u / 1000}')
  R["$proxy|$test.p99"]=$(awk -v u="$p99_us" 'BEGIN {printf "%.2f", u / 1000}')
  R["$proxy|$test.origin"]=$(( c1 - c0 ))
  R["$proxy|$test.cpu"]=$(awk -v t=$(( t1 - t0 )) -v hz="$(getconf CLK_TCK)" -v us="$duration_us" \
    'BEGIN {printf "%.0f", 100 * t / hz / (us / 1e6)}')
  [ "$errors" = 0 ] && [ "$non2xx" = 0 ] || NOTE["$proxy|$test"]="wrk: $errors socket errors, $non2xx non-2xx answers"
  [ "$c1" = "$c0" ] || NOTE["$proxy|$test"]="origin saw $(( c1 - c0 )) requests during the run: not all hits"
  log "$proxy $test: ${R[$proxy|$test.rps]} req/s, ${R[$proxy|$test.mbps]} MB/s," \
      "p50 ${R[$proxy|$test.p50]} ms, p99 ${R[$proxy|$test.p99]} ms, proxy CPU ${R[$proxy|$test.cpu]}%;" \
      "origin requests during the run: $(( c1 - c0 ))"
}

# burst_test sends BURST_N simultaneous requests for a never-seen segment
# through proxy $1 and counts what reached the origin for it.
burst_test() {
  local proxy=$1 base=$2 path raw line
  alive "$proxy"
  path="/burst/$proxy-$(date +%s%N).ts"
  log "$proxy burst: $BURST_N viewers at once on $path ($(date +%s.%N | cut -c1-14))"
  raw="$OUT_DIR/raw/burst-$proxy.txt"
  timeout --foreground 60 taskset -c "$LOAD_CPU" "$TMP/burst" -url "$base$path" -n "$BURST_N" -timeout 45s \
    >"$raw" 2>&1 || die "$proxy: burst failed: $(tail -3 "$raw")"
  sleep 0.5   # let a proxy's late or background fetches reach the origin too
  line=$(grep '^burst ' "$raw") || die "$proxy: no summary from burst (see $raw)"
  local url n ok fail p50_ms p99_ms max_ms wall_ms bytes
  # shellcheck disable=SC2086
  local ${line#burst }
  R["$proxy|burst.origin"]=$(origin_count "$path")
  R["$proxy|burst.ok"]=$ok
  R["$proxy|burst.fail"]=$fail
  R["$proxy|burst.p50"]=$p50_ms
  R["$proxy|burst.p99"]=$p99_ms
  R["$proxy|burst.wall"]=$wall_ms
  log "$proxy burst of $BURST_N on $path: ok=$ok fail=$fail p50 ${p50_ms} ms p99 ${p99_ms} ms;" \
      "origin requests for it: ${R[$proxy|burst.origin]}"
  grep '^  failures' "$raw" >&2 || true
  grep -F "$path" "$TMP/origin.log" >&2 || true   # when each origin request came
}

# measure runs every test through one proxy, then stops it.
measure() {
  local proxy=$1 base f0
  case $proxy in
    rempart) start_rempart; base="http://$HOST:$REMPART_PORT" ;;
    nginx)   start_nginx;   base="http://$HOST:$NGINX_PORT" ;;
    *) die "unknown proxy $proxy (want rempart or nginx)" ;;
  esac
  [ "$proxy" = rempart ] && f0=$(rempart_fetches)
  hit_test "$proxy" "$base" /live/master.m3u8 playlist
  hit_test "$proxy" "$base" /live/seg.ts segment
  burst_test "$proxy" "$base"
  [ "$proxy" = rempart ] && log "rempart_cache_origin_fetches_total grew by $(( $(rempart_fetches) - f0 )) (3 objects expected)"
  stop_pid "$SERVER_PID"
}

# --- report ------------------------------------------------------------------

machine_info() {
  local ng wr rv
  ng=$(nginx -v 2>&1 | sed 's/^nginx version: //')
  wr=$(wrk -v 2>&1 | head -1 | awk '{print $2}')  || true  # wrk -v exits 1
  rv=$("$REMPART_BIN" version 2>/dev/null | head -1 | sed 's/^rempart //') || rv="(not built)"
  cat <<EOF
- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')
- command: \`$ENV_USED $COMMAND\`
- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (work tree has uncommitted changes)')
- machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1), kernel $(uname -r)
- load average before the run: $LOAD_BEFORE; after: $(cut -d' ' -f1-3 /proc/loadavg)
- versions: $(go version | awk '{print $3}'), $ng, wrk $wr, rempart $rv, $(python3 -V 2>&1) (origin)
- pinning: proxy on CPU $SERVER_CPU (rempart GOMAXPROCS=1, nginx worker_processes 1); wrk, burst client and origin on CPU $LOAD_CPU
- wrk: \`wrk -t1 -c$CONNS -d$DUR --latency\`; burst: $BURST_N connections, one request each, released together; origin delay for a new segment ${BURST_DELAY}s
EOF
}

# ratio prints a/b with 2 decimals, or "–" when either is missing or b is 0.
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (a == "" || b == "" || a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || b + 0 == 0) print "–"
    else printf "%.2f", a / b }'
}

# cell prints a result, marked with "!" when its test was flagged.
cell() {
  local v=${R[$1|$2.$3]:-n/a}
  [ -n "${NOTE[$1|$2]:-}" ] && v="$v !"
  printf '%s' "$v"
}

table() {
  local row test metric label
  echo "| test | rempart | nginx | rempart/nginx |"
  echo "|---|---:|---:|---:|"
  while IFS='|' read -r test metric label; do
    printf '| %s | %s | %s | %s |\n' "$label" "$(cell rempart "$test" "$metric")" \
      "$(cell nginx "$test" "$metric")" \
      "$(ratio "${R[rempart|$test.$metric]:-}" "${R[nginx|$test.$metric]:-}")"
  done <<'EOF'
playlist|rps|1 KiB playlist, hit: requests/s (higher is better)
playlist|mbps|1 KiB playlist, hit: MB/s incl. headers
playlist|p50|1 KiB playlist, hit: p50 latency ms
playlist|p99|1 KiB playlist, hit: p99 latency ms
playlist|origin|1 KiB playlist: origin requests during the run (want 0)
playlist|cpu|1 KiB playlist: proxy CPU % of its core (≈100: proxy-bound)
segment|rps|1 MiB segment, hit: requests/s (higher is better)
segment|mbps|1 MiB segment, hit: MB/s incl. headers
segment|p50|1 MiB segment, hit: p50 latency ms
segment|p99|1 MiB segment, hit: p99 latency ms
segment|origin|1 MiB segment: origin requests during the run (want 0)
segment|cpu|1 MiB segment: proxy CPU % of its core (≈100: proxy-bound)
burst|origin|burst: origin requests for the new segment (want 1)
burst|ok|burst: viewers served (200, full body)
burst|fail|burst: viewers failed
burst|p50|burst: p50 time to full segment ms
burst|p99|burst: p99 time to full segment ms
burst|wall|burst: all viewers served after ms
EOF
}

notes() {
  local k
  awk -v l="${LOAD_BEFORE%% *}" 'BEGIN {exit !(l >= 0.5)}' &&
    echo "- machine busy: load average ${LOAD_BEFORE%% *} before the run (want < 0.5); other work shared the CPUs, numbers are noisy"
  for k in "${!NOTE[@]}"; do
    echo "- \`!\` ${k%%|*} ${k#*|}: ${NOTE[$k]}"
  done
}

report() {
  local md="$OUT_DIR/results.md"
  {
    echo "## rempart vs nginx (caching proxy, one core each, loopback)"
    echo
    table
    echo
    echo "MB = 10^6 bytes. Ratio > 1 favours rempart for requests/s and MB/s;"
    echo "for latency and origin requests, lower is better (ratio < 1 favours rempart)."
    echo
    notes
    echo
    machine_info
  } >"$md"
  echo
  cat "$md"
  log "written to $md (raw wrk and burst outputs in $OUT_DIR/raw/)"
}

# --- main --------------------------------------------------------------------

main() {
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
  install_tools
  check_ports
  TMP=$(mktemp -d /tmp/rempart-bench.XXXXXX)
  mkdir -p "$OUT_DIR/raw"
  rm -f "$OUT_DIR"/raw/*.txt
  start_watchdog
  build_burst
  start_origin
  local proxy
  for proxy in $PROXIES; do
    log "measuring $proxy (DUR=$DUR)"
    measure "$proxy"
  done
  report
}

main "$@"
