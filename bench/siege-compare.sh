#!/usr/bin/env bash
# siege-compare.sh: rempart, nginx and Varnish under attack. Each proxy in
# turn stands in front of a fresh synthetic origin (`rempart origin`,
# restarted for every run so its counters and caches start clean) and
# faces each `rempart siege` scenario; the JSON reports are turned into a
# markdown scoreboard by bench/scoreboard.
#
#   - rempart: its quick-start flags (defaults), GOMAXPROCS=1;
#   - nginx: bench/nginx/nginx-siege.conf.tmpl, the anti-DDoS settings of
#     nginx's own documentation (limit_req, limit_conn, timeouts, cache lock);
#   - Varnish: bench/varnish/default.vcl (grace, coalescing, vsthrottle).
#
# The origin counts every request it receives on /_synth/metrics
# (synth_requests_received_total); siege reads that page for every proxy,
# so "origin requests" mean the same thing in every row. Issue 11's
# scenarios (mimic-unknown, mimic-listed) assume a weak origin: for them it
# runs with 2 renditions and the capacity of $WEAK_ORIGIN (~400
# requests/s, the rest refused 503); see origin_flags. Each proxy runs alone on CPU $SERVER_CPU; the origin and siege
# share $LOAD_CPU. Every process started here is stopped on exit, error or
# Ctrl-C, every siege run is bounded, and a watchdog bounds the whole run.
# Reports: bench/out/siege/<proxy>/<scenario>.{json,html,txt}; scoreboard:
# bench/out/siege-scoreboard.md.
#
# Knobs (environment):
#   SCENARIOS="kickoff get-flood cache-bust login-flood slowloris slow-read
#              conn-flood h2-flood botnet-low-and-slow mimic-unknown
#              mimic-listed"   (kickoff is the baseline for "excess origin
#              requests": keep it in the list)
#   WEAK_ORIGIN="--renditions 2 --latency 20ms --max-concurrent 8 --max-queue 20"
#                    the origin's flags for the mimic-* scenarios
#   SCALE=0.5        siege --scale (arrival rates)
#   DUR=30s          siege --duration (the scenario's phases, shrunk)
#   PROXIES="rempart nginx varnish"
#   H2C=1            rempart --h2c and Varnish feature=+http2 (nginx 1.22
#                    cannot share a cleartext port between h1 and h2c)
#   REMPART_BIN      a prebuilt binary (default: built from this tree into
#                    the temp dir, so a rebuild of bin/ mid-run changes nothing)
#   ORIGIN_PORT=18400 REMPART_PORT=18480 REMPART_ADMIN_PORT=18490
#   NGINX_PORT=18481 VARNISH_PORT=18482
#   SERVER_CPU=0 LOAD_CPU=1
#   OUT_DIR=bench/out  (reports in $OUT_DIR/siege/, scoreboard $OUT_DIR/siege-scoreboard.md)
#   MAX_SECONDS      watchdog (default: runs x (DUR + 45 s) + 120 s)
set -euo pipefail
BENCH_TAG=siege-compare
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

cd "$(dirname "${BASH_SOURCE[0]}")/.."   # the repository root

SCENARIOS=${SCENARIOS:-kickoff get-flood cache-bust login-flood slowloris slow-read conn-flood h2-flood botnet-low-and-slow mimic-unknown mimic-listed}
WEAK_ORIGIN=${WEAK_ORIGIN:---renditions 2 --latency 20ms --max-concurrent 8 --max-queue 20}
SCALE=${SCALE:-0.5}
DUR=${DUR:-30s}
PROXIES=${PROXIES:-rempart nginx varnish}
H2C=${H2C:-1}
REMPART_BIN=${REMPART_BIN:-}
ORIGIN_PORT=${ORIGIN_PORT:-18400}
REMPART_PORT=${REMPART_PORT:-18480}
REMPART_ADMIN_PORT=${REMPART_ADMIN_PORT:-18490}
NGINX_PORT=${NGINX_PORT:-18481}
VARNISH_PORT=${VARNISH_PORT:-18482}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
OUT_DIR=${OUT_DIR:-bench/out}
SIEGE_DIR=$OUT_DIR/siege
HOST=127.0.0.1   # every listener and every request stays on loopback
SEGMENT=2s       # the origin's segment duration (bench/varnish/default.vcl's playlist grace assumes it)

