#!/usr/bin/env bash
# Starts the local stack in the background unless this checkout's stack is
# already running; waits until it serves. Used by `make run`, `make team`.
# PARAMETER_OVERRIDES (template parameters, as sam deploy takes them) are
# checked before anything starts.
set -euo pipefail
run=${RUN_DIR:-.state/run}
mkdir -p "$run"
want=$(.state/bin/devstack -check -parameter-overrides "${PARAMETER_OVERRIDES:-}") || exit 2
if [ -f "$run/pid" ] && kill -0 "$(cat "$run/pid")" 2>/dev/null && [ -f "$run/info.json" ]; then
  if [ -n "${PARAMETER_OVERRIDES:-}" ]; then
    have=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("parameterOverrides", ""))' "$run/info.json")
    if [ "$have" != "$want" ]; then
      echo "The running stack has other parameters (${have:-the template defaults}); run make stop, then make run again." >&2
      exit 1
    fi
  fi
  # Already running: a FAULT_RATE or FAULT_INDEX_LAG_MS given now applies to it.
  if [ -n "${FAULT_RATE:-}${FAULT_INDEX_LAG_MS:-}" ]; then
    .state/bin/devctl faults -state "$run" ${FAULT_RATE:+-rate "$FAULT_RATE"} ${FAULT_INDEX_LAG_MS:+-index-lag-ms "$FAULT_INDEX_LAG_MS"} >/dev/null
  fi
  exit 0
fi
rm -f "$run/info.json"
setsid nohup .state/bin/devstack -state "$run" \
  -api-port "${API_PORT:-3000}" -dynamodb-port "${DYNAMODB_PORT:-8000}" -ses-port "${SES_PORT:-8005}" \
  -parameter-overrides "${PARAMETER_OVERRIDES:-}" \
  -fault-rate "${FAULT_RATE:-0}" -index-lag-ms "${FAULT_INDEX_LAG_MS:-0}" -fault-seed "${FAULT_SEED:-0}" \
  >"$run/devstack.log" 2>&1 </dev/null &
echo $! >"$run/pid"
for _ in $(seq 1 1200); do
  [ -f "$run/info.json" ] && exit 0
  if ! kill -0 "$(cat "$run/pid")" 2>/dev/null; then
    echo "The local stack did not start. Its log ($run/devstack.log):" >&2
    tail -n 20 "$run/devstack.log" >&2
    echo "If a port is taken, choose others: make run API_PORT=3100 DYNAMODB_PORT=8100 SES_PORT=8105" >&2
    exit 1
  fi
  sleep 0.1
done
echo "The local stack did not answer within 120 s; see $run/devstack.log" >&2
exit 1
