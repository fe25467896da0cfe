#!/usr/bin/env bash
# admission.sh: issue 5's goal at full scale, one siege scenario per run,
# each against a fresh edge in front of a synthetic origin:
#   waiting-room  the edge with admission on (max_sessions $SESSIONS,
#                 session_idle 5s, the queue's defaults); viewers arrive at
#                 ~10x what the edge admits for 5 minutes. Thresholds: every
#                 admitted viewer stall-free, no FIFO violation, displayed
#                 waits within 30 % of the actual wait.
#   egress-cap    the edge with admission on, no session cap and max_egress
#                 $EGRESS Mbit/s (degradation on, its defaults); viewers share
#                 one emulated 380 Mbit/s link (x SCALE). Threshold: every
#                 viewer stall-free.
#   egress-cap-off  the same with degradation off: the baseline that shows
#                 what degradation saves (its thresholds are expected to
#                 fail; they do not fail the script).
#
# Knobs (environment):
#   SCENARIOS="waiting-room egress-cap"
#   SCALE=1            siege --scale; SESSIONS (100 x SCALE) and EGRESS
#                      (350 x SCALE) follow
#   DUR=               siege --duration (default: as each scenario is written)
#   ORIGIN_PORT=18500 EDGE_PORT=18580 ADMIN_PORT=18590
#   OUT_DIR=bench/out  (reports: $OUT_DIR/admission/<run>.{json,html,txt})
# Everything listens on 127.0.0.1 and stops on exit; each siege run is
# bounded by its scenario's max_duration and max_requests.
set -euo pipefail
BENCH_TAG=admission
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SCENARIOS=${SCENARIOS:-waiting-room egress-cap egress-cap-off}
SCALE=${SCALE:-1}
DUR=${DUR:-}
ORIGIN_PORT=${ORIGIN_PORT:-18500}
EDGE_PORT=${EDGE_PORT:-18580}
ADMIN_PORT=${ADMIN_PORT:-18590}
OUT_DIR=${OUT_DIR:-bench/out}/admission
HOST=127.0.0.1
SESSIONS=$(awk -v s="$SCALE" 'BEGIN { printf "%d", 100 * s + 0.5 }')
EGRESS=$(awk -v s="$SCALE" 'BEGIN { printf "%g", 350 * s }')

TMP=$(mktemp -d)
PIDS=()
EDGE_PID=
cleanup() {
  for p in "${PIDS[@]}" $EDGE_PID; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
mkdir -p "$OUT_DIR"

go build -o "$TMP/rempart" ./cmd/rempart
"$TMP/rempart" origin --log-level warn --listen "$HOST:$ORIGIN_PORT" --segment-duration 1s >"$TMP/origin.log" 2>&1 &
PIDS+=($!)
wait_http "http://$HOST:$ORIGIN_PORT/_synth/metrics" || { log "origin did not start"; exit 1; }

# run_scenario RUN NAME ADMISSION: a fresh edge with site admission
# ADMISSION (a YAML flow mapping), then siege's scenario NAME against it;
# reports are named after RUN.
run_scenario() {
  local run=$1 name=$2 admission=$3 rc
  cat >"$TMP/edge.yaml" <<YAML
listen: $HOST:$EDGE_PORT
admin: {listen: "$HOST:$ADMIN_PORT"}
sites:
  - name: live
    hosts: ["*"]
    origins: [{url: "http://$HOST:$ORIGIN_PORT"}]
    admission: $admission
YAML
  "$TMP/rempart" serve --log-level warn --config "$TMP/edge.yaml" >"$TMP/edge-$run.log" 2>&1 &
  EDGE_PID=$!
  wait_http "http://$HOST:$ADMIN_PORT/healthz" || { log "edge did not start: $(tail -5 "$TMP/edge-$run.log")"; return 1; }
  log "$run: $name at scale $SCALE, admission $admission"
  local dur=()
  [ -n "$DUR" ] && dur=(--duration "$DUR")
  set +e
  "$TMP/rempart" siege --scenario "$name" --target "http://$HOST:$EDGE_PORT" --scale "$SCALE" "${dur[@]}" \
    --origin-metrics "http://$HOST:$ADMIN_PORT/metrics" --progress plain \
    --report-json "$OUT_DIR/$run.json" --report-html "$OUT_DIR/$run.html" \
    >"$OUT_DIR/$run.txt" 2>&1
  rc=$?
  set -e
  curl -s "http://$HOST:$ADMIN_PORT/metrics" | grep '^rempart_admission' >"$OUT_DIR/$run-edge-metrics.txt" || true
  kill "$EDGE_PID" 2>/dev/null || true
  wait "$EDGE_PID" 2>/dev/null || true
  EDGE_PID=
  tail -40 "$OUT_DIR/$run.txt"
  log "$run: siege exit $rc; report in $OUT_DIR/$run.txt"
  return "$rc"
}

status=0
for s in $SCENARIOS; do
  case $s in
    waiting-room) run_scenario "$s" waiting-room "{mode: \"on\", max_sessions: $SESSIONS, session_idle: 5s}" || status=1 ;;
    egress-cap) run_scenario "$s" egress-cap "{mode: \"on\", max_egress: $EGRESS}" || status=1 ;;
    egress-cap-off) run_scenario "$s" egress-cap "{mode: \"on\", max_egress: $EGRESS, degrade: {enabled: false}}" ||
      log "egress-cap-off: thresholds missed, as expected without degradation" ;;
    *) log "unknown scenario $s (waiting-room, egress-cap, egress-cap-off)"; status=2 ;;
  esac
done
exit "$status"
