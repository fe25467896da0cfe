#!/usr/bin/env bash
# lib.sh: helpers shared by the bench scripts (sourced, not run).
# BENCH_TAG names the script in log lines.

log() { printf '[%s] %s\n' "${BENCH_TAG:-bench}" "$*" >&2; }

# port_free fails when something already listens on $HOST:$1.
port_free() {
  ! (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# seconds turns a wrk duration (10, 10s, 2m) into whole seconds.
seconds() {
  case $1 in
    *m) echo $(( ${1%m} * 60 )) ;;
    *s) echo "${1%s}" ;;
    *)  echo "$1" ;;
  esac
}

# server_ticks prints the CPU time (clock ticks, user + system) used so far by
# the proxy under test and its children (nginx's worker, cache manager and
# loader). Near 100% of a core during a run means the proxy, not wrk, was
# the bottleneck.
server_ticks() {
  local p t=0
  for p in "$SERVER_PID" $(pgrep -P "$SERVER_PID" || true); do
    t=$(( t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0) ))
  done
  echo "$t"
}

# wait_http waits up to 10 s for URL $1 to answer 200.
wait_http() {
  local i
  for i in $(seq 100); do
    curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
