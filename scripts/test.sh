#!/usr/bin/env bash
# make test: the local DynamoDB's own test (tests/localdb, pytest), the
# Go tests (unit, integration against the local stack,
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
# The local DynamoDB's own test (tests/localdb: its sorted indexes answer
# every page as moto does), beside the Go tests.
dblog=.state/test/localdb.log
PYTHONDONTWRITEBYTECODE=1 .venv/bin/python -m pytest -q -p no:cacheprovider tests/localdb > "$dblog" 2>&1 &
localdb=$!
trap 'kill "$checks" "$localdb" 2>/dev/null' INT TERM

# The invariant tests again, on the hostile local stack, beside the rest
# (its own stack; the two passes together keep both cores busy, where one
# after the other left one idle half the time). Its output comes after the
# main pass's.
faultlog=.state/test/faults.log
if [ -n "${FAULT_SUITE:-}" ]; then
  FAULT_RATE=${TEST_FAULT_RATE:-0.1} FAULT_INDEX_LAG_MS=${TEST_FAULT_INDEX_LAG_MS:-200} \
    go test -count=1 -timeout 20m -run "$FAULT_SUITE" ./tests/integration > "$faultlog" 2>&1 &
  faults=$!
  trap 'kill "$checks" "$localdb" "$faults" 2>/dev/null' INT TERM
fi

FAULT_RATE= FAULT_INDEX_LAG_MS= go test -count=1 -timeout 30m ./...
tests=$?
if [ -n "${FAULT_SUITE:-}" ]; then
  echo "== the invariants again, with FAULT_RATE=${TEST_FAULT_RATE:-0.1} FAULT_INDEX_LAG_MS=${TEST_FAULT_INDEX_LAG_MS:-200}"
  wait "$faults" || tests=1
  cat "$faultlog"
fi

if wait "$localdb"; then
  echo "== tests/localdb: $(grep -E 'passed|failed' "$dblog" | tail -n 1)"
else
  cat "$dblog"
  echo "tests/localdb failed (log: $dblog)" >&2
  tests=1
fi

if wait "$checks"; then
  grep -E '^(== |sam build:|Passed checks|.*is a valid SAM Template)' "$log"
else
  cat "$log"
  echo "template checks failed (log: $log)" >&2
  exit 1
fi
exit "$tests"
