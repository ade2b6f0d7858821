#!/usr/bin/env bash
# The template checked with the ecosystem's own tools (from .venv-tools):
# SAM's validator with its linter, checkov (every skipped check carries
# its reason in the template), and `sam build` with the Makefile's
# build-<Function> targets (no Docker). `make test` runs this beside the
# Go tests; it prints what failed.
set -euo pipefail
cd "$(dirname "$0")/.."
export SAM_CLI_TELEMETRY=0
unset MAKEFLAGS MAKELEVEL MFLAGS # sam build runs make itself
tools=.venv-tools/bin

echo "== sam validate --lint"
"$tools/sam" validate --lint --template template.yaml

echo "== checkov"
"$tools/checkov" --file template.yaml --framework cloudformation --skip-download --quiet --compact

echo "== sam build"
start=$(date +%s)
"$tools/sam" build --build-in-source --parallel --template template.yaml --build-dir .aws-sam/build
missing=0
for fn in $(grep -oE '^  [A-Za-z]+Function:' template.yaml | tr -d ' :'); do
  if [ ! -s ".aws-sam/build/$fn/bootstrap" ]; then echo "sam build made no bootstrap for $fn" >&2; missing=1; fi
done
[ "$missing" = 0 ]
echo "sam build: $(ls -d .aws-sam/build/*Function | wc -l) functions in $(( $(date +%s) - start )) s"
