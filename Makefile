# The two commands a newcomer runs: `make run` and `make test`.
# Everything is installed from the project's own files: Go modules (go.sum),
# Python packages into .venv (requirements.txt) and, for the template
# checks, the AWS SAM CLI and checkov into .venv-tools (requirements-tools.txt),
# npm packages (package-lock.json).

SHELL := /bin/bash
.DEFAULT_GOAL := help

API_PORT ?= 3000
DYNAMODB_PORT ?= 8000
SES_PORT ?= 8005
# Template parameters for the local stack, as sam deploy --parameter-overrides
# takes them: make run PARAMETER_OVERRIDES="EmailCooldownSeconds=0 InvitationExpiryDays=1"
PARAMETER_OVERRIDES ?=
export API_PORT DYNAMODB_PORT SES_PORT PARAMETER_OVERRIDES
# The hostile local stack: `make run FAULT_RATE=0.1 FAULT_INDEX_LAG_MS=500`
# (FAULT_SEED to replay a run). Unset: no faults.
export FAULT_RATE FAULT_INDEX_LAG_MS FAULT_SEED

BIN := .state/bin
GOFLAGS_BUILD := -trimpath

.PHONY: help deps run-deps run up load stop token team nightly faults test lint unit bench tools functions template-checks clean chromium spamassassin screenshots emails fuzz

help:
	@echo "make run      the whole API on the local stack, seeded; prints URLs and a token"
	@echo "              PARAMETER_OVERRIDES=\"EmailCooldownSeconds=0 InvitationExpiryDays=1\" sets template parameters"
	@echo "make test     every check and test, from a fresh machine"
	@echo "make unit     the tests that need no local stack (the rules, the use cases on the in-memory store), in seconds"
	@echo "make stop     stop what make run started"
	@echo "make token EMAIL=…   a bearer token the local gateway accepts"
	@echo "make team PLAN=pro SEATS=50 OWNER=alice@example.com NAME=\"Acme Inc\"   provision a team (TEAM=<id> to change one)"
	@echo "make nightly AT=2026-12-31T03:00:00Z   run the nightly job as of an instant"
	@echo "make run FAULT_RATE=0.1 [FAULT_INDEX_LAG_MS=500]   the local stack failing as AWS fails"
	@echo "make load     a bounded load test of the running stack (LOAD_DURATION=60s LOAD_RATE=50)"
	@echo "make faults   the faults injected so far, as one JSON line (FAULT_RATE=… changes the rate first)"
	@echo "make bench    benchmarks: read and write costs beside naive designs, the nightly job, capacity at internet scale, a month's bill, bootstrap sizes and cold starts"
	@echo "make fuzz     every fuzz target for FUZZTIME (default 10s); make test runs their corpora"
	@echo "make screenshots   refresh docs/screenshots/ from the browser tests"
	@echo "make emails   every email kind rendered and photographed (600 px, 375 px, text) in docs/emails/"
	@echo "make functions          every bootstrap for linux/arm64 in .state/functions (what sam build packages)"
	@echo "make template-checks    sam validate --lint, checkov and sam build"

## Installation ------------------------------------------------------------

RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d

# What running the stack needs (make run): moto, the SES stand-in, Go
# modules. The tests need more (deps): the SAM CLI and checkov, the Lambda
# runtime emulator and Chromium, installed by the first target that needs them.
run-deps: .venv/.installed node_modules/.installed .state/go-mod

deps: run-deps .venv-tools/.installed $(BIN)/aws-lambda-rie chromium spamassassin

.venv/.installed: requirements.txt
	python3 -m venv .venv
	.venv/bin/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

# The SAM CLI and checkov pin boto3 and pydantic below moto's pins: their own venv.
.venv-tools/.installed: requirements-tools.txt
	python3 -m venv .venv-tools
	.venv-tools/bin/pip install --disable-pip-version-check -q -r requirements-tools.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

.state/go-mod: go.mod go.sum
	mkdir -p .state
	go mod download
	touch $@

