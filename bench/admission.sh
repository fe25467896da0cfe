#!/usr/bin/env bash
# admission.sh: issue 5's goal at full scale. A synthetic origin, the edge
# with admission on (max_sessions $SESSIONS, session_idle 5s, the queue's
# defaults) and `rempart siege --scenario waiting-room` (viewers arriving
# at ~10x what the edge admits, for 5 minutes). The thresholds of the
# scenario are the goal: every admitted viewer stall-free, no FIFO
# violation, displayed waits within 30 % of the actual wait.
#
# Knobs (environment):
#   SCALE=1            siege --scale; SESSIONS follows (100 x SCALE)
#   DUR=               siege --duration (default: as written, 5m30s)
#   ORIGIN_PORT=18500 EDGE_PORT=18580 ADMIN_PORT=18590
#   OUT_DIR=bench/out  (report: $OUT_DIR/admission/waiting-room.{json,html,txt})
# Everything listens on 127.0.0.1 and stops on exit; the siege run is
# bounded by the scenario's max_duration and max_requests.
set -euo pipefail
BENCH_TAG=admission
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SCALE=${SCALE:-1}
DUR=${DUR:-}
ORIGIN_PORT=${ORIGIN_PORT:-18500}
EDGE_PORT=${EDGE_PORT:-18580}
ADMIN_PORT=${ADMIN_PORT:-18590}
OUT_DIR=${OUT_DIR:-bench/out}/admission
HOST=127.0.0.1
SESSIONS=$(awk -v s="$SCALE" 'BEGIN { printf "%d", 100 * s + 0.5 }')

TMP=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
mkdir -p "$OUT_DIR"

go build -o "$TMP/rempart" ./cmd/rempart
"$TMP/rempart" origin --log-level warn --listen "$HOST:$ORIGIN_PORT" --segment-duration 1s >"$TMP/origin.log" 2>&1 &
PIDS+=($!)
wait_http "http://$HOST:$ORIGIN_PORT/_synth/metrics" || { log "origin did not start"; exit 1; }

cat >"$TMP/edge.yaml" <<YAML
listen: $HOST:$EDGE_PORT
admin: {listen: "$HOST:$ADMIN_PORT"}
sites:
  - name: live
    hosts: ["*"]
    origins: [{url: "http://$HOST:$ORIGIN_PORT"}]
    admission: {mode: "on", max_sessions: $SESSIONS, session_idle: 5s}
YAML
"$TMP/rempart" serve --log-level warn --config "$TMP/edge.yaml" >"$TMP/edge.log" 2>&1 &
PIDS+=($!)
wait_http "http://$HOST:$ADMIN_PORT/healthz" || { log "edge did not start: $(tail -5 "$TMP/edge.log")"; exit 1; }

log "waiting-room at scale $SCALE against max_sessions $SESSIONS"
dur=()
[ -n "$DUR" ] && dur=(--duration "$DUR")
set +e
"$TMP/rempart" siege --scenario waiting-room --target "http://$HOST:$EDGE_PORT" --scale "$SCALE" "${dur[@]}" \
  --origin-metrics "http://$HOST:$ADMIN_PORT/metrics" --progress plain \
  --report-json "$OUT_DIR/waiting-room.json" --report-html "$OUT_DIR/waiting-room.html" \
  >"$OUT_DIR/waiting-room.txt" 2>&1
rc=$?
set -e
curl -s "http://$HOST:$ADMIN_PORT/metrics" | grep '^rempart_admission' >"$OUT_DIR/edge-metrics.txt" || true
tail -40 "$OUT_DIR/waiting-room.txt"
log "siege exit $rc; reports in $OUT_DIR"
exit "$rc"