COMMAND="$(printf '%q ' "$0" "$@")"; COMMAND=${COMMAND% }
ENV_USED="SCENARIOS=\"$SCENARIOS\" SCALE=$SCALE DUR=$DUR PROXIES=\"$PROXIES\" H2C=$H2C WEAK_ORIGIN=\"$WEAK_ORIGIN\""
[ -n "$REMPART_BIN" ] && ENV_USED+=" REMPART_BIN=$REMPART_BIN"
PIDS=()               # every background process we started, stopped by cleanup
TMP=""                # binaries, configs, logs, nginx temp paths, Varnish work dirs
CACHE_DIR=""          # nginx proxy_cache_path of the current run, on tmpfs
ORIGIN_PID=""
SERVER_PID=""
BIN=""                # the rempart binary under test (in $TMP)
declare -A NOTE=()    # NOTE[proxy|scenario]=what went wrong with the run

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
  [ -n "$TMP" ] && rm -rf "$TMP"
  [ -n "$CACHE_DIR" ] && rm -rf "$CACHE_DIR"
  exit "$rc"
}


# start_watchdog kills this script (and so runs cleanup) if the run overruns.
start_watchdog() {
  local runs limit
  runs=$(( $(wc -w <<<"$SCENARIOS") * $(wc -w <<<"$PROXIES") ))
  limit=${MAX_SECONDS:-$(( runs * ($(seconds "$DUR") + 45) + 120 ))}
  (
    trap 'kill "$sp" 2>/dev/null; exit 0' TERM   # stopped by cleanup: take sleep along
    sleep "$limit" & sp=$!
    wait "$sp"
    log "watchdog: run exceeded ${limit}s, stopping"
    kill -TERM $$
  ) &
  PIDS+=($!)
  log "watchdog: ${limit}s for $runs runs"
}

# stop_pid stops one process we started and forgets it.
stop_pid() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  forget_pid "$pid"
}