# The Lambda runtime interface emulator, from the Go module proxy: the tests
# run the built bootstraps under it.
$(BIN)/aws-lambda-rie:
	GOBIN=$(CURDIR)/$(BIN) go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)

# Chromium for the browser tests (tests/browser): Debian's package, installed
# when missing where apt-get exists and we are root; otherwise say how.
CHROMIUM ?= /usr/bin/chromium
chromium:
	@if [ -x "$(CHROMIUM)" ] || command -v chromium >/dev/null 2>&1; then exit 0; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "Installing Chromium for the browser tests (apt-get install chromium)…"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  echo "The browser tests need Chromium. Install it (Debian/Ubuntu: sudo apt-get install -y chromium)," >&2; \
	  echo "or point CHROMIUM=/path/to/chrome at one, then run make test again." >&2; exit 1; \
	fi

# SpamAssassin for the emails' spam test (tests/emails): Debian's package,
# run with its local tests only; installed like Chromium.
spamassassin:
	@if command -v spamassassin >/dev/null 2>&1; then exit 0; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "Installing SpamAssassin for the emails' test (apt-get install spamassassin)…"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq spamassassin >/dev/null; \
	else \
	  echo "The emails' test needs SpamAssassin. Install it (Debian/Ubuntu: sudo apt-get install -y spamassassin), then run make test again." >&2; exit 1; \
	fi

tools: .state/go-mod
	go build $(GOFLAGS_BUILD) -o $(BIN)/devstack ./cmd/devstack
	go build $(GOFLAGS_BUILD) -o $(BIN)/devctl ./cmd/devctl

## Local stack -------------------------------------------------------------

up: run-deps tools
	@scripts/up.sh

run: up
	@scripts/info.sh

stop:
	@scripts/stop.sh

token: tools
	@test -n "$(EMAIL)" || { echo "usage: make token EMAIL=alice@example.com" >&2; exit 2; }
	@$(BIN)/devctl token -email "$(EMAIL)"

team: up
	@$(BIN)/devctl team $(if $(TEAM),-team "$(TEAM)") $(if $(PLAN),-plan "$(PLAN)") $(if $(SEATS),-seats "$(SEATS)") $(if $(OWNER),-owner "$(OWNER)") $(if $(BILLING),-billing "$(BILLING)") $(if $(NAME),-name "$(NAME)")

nightly: up
	@$(BIN)/devctl nightly $(if $(AT),-at "$(AT)")

# A bounded load test of the running stack (make run first, or it starts
# one): LOAD_DURATION (default 60s) at LOAD_RATE requests a second (default
# 50) against a team of LOAD_MEMBERS (default 10000), made on first use.
LOAD_DURATION ?= 60s
LOAD_RATE ?= 50
LOAD_MEMBERS ?= 10000
load: up
	@$(BIN)/devctl load -duration $(LOAD_DURATION) -rate $(LOAD_RATE) -members $(LOAD_MEMBERS)

faults: tools
	@$(BIN)/devctl faults $(if $(FAULT_RATE),-rate "$(FAULT_RATE)") $(if $(FAULT_INDEX_LAG_MS),-index-lag-ms "$(FAULT_INDEX_LAG_MS)")

## Checks ------------------------------------------------------------------

lint: deps
	.venv/bin/cfn-lint template.yaml
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed" >&2; exit 1; }
	go vet ./...

