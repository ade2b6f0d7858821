#!/usr/bin/env bash
# make test: the Go tests (unit, integration against the local stack,
# every function under the Lambda runtime emulator, bootstrap sizes), the
# invariant tests a second time on the hostile stack (FAULT_SUITE) and,
# beside them, the template checks (scripts/template-checks.sh: sam
# validate --lint, checkov, sam build), whose output is kept in
# .state/test/template-checks.log and printed when they fail.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .state/test
log=.state/test/template-checks.log
scripts/template-checks.sh > "$log" 2>&1 &
checks=$!
trap 'kill "$checks" 2>/dev/null' INT TERM

FAULT_RATE= FAULT_INDEX_LAG_MS= go test -count=1 -timeout 30m ./...
tests=$?
# The invariant tests again, on the hostile local stack.
if [ "$tests" -eq 0 ] && [ -n "${FAULT_SUITE:-}" ]; then
  echo "== the invariants again, with FAULT_RATE=${TEST_FAULT_RATE:-0.1} FAULT_INDEX_LAG_MS=${TEST_FAULT_INDEX_LAG_MS:-200}"
  FAULT_RATE=${TEST_FAULT_RATE:-0.1} FAULT_INDEX_LAG_MS=${TEST_FAULT_INDEX_LAG_MS:-200} \
    go test -count=1 -timeout 20m -run "$FAULT_SUITE" ./tests/integration
  tests=$?
fi

if wait "$checks"; then
  grep -E '^(== |sam build:|Passed checks|.*is a valid SAM Template)' "$log"
else
  cat "$log"
  echo "template checks failed (log: $log)" >&2
  exit 1
fi
exit "$tests"