# forget_pid drops a process that has ended (and been waited for) from PIDS.
forget_pid() {
  local p keep=()
  for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

# --- setup -------------------------------------------------------------------

install_tools() {
  local c
  scripts/apt-install.sh nginx-light
  command -v varnishd >/dev/null || scripts/apt-install.sh varnish
  dpkg -s varnish-modules >/dev/null 2>&1 || scripts/apt-install.sh varnish-modules   # vmod_vsthrottle
  for c in taskset curl go nginx varnishd; do
    command -v "$c" >/dev/null || die "$c not found"
  done
  ! nginx -V 2>&1 | grep -qE 'without-http_limit_(req|conn)' ||
    die "this nginx lacks limit_req/limit_conn: scripts/apt-install.sh nginx-full"
  [ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (proxy on one, load on the other); nproc=$(nproc)"
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  [ "$(ulimit -n)" -ge 16384 ] || die "open files limit $(ulimit -n) too low for conn-flood (want 16384)"
}


check_ports() {
  local p
  for p in "$ORIGIN_PORT" "$REMPART_PORT" "$REMPART_ADMIN_PORT" "$NGINX_PORT" "$VARNISH_PORT"; do
    port_free "$p" || die "port $HOST:$p is in use; set *_PORT to free ports"
  done
}


# build compiles rempart (unless REMPART_BIN is given) and the scoreboard.
build() {
  if [ -n "$REMPART_BIN" ]; then
    cp "$REMPART_BIN" "$TMP/rempart" || die "cannot copy $REMPART_BIN"
  else
    go build -o "$TMP/rempart" ./cmd/rempart || die "build rempart"
  fi
  BIN=$TMP/rempart
  go build -o "$TMP/scoreboard" ./bench/scoreboard || die "build bench/scoreboard"
}

# --- servers -----------------------------------------------------------------

# origin_flags prints the origin's extra flags for scenario $1: issue 11's
# scenarios are written for a weak origin of 2 renditions.
origin_flags() {
  case $1 in
    mimic-*) echo "$WEAK_ORIGIN" ;;
  esac
}

# start_origin starts a fresh origin for scenario $1.
start_origin() {
  local extra
  read -r -a extra <<<"$(origin_flags "$1")"
  taskset -c "$LOAD_CPU" "$BIN" origin --log-level warn --listen "$HOST:$ORIGIN_PORT" \
    --segment-duration "$SEGMENT" "${extra[@]}" >>"$LOGS/origin.log" 2>&1 &
  PIDS+=($!)
  ORIGIN_PID=$!
  wait_http "http://$HOST:$ORIGIN_PORT/_synth/metrics" || die "origin did not start: $(tail -5 "$LOGS/origin.log")"
}

start_rempart() {
  local h2c=()
  [ "$H2C" = 1 ] && h2c=(--h2c)
  GOMAXPROCS=1 taskset -c "$SERVER_CPU" "$BIN" serve --log-level warn "${h2c[@]}" \
    --listen "$HOST:$REMPART_PORT" --origin "http://$HOST:$ORIGIN_PORT" \
    --admin "$HOST:$REMPART_ADMIN_PORT" >>"$LOGS/rempart.log" 2>&1 &
  PIDS+=($!)
  SERVER_PID=$!
  TARGET="http://$HOST:$REMPART_PORT"
}

# start_nginx renders bench/nginx/nginx-siege.conf.tmpl with a fresh cache.
start_nginx() {
  [ -n "$CACHE_DIR" ] && rm -rf "$CACHE_DIR"
  CACHE_DIR=$(mktemp -d /dev/shm/rempart-siege-nginx-cache.XXXXXX)
  rm -rf "$TMP/nginx"; mkdir -p "$TMP/nginx"
  sed -e "s|@TMP@|$TMP/nginx|g" -e "s|@CACHE@|$CACHE_DIR|g" \
      -e "s|@LISTEN@|$HOST:$NGINX_PORT|g" -e "s|@ORIGIN@|$HOST:$ORIGIN_PORT|g" \
      -e "s|@BACKLOG@|$(cat /proc/sys/net/core/somaxconn)|g" \
      bench/nginx/nginx-siege.conf.tmpl >"$TMP/nginx/nginx.conf"
  nginx -t -q -p "$TMP/nginx" -e "$TMP/nginx/nginx-error.log" -c "$TMP/nginx/nginx.conf" ||
    die "nginx config test failed"
  taskset -c "$SERVER_CPU" nginx -p "$TMP/nginx" -e "$TMP/nginx/nginx-error.log" \
    -c "$TMP/nginx/nginx.conf" >>"$LOGS/nginx.log" 2>&1 &
  PIDS+=($!)
  SERVER_PID=$!
  TARGET="http://$HOST:$NGINX_PORT"
}

# start_varnish runs varnishd in the foreground with its own work dir, the
# VCL of bench/varnish/default.vcl and a thread pool sized for one core.
start_varnish() {
  local feat=()
  [ "$H2C" = 1 ] && feat=(-p feature=+http2)
  rm -rf "$TMP/varnish"; mkdir -p "$TMP/varnish"
  sed -e "s|@ORIGIN_HOST@|$HOST|g" -e "s|@ORIGIN_PORT@|$ORIGIN_PORT|g" \
      bench/varnish/default.vcl >"$TMP/varnish/default.vcl"
  # -j none: no privilege separation (everything stays in our temp dir);
  # -T none: no management port. One pool (one core), threads made ahead
  # for the crowd, capped so that slow readers cannot take the machine.
  taskset -c "$SERVER_CPU" varnishd -F -j none -T none -n "$TMP/varnish/work" \
    -a "$HOST:$VARNISH_PORT" -f "$TMP/varnish/default.vcl" -s malloc,256m \
    -p thread_pools=1 -p thread_pool_min=100 -p thread_pool_max=3000 \
    -p timeout_idle=5 -p idle_send_timeout=10 -p send_timeout=120 "${feat[@]}" \
    >>"$LOGS/varnish.log" 2>&1 &
  PIDS+=($!)
  SERVER_PID=$!
  TARGET="http://$HOST:$VARNISH_PORT"
}

# start_proxy starts proxy $1 and waits until it serves the master playlist.
start_proxy() {
  case $1 in
    rempart) start_rempart ;;
    nginx)   start_nginx ;;
    varnish) start_varnish ;;
    *) die "unknown proxy $1 (want rempart, nginx or varnish)" ;;
  esac
  wait_http "$TARGET/live/master.m3u8" || die "$1 did not start: $(tail -5 "$LOGS/$1.log")"
}