# The integration tests that check invariants, run a second time on the
# hostile local stack (docs/architecture.md, "The suite under faults").
# Deactivation and the identity providers' sequences (issue #14):
FAULT_SUITE_SCIM := |TestADeactivatedMemberFreesTheSeatAndCannotSignIn|TestBulkDeactivateAndReactivate|TestTheNightlyJobLeavesDeactivatedMembersAloneButArchivesTheirSignIns|TestOktaProvisioningSequence|TestEntraIDProvisioningSequence|TestSCIMTokensAreShownOnceAndRevokedAtOnce|TestSCIMAnswersInItsOwnWords|TestMembersAreToldOfChangesOnce|TestDeactivatedMembersAreTold|TestExpiredSignInsAreArchivedFromTheStream|TestTheNightlyQueueIsLazy
FAULT_SUITE := ^(TestSeatsAreNeverOversoldUnderConcurrency|TestOneMemberPerEmailAndNothingHalfWritten|TestConcurrentInvitesAndARandomMixKeepTheCounters|TestInvitationsHoldUnderContentionAndFaults|TestTeamWideResendAnswersAtOnceAndReachesEveryPendingInvitee|TestBulkActions|TestInvitationLifecycle|TestResendReplacesTheTokenAndRespectsTheCooldown|TestNightlyCrashThenRerunAndConcurrentRunsEndAlike|TestIdempotencyKeyReplaysTheFirstAnswer|TestASignInWithTheInvitedAddressJoins|TestListTotalsAreExact|TestSendSlotsAreSharedAcrossDeliverers|TestDeliveryNeverSendsTwiceEvenAfterACrash|TestFiveHundredInvitationsInOneRequest|TestAuditLogRecordsEveryChange|TestNoChangeWithoutItsAuditEntry$(FAULT_SUITE_SCIM))$$
# make test FAULT_RATE=0.3 makes the second pass harsher; the first is always kind.
TEST_FAULT_RATE := $(or $(FAULT_RATE),0.1)
TEST_FAULT_INDEX_LAG_MS := $(or $(FAULT_INDEX_LAG_MS),200)

# The Go tests, the invariants again under faults, and the template checks
# beside them (scripts/test.sh).
test: lint
	@FAULT_SUITE='$(FAULT_SUITE)' TEST_FAULT_RATE=$(TEST_FAULT_RATE) TEST_FAULT_INDEX_LAG_MS=$(TEST_FAULT_INDEX_LAG_MS) scripts/test.sh

# What runs without the local stack: -short skips every test that needs it.
unit: .state/go-mod
	go test -short -count=1 ./internal/... ./cmd/...

template-checks: deps
	@scripts/template-checks.sh

# The screenshots in docs/screenshots/ come from the browser tests.
screenshots: deps
	go test -count=1 -run TestUsersPage ./tests/browser -args -screenshots=$(CURDIR)/docs/screenshots

# Every email kind, rendered by the deliverer's code from samples and
# photographed in headless Chromium (HTML at 600 and 375 px, and the text
# part), with an index: docs/emails/ (tests/emails; the same checks run in make test).
emails: chromium .state/go-mod
	go test -count=1 -run TestEveryEmailLooksRightInABrowser ./tests/emails -args -shots=$(CURDIR)/docs/emails

# One package at a time (they time things on a shared machine), the cost
# benchmarks last: they end with the monthly bill.
bench: deps
	@start=$$(date +%s); \
	go test -p 1 -run '^$$' -bench . -benchtime 1x -timeout 240m $$(go list ./bench/... | grep -v '/bench/cost$$') ./bench/cost; \
	rc=$$?; echo "make bench took $$(( ($$(date +%s) - start) / 60 )) min"; exit $$rc

# Every fuzz target (go test -fuzz) for FUZZTIME each; a failing input is
# written under the package's testdata/fuzz (commit it with the fix: make
# test replays it). Not part of make test, which runs the committed corpora
# as ordinary tests.
FUZZTIME ?= 10s
fuzz: .state/go-mod
	@for pkg in $$(go list ./internal/...); do \
	  for t in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; \
	    go test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

## Lambda artifacts --------------------------------------------------------

# Every function builds: the same binaries `sam build` makes (BuildMethod: makefile).
functions:
	@for d in functions/*/; do \
	  GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build $(GOFLAGS_BUILD) -tags lambda.norpc -ldflags="-s -w" -o .state/functions/$$(basename $$d)/bootstrap ./$$d || exit 1; \
	done
	@ls -l .state/functions/*/bootstrap | awk '{printf "%-45s %.2f MB\n", $$9, $$5/1e6}'

# sam build calls build-<LogicalId>; the folder is the id without "Function", lower-cased.
build-%Function:
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -trimpath -tags lambda.norpc -ldflags="-s -w" \
	  -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(shell echo '$*' | tr '[:upper:]' '[:lower:]')

clean: stop
	rm -rf .state .aws-sam
