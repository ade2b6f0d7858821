#!/usr/bin/env bash
# Stops the local stack that `make run` started from this checkout, and
# nothing else.
set -euo pipefail
run=${RUN_DIR:-.state/run}
if [ ! -f "$run/pid" ]; then echo "Nothing to stop."; exit 0; fi
pid=$(cat "$run/pid")
if kill -0 "$pid" 2>/dev/null; then
  kill -TERM "$pid"
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" || true
  echo "Stopped the local stack (pid $pid)."
else
  echo "The local stack was not running."
fi
rm -f "$run/pid" "$run/info.json"