# --- runs --------------------------------------------------------------------

# siege_run runs scenario $2 against proxy $1, then stops both servers.
siege_run() {
  local proxy=$1 sc=$2 out rc sp t0 t1 s0 s1 secs
  out=$SIEGE_DIR/$proxy/$sc
  mkdir -p "$SIEGE_DIR/$proxy"
  rm -f "$out".json "$out".html "$out".txt "$out".cpu "$out".load
  start_origin "$sc"
  start_proxy "$proxy"
  secs=$(seconds "$DUR")
  log "$sc vs $proxy ($TARGET, scale $SCALE, $DUR)"
  t0=$(server_ticks); s0=$(date +%s.%N)
  rc=0
  # In the background and waited for, so that Ctrl-C and the watchdog stop
  # the run at once (bash runs traps only between foreground commands);
  # cleanup's TERM reaches siege through timeout, and siege still writes
  # its reports ("interrupted").
  timeout -k 5 $(( secs + 60 )) taskset -c "$LOAD_CPU" "$BIN" siege \
    --scenario "$sc" --target "$TARGET" --scale "$SCALE" --duration "$DUR" \
    --origin-metrics "http://$HOST:$ORIGIN_PORT/_synth/metrics" \
    --origin-metric synth_requests_received_total \
    --origin-segment-metric 'synth_requests_total{kind="segment"}' \
    --report-json "$out.json" --report-html "$out.html" --progress none >"$out.txt" 2>&1 &
  sp=$!
  PIDS+=("$sp")
  wait "$sp" || rc=$?
  forget_pid "$sp"
  t1=$(server_ticks); s1=$(date +%s.%N)
  awk -v t=$(( t1 - t0 )) -v hz="$(getconf CLK_TCK)" -v a="$s0" -v b="$s1" \
    'BEGIN {printf "%.0f\n", 100 * t / hz / (b - a)}' >"$out.cpu"
  cut -d' ' -f1 /proc/loadavg >"$out.load"   # the machine's 1-minute load at the end of the run
  case $rc in
    0|1) ;;
    124|137) NOTE["$proxy|$sc"]="siege overran its $(( secs + 60 ))s bound and was killed" ;;
    *) NOTE["$proxy|$sc"]="siege exited $rc: $(tail -2 "$out.txt" | tr '\n' ' ')" ;;
  esac
  kill -0 "$SERVER_PID" 2>/dev/null || NOTE["$proxy|$sc"]="$proxy died during the run (see $LOGS/$proxy.log)"
  log "$sc vs $proxy: siege exit $rc, proxy CPU $(cat "$out.cpu")%"
  stop_pid "$SERVER_PID"
  stop_pid "$ORIGIN_PID"
  if [ "$proxy" = nginx ]; then
    cp "$TMP/nginx/nginx-error.log" "$LOGS/nginx-error-$sc.log" 2>/dev/null || true
  fi
}

# --- report ------------------------------------------------------------------

