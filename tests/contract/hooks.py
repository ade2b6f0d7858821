"""Checks of our own that Schemathesis runs beside its built-in ones
(tests/contract/schemathesis_test.go loads this file).

- refusals_beyond_schema_name_their_rule: JSON Schema cannot state every
  rule of the API; some depend on what the table holds (a cursor, a token,
  member ids, an idempotency key already used) or on the clock (a call's
  start, a report's period). api/openapi.yaml lists, per operation, the
  statuses and codes such a rule answers with (`x-refused-beyond-schema`;
  for the SCIM service, the error's scimType, or "none").
  The built-in positive_data_acceptance check is told those statuses; this
  check holds a schema-valid request refused with one of them to a code the
  document lists, so any other refusal still fails the run.
- every_answer_is_no_store_and_nosniff: every answer of a function carries
  Cache-Control: no-store and X-Content-Type-Options: nosniff. A 401 is the
  JWT authorizer's own answer in AWS (the local gateway stands in for it),
  which no function writes.
- every_operation_is_reached: at the end of the run, every operation has
  answered 2xx at least once, so the run reached every handler's work and
  not only its refusals.
"""

import json

import schemathesis


def _documented_refusals(case):
    raw = case.operation.definition.raw
    return raw.get("x-refused-beyond-schema", {})


def _repeats_an_id(case):
    # A dictionary draw (tests/contract fills memberIds from the seeded
    # members) may repeat an id, which the schema's uniqueItems refuses:
    # such a request is not schema-valid, whatever its mode says.
    body = case.body if isinstance(case.body, dict) else {}
    ids = body.get("memberIds")
    return isinstance(ids, list) and len(ids) != len({repr(i) for i in ids})


def _code_of(response):
    # A problem's code; a SCIM error's scimType (RFC 7644 §3.12), or
    # "none" for a SCIM error that has none (a 403, a 412).
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    if "urn:ietf:params:scim:api:messages:2.0:Error" in (body.get("schemas") or []):
        return body.get("scimType") or "none"
    return body.get("code")


@schemathesis.check
def refusals_beyond_schema_name_their_rule(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or _repeats_an_id(case):
        return None
    allowed = _documented_refusals(case).get(str(response.status_code))
    if allowed is None:
        return None
    code = _code_of(response)
    if code not in allowed:
        raise AssertionError(
            f"A schema-valid request was refused with {response.status_code} {code!r}; "
            f"the document lists only {allowed} for this status beyond its schemas"
        )
    return None


@schemathesis.check
def every_answer_is_no_store_and_nosniff(ctx, response, case):
    # A request with another method than the operation's (the probes of
    # undeclared methods) is answered by API Gateway itself, as is a 401.
    if response.status_code == 401 or response.request.method.lower() != case.operation.method.lower():
        return None
    headers = {k.lower(): v for k, v in response.headers.items()}
    nosniff = ",".join(headers.get("x-content-type-options", []))
    store = ",".join(headers.get("cache-control", []))
    if "nosniff" not in nosniff or "no-store" not in store:
        raise AssertionError(
            f"The answer lacks Cache-Control: no-store or X-Content-Type-Options: nosniff "
            f"(got {store!r}, {nosniff!r})"
        )
    return None


@schemathesis.check
class EveryOperationIsReached:
    """Fail if any tested operation never answered 2xx during the run."""

    def __init__(self):
        self.reached = set()
        self.tested = set()

    def after_response(self, ctx, response, case):
        label = case.operation.label
        self.tested.add(label)
        if 200 <= response.status_code < 300:
            self.reached.add(label)

    def after_run(self, ctx):
        missing = sorted(self.tested - self.reached)
        if missing:
            raise AssertionError("Never answered 2xx: " + ", ".join(missing))