machine_info() {
  local ng vv
  ng=$(nginx -v 2>&1 | sed 's/^nginx version: //')
  vv=$(varnishd -V 2>&1 | head -1 | sed 's/^varnishd (\(varnish-[^ ]*\).*/\1/')
  cat <<EOF
- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')
- command: \`$ENV_USED $COMMAND\`
- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (work tree has uncommitted changes)')$( [ -n "$REMPART_BIN" ] && echo "; rempart and the origin from REMPART_BIN=$REMPART_BIN, not built from this tree" )
- machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1), kernel $(uname -r)
- load average before the run: $LOAD_BEFORE; after: $(cut -d' ' -f1-3 /proc/loadavg)
- versions: $(go version | awk '{print $3}'), rempart $("$BIN" version 2>/dev/null | head -1 | sed 's/^rempart //'), $ng, $vv, varnish-modules $(dpkg-query -W -f='${Version}' varnish-modules 2>/dev/null)
- pinning: proxy on CPU $SERVER_CPU (rempart GOMAXPROCS=1, nginx worker_processes 1, varnishd taskset); origin and siege on CPU $LOAD_CPU
- origin: \`rempart origin --segment-duration $SEGMENT\` (for the mimic scenarios: \`$WEAK_ORIGIN\`), restarted for every run; siege reads \`/_synth/metrics\` (\`synth_requests_received_total\`: every request the origin received) for every proxy
EOF
}

# cpu_table prints, per run, the proxy's CPU use (% of its core; near 100:
# the proxy was the bottleneck) and the machine's 1-minute load average at
# the end of the run (about 2 is siege, origin and proxy busy; much more:
# other work shared the 2 CPUs and the run is suspect).
cpu_table() {
  local sc px line
  printf '| proxy CPU %% of its core / load average at the end |'; for px in $PROXIES; do printf ' %s |' "$px"; done; echo
  printf '|---|'; for px in $PROXIES; do printf -- '---:|'; done; echo
  for sc in $SCENARIOS; do
    line="| $sc |"
    for px in $PROXIES; do
      line+=" $(cat "$SIEGE_DIR/$px/$sc.cpu" 2>/dev/null || echo n/a) % / $(cat "$SIEGE_DIR/$px/$sc.load" 2>/dev/null || echo n/a) |"
    done
    echo "$line"
  done
}

notes() {
  local k
  awk -v l="${LOAD_BEFORE%% *}" 'BEGIN {exit !(l >= 0.5)}' &&
    echo "- machine busy: load average ${LOAD_BEFORE%% *} before the run (want < 0.5); numbers are noisy"
  for k in "${!NOTE[@]}"; do
    echo "- ${k%%|*} / ${k#*|}: ${NOTE[$k]}"
  done
  cat <<EOF
- nginx: Debian's nginx 1.22 cannot serve HTTP/1.1 and cleartext HTTP/2 on one
  port (that needs 1.25.1), and siege sends every population to one URL, so
  nginx has no HTTP/2: in h2-flood its attackers meet an HTTP/1.1 parser.
- Varnish: rate limits by vmod_vsthrottle (Debian's varnish-modules), the same
  budgets as nginx's limit_req; Varnish has no per-address connection limit
  (no limit_conn). HTTP/2 $( [ "$H2C" = 1 ] && echo "on (feature=+http2)" || echo off ); Debian's
  7.1.1 predates the rapid-reset fix (VSV00013, 7.2.2/7.3.1).
- rempart: quick-start flags, so its defaults (shield included, when the binary has one)$( [ "$H2C" = 1 ] && echo ", plus --h2c" ).
- load average: under h2-flood Varnish runs hundreds of threads, which lifts
  the load average by itself (and, decaying, that of the next rows).
EOF
}

report() {
  local md=$OUT_DIR/siege-scoreboard.md
  {
    echo "## Scoreboard under attack (rempart siege, scale $SCALE, $DUR per scenario)"
    echo
    "$TMP/scoreboard" -dir "$SIEGE_DIR" -proxies "$PROXIES" -scenarios "$SCENARIOS" -baseline kickoff
    echo
    cpu_table
    echo
    echo "Notes:"
    echo
    notes
    echo
    machine_info
  } >"$md"
  echo
  cat "$md"
  log "written to $md (reports in $SIEGE_DIR/, logs in $LOGS/)"
}

# --- main --------------------------------------------------------------------

main() {
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
  install_tools
  check_ports
  TMP=$(mktemp -d /tmp/rempart-siege.XXXXXX)
  LOGS=$SIEGE_DIR/logs
  mkdir -p "$LOGS"
  rm -f "$LOGS"/*.log
  start_watchdog
  build
  local sc proxy
  for sc in $SCENARIOS; do          # scenario-major: machine noise spreads over every proxy
    for proxy in $PROXIES; do
      siege_run "$proxy" "$sc"
    done
  done
  report
}

main "$@"
