"""Local DynamoDB + DynamoDB Streams stand-in: moto in server mode, made to
act like DynamoDB, including the ways DynamoDB fails.

Changes to moto's behaviour, all to make it act like DynamoDB:

1. One request at a time (see Server below).
2. TransactWriteItems checks every condition against the state before the
   transaction, then applies all writes, or none, and only then emits their
   stream records. moto's own version deep-copies every table it touches,
   once per item, to roll back: a cost that grows with the table, which made
   a 400-member seed take minutes. Ours snapshots only the items named.
3. Query reads a partition as DynamoDB does: moto lists and sorts every
   item of the table on each query (about 1.2 s a page at 20,000 items).
   Sorted indexes (see "Sorted indexes" below) keep each partition of the
   table and of every index in order as items are written; a query bisects
   to its key condition and start key and hands moto only the items the
   page can reach, so the answer is still moto's own (the same pages,
   tests/localdb/test_sorted_indexes.py), in milliseconds at any size.
   Reads' answers are written as JSON directly, not through moto's
   shape-driven serializer (55 ms for a page of 25 members).
   POST /_moto {"queryMode": "walk"|"moto"} puts the old paths back for
   the benchmarks' baselines and the equivalence test. A table scan sorts by the keys' values, not by moto's comparison
   objects, and starts its page by a binary search for the start key, not
   by comparing every item before it: the same pages, minutes faster at
   200,000 items.
4. DynamoDB's limits, always on: an item over 400 KB (409,600 bytes, sized as
   DynamoDB sizes items) is refused on every write path; a transaction over
   100 actions or 4 MB is refused; TransactGetItems takes 100 items (moto
   says 25); ClientRequestToken makes TransactWriteItems idempotent for 10
   minutes after a committed call, and the same token with other items is
   IdempotentParameterMismatchException. moto's own 405,000-byte check (an
   O(n^2) cost on every item built) is replaced by these exact ones.
5. Faults, off unless asked for (--fault-rate, --index-lag-ms, --seed, or
   POST /_faults): with probability `rate` a data-plane call fails as
   DynamoDB fails (throttling, provisioned throughput exceeded, internal
   server error before or after the write, TransactionConflict
   cancellations, batches half processed), and index (GSI) reads see the
   table as it was `lag` ago. GET /_faults counts what was injected.

The patches reach into moto's internals, so the start-up checks that the
installed moto is the one they were written for (MOTO_VERSION, and the
signatures of what they replace) and stops with the reason if not.

6. Time to live: items expire as DynamoDB expires them, with the REMOVE
   stream record DynamoDB writes for its own deletions (see "Time to
   live" below; moto never deletes anything).

moto's server handles each connection on its own thread, and its DynamoDB
backend does not lock around TransactWriteItems, so two conflicting
transactions can interleave there although they never can in DynamoDB. We
keep the threads (so idle keep-alive connections never block others) but
let one request at a time into the backend. Bound to 127.0.0.1 by default.
"""

import argparse
import base64
import bisect
import copy
import functools
import hashlib
import heapq
import inspect
import io
import itertools
import json
import logging
import os
import random
import re
import signal
import sys
import threading
import time
import uuid
import weakref
import zlib
from collections import deque
from decimal import Decimal, InvalidOperation

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)

import moto.dynamodb.responses as moto_responses
from moto.core.request import Request as MotoRequest
from moto.core.responses import ActionResult
from moto.dynamodb.models.utilities import dynamo_to_dict
from moto.dynamodb.responses import DynamoHandler, DynamoResult
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ItemSizeToUpdateTooLarge,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
import moto.dynamodb.models.table as moto_table_module
import moto.backends as moto_backends
import moto.core.responses as moto_core_responses
import moto.utilities.aws_headers as moto_aws_headers
from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, SecondaryIndex, Table
from sortedcontainers import SortedList

# ---------------------------------------------------------------------------
# What the patches rely on: checked at import, so a moto upgrade that moved
# any of it stops the server at start-up with the reason instead of
# answering wrong (requirements.txt pins moto; upgrade it together with
# this file, then run tests/localdb).

MOTO_VERSION = "5.2.5"
PATCHED = {
    (Table, "query"): ["self", "hash_key", "range_comparison", "range_objs", "limit",
                       "exclusive_start_key", "scan_index_forward", "projection_expressions",
                       "index_name", "consistent_read", "filter_expression",
                       "hash_key_conditions", "range_key_conditions", "filter_kwargs"],
    (Table, "scan"): ["self", "filters", "limit", "exclusive_start_key", "filter_expression",
                      "index_name", "consistent_read", "projection_expression", "segments"],
    (Table, "put_item"): ["self", "item_attrs", "expected", "condition_expression",
                          "expression_attribute_names", "expression_attribute_values",
                          "overwrite", "return_values_on_condition_check_failure"],
    (Table, "delete_item"): ["self", "hash_key", "range_key"],
    (Table, "all_items"): ["self"],
    (Table, "sorted_items"): ["self", "hash_key_attrs", "range_key_attrs", "items"],
    (Table, "all_indexes"): ["self"],
    (SecondaryIndex, "project"): ["self", "item"],
    (DynamoDBBackend, "update_item"): ["self", "table_name", "key", "update_expression",
                                       "expression_attribute_names", "expression_attribute_values",
                                       "attribute_updates", "expected", "condition_expression",
                                       "return_values_on_condition_check_failure"],
    (DynamoDBBackend, "transact_write_items"): ["self", "transact_items"],
}


def check_moto():
    """The reasons the installed moto is not the one patched here (empty: it is)."""
    import moto

    problems = []
    if moto.__version__ != MOTO_VERSION:
        problems.append("moto %s is installed; scripts/moto_server.py patches moto %s"
                        % (moto.__version__, MOTO_VERSION))
    for (cls, name), params in PATCHED.items():
        fn = getattr(cls, name, None)
        got = list(inspect.signature(fn).parameters) if callable(fn) else None
        if got != params:
            problems.append("%s.%s(%s) is now %s" % (cls.__name__, name, ", ".join(params),
                            "missing" if got is None else "(%s)" % ", ".join(got)))
    for attr in ("items", "hash_key_attr", "range_key_attr", "hash_key_type", "range_key_type",
                 "stream_shard", "global_indexes", "indexes"):
        if attr not in Table.__init__.__code__.co_names:
            problems.append("Table no longer sets %s" % attr)
    return problems


_problems = check_moto()
if _problems:
    sys.exit("scripts/moto_server.py cannot patch this moto:\n  " + "\n  ".join(_problems))


# ---------------------------------------------------------------------------
# DynamoDB's limits

MAX_ITEM_BYTES = 400 * 1024          # 409,600: the item size limit
MAX_TRANSACTION_ITEMS = 100
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024
MAX_TOKEN_LENGTH = 36
PUT_TOO_LARGE = "Item size has exceeded the maximum allowed size"
UPDATE_TOO_LARGE = "Item size to update has exceeded the maximum allowed size"
ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"


def number_size(text):
    """Bytes of a number as DynamoDB sizes it: 1, plus one per two
    significant digits on each side of the decimal point, plus 1 if it is
    negative (leading and trailing zeros do not count)."""
    try:
        sign, digits, exponent = Decimal(text.strip()).as_tuple()
    except (InvalidOperation, AttributeError):
        return len(str(text))
    digits = list(digits)
    while digits and digits[-1] == 0:
        digits.pop()
        exponent += 1
    while digits and digits[0] == 0:
        digits.pop(0)
    if not digits:
        return 1
    whole = min(max(len(digits) + exponent, 0), len(digits))
    fraction = len(digits) - whole
    return (whole + 1) // 2 + (fraction + 1) // 2 + 1 + (1 if sign else 0)


def value_size(value):
    """Bytes of one attribute value (wire format, e.g. {"S": "x"})."""
    (kind, v), = value.items()
    if kind == "S":
        return len(v.encode("utf-8"))
    if kind == "N":
        return number_size(v)
    if kind == "B":
        return len(base64.b64decode(v)) if isinstance(v, str) else len(v)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in v)
    if kind == "NS":
        return sum(number_size(n) for n in v)
    if kind == "BS":
        return sum(len(base64.b64decode(b)) if isinstance(b, str) else len(b) for b in v)
    if kind == "L":
        return 3 + len(v) + sum(value_size(e) for e in v)
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + 1 + value_size(e) for k, e in v.items())
    return 0


def item_size(item):
    """Bytes of an item: its attribute names and values (AWS's rules in
    "DynamoDB item sizes and formats")."""
    return sum(len(name.encode("utf-8")) + value_size(v) for name, v in item.items())


# moto checks sizes with its own approximation (405,000) on every attribute
# set, which costs O(n^2) per item; our exact checks replace it.
LimitedSizeDict.__setitem__ = dict.__setitem__
# DynamoDB reads up to 100 items in a transaction (moto still says 25).
moto_responses.TRANSACTION_MAX_ITEMS = MAX_TRANSACTION_ITEMS


class DynamoError(Exception):
    """An answer in DynamoDB's error shape."""

    def __init__(self, status, kind, message, extra=None, message_key="message"):
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message
        self.extra, self.message_key = extra or {}, message_key

    def body(self):
        out = {"__type": ERROR_PREFIX + self.kind, self.message_key: self.message}
        out.update(self.extra)
        return json.dumps(out).encode()


def validation(message):
    return DynamoError(400, "ValidationException", message)


# ---------------------------------------------------------------------------
# Fault state (one per server; every access happens under the request lock)

KINDS = (
    "throttling",
    "provisionedThroughputExceeded",
    "internalError",
    "internalErrorAfterWrite",
    "transactionConflict",
    "unprocessed",
    "indexLagReads",
)
DATA_PLANE = {
    "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan",
    "BatchGetItem", "BatchWriteItem", "TransactGetItems", "TransactWriteItems",
}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
TRANSACTIONS = {"TransactGetItems", "TransactWriteItems"}
BATCHES = {"BatchGetItem", "BatchWriteItem"}


class Faults:
    def __init__(self, rate=0.0, lag_ms=0, seed=None):
        self.rate = rate
        self.lag = lag_ms / 1000.0
        self.reseed(seed)
        self.kinds = None  # None: every kind; else the only kinds injected
        self.token_ttl = 600.0
        self.tokens = {}  # ClientRequestToken -> (digest, committed at)
        self.token_replays = 0
        self.counts = dict.fromkeys(KINDS, 0)

    def reseed(self, seed):
        self.seed = seed if seed is not None else int.from_bytes(os.urandom(4), "big")
        self.rng = random.Random(self.seed)

    def state(self):
        return {
            "rate": self.rate,
            "indexLagMs": int(round(self.lag * 1000)),
            "seed": self.seed,
            "kinds": sorted(self.kinds) if self.kinds is not None else None,
            "tokenTtlSeconds": self.token_ttl,
            "tokenReplays": self.token_replays,
            "counts": dict(self.counts),
        }

    def configure(self, req):
        if "rate" in req:
            rate = float(req["rate"])
            if not 0.0 <= rate <= 1.0:
                raise ValueError("rate must be from 0 to 1")
            self.rate = rate
        if "indexLagMs" in req:
            lag = int(req["indexLagMs"])
            if lag < 0:
                raise ValueError("indexLagMs must not be negative")
            self.lag = lag / 1000.0
        if "seed" in req:
            self.reseed(None if req["seed"] is None else int(req["seed"]))
        if "kinds" in req:
            kinds = req["kinds"]
            if kinds is not None:
                unknown = set(kinds) - set(KINDS)
                if unknown:
                    raise ValueError("unknown kinds: %s" % ", ".join(sorted(unknown)))
                kinds = set(kinds)
            self.kinds = kinds
        if "tokenTtlSeconds" in req:
            self.token_ttl = float(req["tokenTtlSeconds"])
        if req.get("reset"):
            self.counts = dict.fromkeys(KINDS, 0)
            self.token_replays = 0

    def allowed(self, kind):
        return self.kinds is None or kind in self.kinds

    def pick(self, op):
        """The fault to inject into this call, or None."""
        if self.rate <= 0 or self.rng.random() >= self.rate:
            return None
        kinds = ["throttling", "provisionedThroughputExceeded", "internalError"]
        if op in WRITES:
            kinds.append("internalErrorAfterWrite")
        if op in TRANSACTIONS:
            kinds.append("transactionConflict")
        if op in BATCHES:
            kinds.append("unprocessed")
        kinds = [k for k in kinds if self.allowed(k)]
        return self.rng.choice(kinds) if kinds else None

    def count(self, kind):
        self.counts[kind] += 1


FAULTS = Faults()
# MOTO_TRACE=1: a line on stderr per data-plane call (operation, table and
# index, time in moto, time waiting for the request lock).
TRACE = os.environ.get("MOTO_TRACE") == "1"
# MOTO_PROFILE=file (with MOTO_TRACE=1): cProfile of the data-plane calls,
# written to file when the server stops.
PROFILE = None
if TRACE and os.environ.get("MOTO_PROFILE"):
    import atexit
    import cProfile

    PROFILE = cProfile.Profile()
    atexit.register(lambda: PROFILE.dump_stats(os.environ["MOTO_PROFILE"]))


def reset_profile():
    """POST /_moto {"profile": "reset"}: forget what was profiled so far."""
    global PROFILE
    import cProfile

    PROFILE = cProfile.Profile()


# ---------------------------------------------------------------------------
# Lagging indexes: while a lag is set, every write logs the image it
# replaced, per table; an index read swaps the images of the last `lag`
# seconds back in, runs, and swaps the current ones back (requests are
# serialised, so nobody sees the swap). Nothing is logged when lag is 0.


def key_of(table, attrs):
    hash_key = moto_dynamo_type(attrs[table.hash_key_attr])
    range_key = moto_dynamo_type(attrs[table.range_key_attr]) if table.range_key_attr else None
    return hash_key, range_key


def moto_dynamo_type(value):
    from moto.dynamodb.models.dynamo_type import DynamoType

    return value if isinstance(value, DynamoType) else DynamoType(value)


def clock():
    """The lag's clock (a test sets its own)."""
    return time.monotonic()


def log_write(table, hash_key, range_key, previous):
    if FAULTS.lag <= 0:
        return
    log = table.__dict__.setdefault("_lag_log", deque())
    now = clock()
    log.append((now, hash_key, range_key, previous))
    while log and log[0][0] < now - FAULTS.lag:
        log.popleft()


def stored(table, hash_key, range_key):
    try:
        return table.items[hash_key][range_key] if range_key is not None else table.items[hash_key]
    except KeyError:
        return None


def place(table, hash_key, range_key, item):
    """Puts an image back (None: no item), bypassing moto, and brings the
    sorted indexes in step with it."""
    if range_key is None:
        if item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
    elif item is None:
        part = table.items.get(hash_key)
        if part is not None:
            part.pop(range_key, None)
            if not part:
                table.items.pop(hash_key, None)
    else:
        table.items.setdefault(hash_key, {})[range_key] = item
    sync(table, hash_key, range_key)


def lagged_read(table, read):
    """Runs read() against the table as it was FAULTS.lag seconds ago."""
    log = table.__dict__.get("_lag_log")
    if FAULTS.lag <= 0 or not log:
        return read()
    cutoff = clock() - FAULTS.lag
    while log and log[0][0] < cutoff:
        log.popleft()
    then = {}
    for _, hash_key, range_key, previous in log:  # oldest first: keep the first image
        then.setdefault((hash_key, range_key), previous)
    if not then:
        return read()
    now = {}
    for (hash_key, range_key), previous in then.items():
        now[(hash_key, range_key)] = stored(table, hash_key, range_key)
        place(table, hash_key, range_key, previous)
    FAULTS.count("indexLagReads")
    try:
        return read()
    finally:
        for (hash_key, range_key), current in now.items():
            place(table, hash_key, range_key, current)


_table_put = Table.put_item
_table_delete = Table.delete_item


def table_put_item(self, item_attrs, *args, **kwargs):
    if self.hash_key_attr not in item_attrs or (
            self.range_key_attr and self.range_key_attr not in item_attrs):
        return _table_put(self, item_attrs, *args, **kwargs)  # moto refuses it
    hash_key, range_key = key_of(self, item_attrs)
    previous = stored(self, hash_key, range_key) if FAULTS.lag > 0 else None  # replaced, never mutated
    item = _table_put(self, item_attrs, *args, **kwargs)
    sync(self, hash_key, range_key)
    log_write(self, hash_key, range_key, previous)
    return item


def table_delete_item(self, hash_key, range_key):
    item = _table_delete(self, hash_key, range_key)
    if item is not None:
        sync(self, hash_key, range_key)
        log_write(self, hash_key, range_key, item)
    return item


Table.put_item = table_put_item
Table.delete_item = table_delete_item


# ---------------------------------------------------------------------------
# Sorted indexes. moto answers a Query by listing every item of the table,
# sorting them all with DynamoType's comparisons (Python code that casts
# both values on every call) and walking them to the page: about 1.2 s for
# a page of 25 at 20,000 items. DynamoDB reads a partition of an index in
# its sort order from where the key condition and ExclusiveStartKey put
# it. So do we: for the table and each index, per partition key value, the
# entries in moto's own query order (for the table: the sort key; for an
# index: its sort key, then the table's keys), kept in step on every write
# (sync() after every path that changes an item: put, update, delete, the
# transaction's rollback, the lagged index's swaps, which all come through
# Table.put_item, Table.delete_item, DynamoDBBackend.update_item and
# place()). A query bisects to the key condition's bounds and past the
# ExclusiveStartKey and hands moto only the items a page can reach; moto's
# own query still validates, walks them, applies Limit and the 1 MB page,
# filters, projects and writes LastEvaluatedKey, so the answer is moto's.
# Sparse indexes stay sparse: an item without an index's key attributes has
# no entry. Anything the fast path does not cover (keys that are not S or
# N, multi-attribute keys, legacy QueryFilter, a start key from another
# partition, values that do not order) takes moto's own path.
#
# One difference from moto, on purpose: moto may end a page early because
# an item *outside* the key condition would not fit in the 1 MB page; the
# fast path hands moto only the first item past the range, so only that
# one can (DynamoDB never reads past the range at all).


class _Top:
    """Greater than any key value: (v, TOP) sorts after every (v, ...)."""

    def __lt__(self, other):
        return False

    def __gt__(self, other):
        return True

    def __eq__(self, other):
        return other is self

    __hash__ = object.__hash__


TOP = _Top()
QUERY_MODES = ("sorted", "walk", "moto")


class QueryMode:
    """How reads are answered: "sorted" (the sorted indexes, answers
    written as JSON directly), or a baseline: "walk" (the stack before
    them: a query walks every item and moto sorts them, moto's serializer
    writes the answer) or "moto" (moto's own query and serializer, none of
    our changes to reads). The benchmarks and the equivalence test compare
    them. POST /_moto {"queryMode": …} switches it."""

    mode = "sorted"


class Unordered(Exception):
    """A key value the sorted indexes do not order (not S or N)."""


def cast(value):
    """moto's DynamoType.cast_value for a key (S or N), without its calls."""
    if value.type == "S":
        return value.value
    if value.type == "N":
        return Decimal(value.value)
    raise Unordered(value.type)


def index_defs(table):
    """(name, hash attribute, range attribute) of the table (name None)
    and each index; an index with several hash or range attributes gets
    (name, None, None): not kept, its queries take moto's path."""
    out = [(None, table.hash_key_attr, table.range_key_attr)]
    for index in table.all_indexes():
        hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
        ranges = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
        if len(hashes) != 1 or len(ranges) > 1:
            out.append((index.name, None, None))
        else:
            out.append((index.name, hashes[0], ranges[0] if ranges else None))
    return tuple(out)


class SortedIndexes:
    """The entries of one table, per (index, partition key value)."""

    def __init__(self, table):
        self.defs = index_defs(table)
        self.items_id = id(table.items)
        self.ttl_attr = ttl_attribute(table)
        self.parts = {}     # (index name, (type, value)) -> SortedList of entries
        self.where = {}     # (index name, item ident) -> ((type, value), entry)
        self.broken = set()  # index names, or (name, pk) partitions, that take moto's path
        self.expiry = []    # heap of (ttl, hash key, range key): see "Time to live"
        for item in table_items(table):
            self.sync(table, item.hash_key, item.range_key, item)

    def entry(self, table, d, item):
        """(partition key, entry) of the item in index d, or None."""
        name, hk, rk = d
        if name is None:
            pk = (item.hash_key.type, cast(item.hash_key))
            return pk, ((cast(item.range_key),) if table.range_key_attr else ())
        hv = item.attrs.get(hk)
        if hv is None or (rk is not None and rk not in item.attrs):
            return None  # sparse: no entry without the index's keys
        return (hv.type, cast(hv)), tuple(cast(item.attrs[a]) for a in order_attrs(table, d))

    def sync(self, table, hash_key, range_key, item):
        if self.ttl_attr is not None and item is not None:
            expires = ttl_of(item, self.ttl_attr)
            if expires is not None:
                heapq.heappush(self.expiry, (expires, next(_ticket), hash_key, range_key))
                EXPIRING.add(table)
        ident = (cast(hash_key), cast(range_key) if range_key is not None else None)
        for d in self.defs:
            name = d[0]
            if name in self.broken or (name is not None and d[1] is None):
                continue
            try:
                new = self.entry(table, d, item) if item is not None else None
            except Unordered:
                self.broken.add(name)  # a key of a type we do not order: moto's path
                continue
            old = self.where.get((name, ident))
            if old == new:
                continue
            if old is not None:
                part = self.parts.get((name, old[0]))
                if part is not None:
                    part.discard(old[1])
                    if not part:
                        del self.parts[(name, old[0])]
                del self.where[(name, ident)]
            if new is not None:
                key = (name, new[0])
                part = self.parts.get(key)
                if part is None:
                    part = self.parts[key] = SortedList()
                try:
                    part.add(new[1])
                except TypeError:  # values of two types in one partition: moto's path
                    self.broken.add(key)
                    part.clear()
                self.where[(name, ident)] = new


def order_attrs(table, d):
    """The attributes whose values order an index's partition, as moto's
    query orders it: the index's sort key (for an index without one, the
    table's sort key, or its partition key), then the table's keys. For
    the table itself, its sort key."""
    name, hk, rk = d
    if name is None:
        return [table.range_key_attr] if table.range_key_attr else []
    out = [rk or table.range_key_attr or table.hash_key_attr, table.hash_key_attr]
    if table.range_key_attr:
        out.append(table.range_key_attr)
    return out


def sorted_indexes(table):
    """The table's sorted indexes, built on first use and again when its
    indexes or its item store change (UpdateTable, a restore)."""
    st = table.__dict__.get("_sorted")
    if st is None or st.items_id != id(table.items) or st.defs != index_defs(table) or st.ttl_attr != ttl_attribute(table):
        st = table.__dict__["_sorted"] = SortedIndexes(table)
    return st


def sync(table, hash_key, range_key):
    """Brings the sorted indexes in step with the item now stored at these
    keys (and forgets its size: it may have changed in place)."""
    item = stored(table, hash_key, range_key)
    forget_size(item)
    sorted_indexes(table).sync(table, hash_key, range_key, item)


def successor(prefix):
    """The least string greater than every string that starts with prefix
    (None: there is none)."""
    while prefix and prefix[-1] == "\U0010ffff":
        prefix = prefix[:-1]
    if not prefix:
        return None
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def key_range(part, op, values):
    """[lo, hi) of the entries whose first value meets the key condition."""
    n = len(part)
    if op is None:
        return 0, n
    v = [cast(x) for x in values]
    if op in ("EQ", "="):
        return part.bisect_left((v[0],)), part.bisect_left((v[0], TOP))
    if op in ("LT", "<"):
        return 0, part.bisect_left((v[0],))
    if op in ("LE", "<="):
        return 0, part.bisect_left((v[0], TOP))
    if op in ("GT", ">"):
        return part.bisect_left((v[0], TOP)), n
    if op in ("GE", ">="):
        return part.bisect_left((v[0],)), n
    if op == "BETWEEN":
        lo, hi = part.bisect_left((v[0],)), part.bisect_left((v[1], TOP))
        return lo, max(lo, hi)
    if op == "BEGINS_WITH":
        if not isinstance(v[0], str):
            raise Unordered("begins_with on a number")
        after = successor(v[0])
        return part.bisect_left((v[0],)), (part.bisect_left((after,)) if after is not None else n)
    raise Unordered(op)


def sorted_candidates(table, hash_key, range_comparison, range_objs, limit,
                      exclusive_start_key, scan_index_forward, index_name,
                      hash_key_conditions, range_key_conditions, filter_kwargs):
    """The items moto's query needs to answer this page, in ascending
    order, or None when the query takes moto's own path."""
    if filter_kwargs or (limit is not None and limit < 1):
        return None
    st = sorted_indexes(table)
    d = next((d for d in st.defs if d[0] == index_name), None)
    if d is None or d[1] is None or index_name in st.broken:
        return None
    name, hk, rk = d
    if name is None:
        if hash_key is None:
            return None
        pk_value = hash_key
    else:
        conds = hash_key_conditions or []
        if len(conds) != 1 or conds[0][0] != hk:
            return None
        pk_value = conds[0][1]
        if range_comparison is not None and rk is None:
            return None  # moto refuses it: let it say so
    if range_key_conditions and len(range_key_conditions) > 1:
        return None
    if range_key_conditions and range_key_conditions[-1][0] != (rk if name is not None else table.range_key_attr):
        return None
    try:
        pk = (pk_value.type, cast(pk_value))
    except Unordered:
        return None
    if (name, pk) in st.broken:
        return None
    part = st.parts.get((name, pk))
    if part is None:
        return []
    try:
        lo, hi = key_range(part, range_comparison, range_objs)
        if exclusive_start_key is not None:
            sort_attrs = order_attrs(table, d)
            esk_hash = exclusive_start_key.get(hk if name is not None else table.hash_key_attr)
            if esk_hash is None or any(a not in exclusive_start_key for a in sort_attrs):
                return None
            esk_hash = DynamoType(esk_hash)
            if (esk_hash.type, cast(esk_hash)) != pk:
                return None
            at = tuple(cast(DynamoType(exclusive_start_key[a])) for a in sort_attrs)
            if scan_index_forward:
                lo = max(lo, part.bisect_right(at))
            else:
                hi = min(hi, part.bisect_left(at))
    except (Unordered, TypeError, KeyError, ValueError, InvalidOperation):
        return None

    # Walk as moto will: up to Limit matching items, or the item that
    # would take the page past 1 MB, then one more candidate (an item in
    # the range or the first one past it) so that moto writes
    # LastEvaluatedKey exactly when it would have.
    if scan_index_forward:
        in_range = range(lo, hi)
        after = hi if hi < len(part) else None
    else:
        in_range = range(hi - 1, lo - 1, -1)
        after = lo - 1 if lo > 0 else None
    picked, size = [], 0
    for i in in_range:
        item = item_at(table, name, pk, part[i])
        picked.append(item)
        if limit is not None and len(picked) > limit:
            break
        s = item.size()
        if size + s > RESULT_SIZE_LIMIT:
            break
        size += s
    else:
        if after is not None:
            picked.append(item_at(table, name, pk, part[after]))
    if not scan_index_forward:
        picked.reverse()  # moto reverses ascending candidates itself
    return picked


def item_at(table, name, pk, entry):
    """The stored item of an entry: the table's keys are its last values
    (for the table itself, the partition and the entry's one value)."""
    if name is None:
        hash_key = DynamoType({pk[0]: key_text(pk[1])})
        range_key = DynamoType({table.range_key_type: key_text(entry[0])}) if table.range_key_attr else None
    else:
        tail = entry[-2:] if table.range_key_attr else entry[-1:]
        hash_key = DynamoType({table.hash_key_type: key_text(tail[0])})
        range_key = DynamoType({table.range_key_type: key_text(tail[1])}) if table.range_key_attr else None
    item = stored(table, hash_key, range_key)
    if item is None:  # never: every write path syncs. Say so rather than answer wrong.
        raise AssertionError("sorted index %s of %s out of step with the table at %r" % (name, table.name, entry))
    return item


def key_text(value):
    return value if isinstance(value, str) else str(value)


def keep_order(hash_key_attrs, range_key_attrs, items):
    return items


# ---------------------------------------------------------------------------
# Time to live. moto records a table's TimeToLiveSpecification and never
# deletes anything. DynamoDB deletes an item some time after the instant
# its TTL attribute (a Number, epoch seconds) names, at no cost, with a
# REMOVE stream record whose userIdentity is the service's
# ({"type": "Service", "principalId": "dynamodb.amazonaws.com"}); it
# leaves items whose instant is more than five years past, and items whose
# attribute is not a number. So do we: every write puts the item's
# instant on a heap (sync()), a sweeper deletes what is due every
# --ttl-sweep-seconds (default 1; DynamoDB takes up to a few days, so
# readers must ignore expired items anyway), and POST /_moto
# {"expireUntil": <epoch seconds>} sweeps as of another instant, for tests
# that travel in time. Deletions go through Table.delete_item, so the
# sorted indexes, the lagged index's log and the stream follow them, and
# the hostile stack's faults never touch them (they are DynamoDB's own
# work), only the writes of whoever consumes the stream.

SERVICE_IDENTITY = {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
FIVE_YEARS = 5 * 365 * 24 * 3600
EXPIRING = weakref.WeakSet()  # tables with an instant on their heap
_ticket = itertools.count()   # orders equal instants on a heap


def ttl_attribute(table):
    """The table's TTL attribute, when TTL is enabled on it."""
    spec = getattr(table, "ttl", None) or {}
    if spec.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") and spec.get("AttributeName"):
        return spec["AttributeName"]
    return None


def ttl_of(item, attr):
    """The item's expiry instant (epoch seconds), or None."""
    v = item.attrs.get(attr)
    if v is None or v.type != "N":
        return None
    try:
        return float(Decimal(v.value))
    except (InvalidOperation, ValueError):
        return None


def expire(now):
    """Deletes every item whose TTL instant is at or before now (epoch
    seconds), as DynamoDB's TTL does. Call with the request lock held.
    Returns how many were deleted."""
    done = 0
    for table in list(EXPIRING):
        st = sorted_indexes(table)
        attr = st.ttl_attr
        while st.expiry and st.expiry[0][0] <= now:
            when, _, hash_key, range_key = heapq.heappop(st.expiry)
            item = stored(table, hash_key, range_key)
            if item is None or attr is None:
                continue
            current = ttl_of(item, attr)
            if current is None or current > now or current < now - FIVE_YEARS:
                continue  # changed since (its new instant is on the heap too), or too old for TTL
            shard = table.stream_shard
            before = len(shard.items) if shard is not None else 0
            table.delete_item(hash_key, range_key)
            if shard is not None and len(shard.items) > before:
                shard.items[-1].record["userIdentity"] = dict(SERVICE_IDENTITY)
            done += 1
        if not st.expiry:
            EXPIRING.discard(table)
    return done


def sweeper(lock, every):
    """Expires items as time passes: DynamoDB's TTL, at `every` seconds."""
    while True:
        time.sleep(every)
        with lock:
            try:
                expire(time.time())
            except Exception as e:  # noqa: BLE001 - a sweep must never stop the server
                print("ttl sweep failed:", e, file=sys.stderr, flush=True)



# ---------------------------------------------------------------------------
# Answers in JSON, directly. moto 5 writes every answer through a serializer
# driven by botocore's shapes, attribute by attribute: about 55 ms for a
# page of 25 member items, twenty times the query itself. The reads'
# answers are DynamoDB JSON already (moto's DynamoResult has made each
# value a {type: value} dict), so they are written with json.dumps, binary
# values in base64 as the serializer writes them. Anything json cannot
# write as it is (a datetime: describe answers) still goes through moto's
# serializer; tests/localdb checks that both write the same answers (its
# baselines, QueryMode "walk" and "moto", write through the serializer).

FAST_ACTIONS = {"Query", "Scan", "GetItem", "BatchGetItem", "TransactGetItems"}


class NotPlain(TypeError):
    pass


def plain(value):
    """json's fallback for what a read's answer holds: moto's DynamoType
    values (as {type: value}, their insides written in turn) and bytes
    (base64, as the serializer writes binary values)."""
    if isinstance(value, DynamoType):
        return {value.type: value.value}
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    raise NotPlain(type(value).__name__)


_execute_result = DynamoResult.execute_result
_dynamo_result_init = DynamoResult.__init__


def dynamo_result_init(self, result):
    # A read's answer keeps moto's values until it is written (below); moto
    # first turns every value of every item into plain dicts (dynamo_to_dict),
    # half the time of a page of 25.
    if QueryMode.mode == "sorted":
        ActionResult.__init__(self, result)
        self.raw = True
    else:
        _dynamo_result_init(self, result)


def execute_result(self, context):
    if getattr(self, "raw", False):
        if context.operation_model.name in FAST_ACTIONS:
            try:
                body = json.dumps(self.result, default=plain, separators=(",", ":"))
            except NotPlain:
                pass
            else:
                return 200, {"Content-Type": context.serializer_class.CONTENT_TYPE}, body
        self._result, self.raw = dynamo_to_dict(self.result), False
    return _execute_result(self, context)


DynamoResult.__init__ = dynamo_result_init
DynamoResult.execute_result = execute_result


# ---------------------------------------------------------------------------
# Less work per answer (reads in QueryMode "sorted"): moto sizes each item of
# a page three times (Item.size() walks every attribute), deep-copies the
# page before projecting it, and lists its own package folder on every
# request. An item's size is kept until the item changes (sync() and
# update_item() forget it: every in-place change goes through them); the
# page is copied shallowly (nothing after the query changes the items: the
# projection makes new ones and the answer is written at once, under the
# request lock); moto's module list, and each handler's method names, are
# read once.

_item_size = Item.size


def item_size_kept(self):
    size = self.__dict__.get("_size")
    if size is None:
        size = self.__dict__["_size"] = _item_size(self)
    return size


def forget_size(item):
    if item is not None:
        item.__dict__.pop("_size", None)


Item.size = item_size_kept


class _PageCopy:
    """moto's table module's `copy`: a page of items is copied shallowly
    while a sorted query runs, anything else deeply as before."""

    shallow = False

    def __getattr__(self, name):
        return getattr(copy, name)

    def deepcopy(self, value, memo=None):
        if self.shallow and isinstance(value, list):
            return list(value)
        return copy.deepcopy(value, memo)


PAGE_COPY = _PageCopy()
moto_table_module.copy = PAGE_COPY

# An index that projects some attributes (INCLUDE, KEYS_ONLY): moto makes
# each item of a page go through plain JSON and boto3's serializer to keep
# them (0.7 ms an item). While a sorted query runs, the entry is the item's
# own values for those names instead: the same attributes and values, a
# number as it was written rather than as Decimal writes it again ("3e2"
# for "3E+2": the same number to every reader).
_index_project = SecondaryIndex.project


def index_project(self, item):
    kind = (self.projection or {}).get("ProjectionType")
    if not PAGE_COPY.shallow or kind not in ("INCLUDE", "KEYS_ONLY"):
        return _index_project(self, item)
    keep = set(self.table_key_attrs)
    keep.update(k["AttributeName"] for k in self.schema)
    if kind == "INCLUDE":
        keep.update(self.projection.get("NonKeyAttributes", []))
    out = Item.__new__(Item)
    out.hash_key, out.range_key = item.hash_key, item.range_key
    out.attrs = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.update(out.attrs, ((k, v) for k, v in item.attrs.items() if k in keep))
    return out


SecondaryIndex.project = index_project
_moto_modules = list(moto_backends.list_of_moto_modules())
moto_backends.list_of_moto_modules = lambda: iter(_moto_modules)
# moto makes each answer's request id from 52 random.choice calls.
moto_aws_headers.gen_amzn_requestid_long = lambda headerdict=None: request_id(headerdict)
moto_core_responses.gen_amzn_requestid_long = moto_aws_headers.gen_amzn_requestid_long


_ids = random.Random()


def request_id(headerdict):
    # Unique is all a request id needs; uuid4 reads os.urandom, which costs
    # 0.15 ms a call on these machines.
    rid = "%052X" % _ids.getrandbits(208)
    if isinstance(headerdict, dict):
        headerdict["x-amzn-requestid"] = rid
    return rid


# moto lists a handler class's methods (inspect.getmembers) on every call.
moto_core_responses.method_names_from_class = functools.lru_cache(maxsize=None)(
    moto_core_responses.method_names_from_class)


# ---------------------------------------------------------------------------
# UpdateItem: the finished item must fit in 400 KB; a refused update leaves
# the item and the stream as they were (moto would leave it half applied).

_backend_update = DynamoDBBackend.update_item


def update_item(self, table_name, key, *args, **kwargs):
    table = self.get_table(table_name)
    hash_key, range_key = self.get_keys_value(table, key)
    forget_size(stored(table, hash_key, range_key))  # changed in place below
    before = copy.deepcopy(table.get_item(hash_key, range_key))
    shard, table.stream_shard = table.stream_shard, None
    try:
        item = _backend_update(self, table_name, key, *args, **kwargs)
        if item_size(item.to_json()["Attributes"]) > MAX_ITEM_BYTES:
            raise ItemSizeToUpdateTooLarge()
    except Exception:
        place(table, hash_key, range_key, before)
        raise
    finally:
        table.stream_shard = shard
    sync(table, hash_key, range_key)
    if shard is not None:
        shard.add(before, item)
    log_write(table, hash_key, range_key, before)
    return item


DynamoDBBackend.update_item = update_item


# ---------------------------------------------------------------------------
# TransactWriteItems: all or nothing.

OPS = {"ConditionCheck", "Put", "Delete", "Update"}


def transact_write_items(self, transact_items):
    if len(transact_items) > MAX_TRANSACTION_ITEMS:
        raise TooManyTransactionsException()
    ops, seen = [], set()
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(entry.items()))
        if op_type not in OPS:
            raise ValueError("Unsupported transaction operation")
        table = self.get_table(op["TableName"])
        if op_type == "Put":
            attrs = op["Item"]
            key = {table.hash_key_attr: attrs[table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = attrs[table.range_key_attr]
        else:
            key = op["Key"]
        ident = (op["TableName"], str(sorted(key.items())))
        if ident in seen:
            raise MultipleTransactionsException()
        seen.add(ident)
        ops.append((op_type, op, table, key))

    # Every condition is judged against the state before the transaction.
    reasons, failed = [], False
    for op_type, op, table, key in ops:
        current = self.get_item(op["TableName"], key)
        cond = op.get("ConditionExpression")
        if cond is not None:
            check = get_filter_expression(
                cond, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues"))
            if not check.expr(current):
                old = None
                if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                    old = current.to_json()["Attributes"]
                reasons.append(("ConditionalCheckFailed", "The conditional request failed", old))
                failed = True
                continue
        reasons.append((None, None, None))
    if failed:
        raise TransactionCanceledException(reasons)

    # All or nothing: keep the named items to put back if a write fails, and
    # hold the stream records until the transaction has committed.
    saved, shards = [], {}
    for op_type, op, table, key in ops:
        hash_key, range_key = self.get_keys_value(table, key)
        saved.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
        if table.stream_shard is not None:
            shards[id(table)] = (table, table.stream_shard)
            table.stream_shard = None
    try:
        for i, (op_type, op, table, key) in enumerate(ops):
            name = op["TableName"]
            try:
                if op_type == "Put":
                    self.put_item(name, op["Item"])
                elif op_type == "Delete":
                    self.delete_item(name, key)
                elif op_type == "Update":
                    self.update_item(
                        name, key,
                        update_expression=op["UpdateExpression"],
                        expression_attribute_names=op.get("ExpressionAttributeNames"),
                        expression_attribute_values=op.get("ExpressionAttributeValues"),
                    )
            except ItemSizeToUpdateTooLarge:
                # DynamoDB can only size an update while the transaction
                # runs, so it cancels it rather than refusing the request.
                reasons = [(None, None, None)] * len(ops)
                reasons[i] = ("ValidationError", UPDATE_TOO_LARGE, None)
                raise TransactionCanceledException(reasons)
    except Exception:
        for table, hash_key, range_key, old in saved:
            place(table, hash_key, range_key, old)
        for table, shard in shards.values():
            table.stream_shard = shard
        raise
    for table, shard in shards.values():
        table.stream_shard = shard
    for (op_type, op, table, key), (_, hash_key, range_key, old) in zip(ops, saved):
        if op_type == "ConditionCheck" or table.stream_shard is None:
            continue
        new = table.get_item(hash_key, range_key)
        if old is not None or new is not None:
            table.stream_shard.add(old, new)


DynamoDBBackend.transact_write_items = transact_write_items

_table_query = Table.query
_table_scan = Table.scan


def table_items(table):
    """Every item of the table, in no order (a fresh list)."""
    out = []
    for hash_set in table.items.values():
        if table.range_key_attr:
            out.extend(hash_set.values())
        else:
            out.append(hash_set)
    return out


def query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
          scan_index_forward, projection_expressions, index_name=None,
          consistent_read=False, filter_expression=None, hash_key_conditions=None,
          range_key_conditions=None, **filter_kwargs):
    args = (hash_key, range_comparison, range_objs, limit, exclusive_start_key,
            scan_index_forward, projection_expressions, index_name, consistent_read,
            filter_expression)
    kwargs = dict(filter_kwargs, hash_key_conditions=hash_key_conditions,
                  range_key_conditions=range_key_conditions)
    def read():
        if QueryMode.mode == "moto":
            return _table_query(self, *args, **kwargs)
        candidates = None
        if QueryMode.mode == "sorted":
            candidates = sorted_candidates(
                self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                scan_index_forward, index_name, hash_key_conditions, range_key_conditions,
                filter_kwargs)
        if candidates is not None:
            self.all_items = lambda: candidates
            self.sorted_items = keep_order
            PAGE_COPY.shallow = True
        else:
            # The walk: a table query looks only at its partition, an index
            # query at every item unsorted (moto sorts the matches itself).
            self.all_items = partition if (index_name is None and hash_key is not None) else unsorted
        try:
            return _table_query(self, *args, **kwargs)
        finally:
            del self.all_items
            self.__dict__.pop("sorted_items", None)
            PAGE_COPY.shallow = False

    def unsorted():
        return table_items(self)

    def partition():
        hash_set = self.items.get(hash_key)
        if hash_set is None:
            return []
        return list(hash_set.values()) if self.range_key_attr else [hash_set]

    if index_name is not None:
        return lagged_read(self, read)
    return read()


def scan(self, *args, **kwargs):
    index_name = kwargs.get("index_name", args[4] if len(args) > 4 else None)
    if index_name is not None:
        return lagged_read(self, lambda: _table_scan(self, *args, **kwargs))
    start = kwargs.get("exclusive_start_key", args[2] if len(args) > 2 else None)

    def value(key):
        # A key is S, N or B: moto's cast_value, without its type tests.
        return Decimal(key.value) if key.type == "N" else key.value

    def order(item):
        h, r = value(item.hash_key), item.range_key
        return (h, value(r)) if r is not None else (h,)

    def from_start():
        # moto's own all_items sorts with DynamoType's comparisons (each one
        # Python code casting both values), then the scan compares every
        # item with the start key until it passes it: minutes a page at
        # 200,000 items. The same order from the cast values, and a binary
        # search for where the page begins.
        items = table_items(self)
        items.sort(key=order)
        if start:
            at = (value(DynamoType(start[self.hash_key_attr])),)
            if self.range_key_attr:
                at += (value(DynamoType(start[self.range_key_attr])),)
            items = items[bisect.bisect_right(items, at, key=order):]
        return items

    self.all_items = from_start
    try:
        return _table_scan(self, *args, **kwargs)
    finally:
        del self.all_items


Table.query = query
Table.scan = scan


# ---------------------------------------------------------------------------
# Checks made on the request itself, before anything runs (always on).


def check_request(op, req):
    if op == "PutItem":
        if item_size(req.get("Item", {})) > MAX_ITEM_BYTES:
            raise validation(PUT_TOO_LARGE)
    elif op == "BatchWriteItem":
        for writes in req.get("RequestItems", {}).values():
            for w in writes:
                put = w.get("PutRequest")
                if put and item_size(put.get("Item", {})) > MAX_ITEM_BYTES:
                    raise validation(PUT_TOO_LARGE)
    elif op == "TransactWriteItems":
        items = req.get("TransactItems", [])
        if len(items) > MAX_TRANSACTION_ITEMS:
            raise validation(
                "1 validation error detected: Value at 'TransactItems' failed to satisfy "
                "constraint: Member must have length less than or equal to 100")
        total = 0
        for entry in items:
            for op_type, action in entry.items():
                if op_type == "Put":
                    size = item_size(action.get("Item", {}))
                    if size > MAX_ITEM_BYTES:
                        raise validation(PUT_TOO_LARGE)
                elif op_type == "Update":
                    size = item_size(action.get("Key", {})) + sum(
                        value_size(v) for v in (action.get("ExpressionAttributeValues") or {}).values())
                else:
                    size = item_size(action.get("Key", {}))
                total += size
        if total > MAX_TRANSACTION_BYTES:
            raise validation(
                "Collection size of items exceeded, which can also be caused by the "
                "aggregate size of the items in the transaction exceeding the 4MB limit")
        token = req.get("ClientRequestToken")
        if token is not None and len(token) > MAX_TOKEN_LENGTH:
            raise validation(
                "1 validation error detected: Value '%s' at 'clientRequestToken' failed to "
                "satisfy constraint: Member must have length less than or equal to 36" % token)


def injected(kind, req, op):
    """The error answer of a fault that stops the call before it runs."""
    if kind == "throttling":
        return DynamoError(400, "ThrottlingException",
                           "Throughput exceeds the current capacity of your table or index. DynamoDB is "
                           "automatically scaling your table or index so please try again shortly. If "
                           "exceptions persist, check if you have a hot key: https://docs.aws.amazon.com/"
                           "amazondynamodb/latest/developerguide/bp-partition-key-design.html")
    if kind == "provisionedThroughputExceeded":
        return DynamoError(400, "ProvisionedThroughputExceededException",
                           "The level of configured provisioned throughput for the table was exceeded. "
                           "Consider increasing your provisioning level with the UpdateTable API.")
    if kind in ("internalError", "internalErrorAfterWrite"):
        return DynamoError(500, "InternalServerError", "Internal server error")
    if kind == "transactionConflict":
        n = max(len(req.get("TransactItems", [])), 1)
        conflicts = set(FAULTS.rng.sample(range(n), FAULTS.rng.randint(1, n)))
        reasons = [
            {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
            if i in conflicts else {"Code": "None"} for i in range(n)
        ]
        message = "Transaction cancelled, please refer cancellation reasons for specific reasons [%s]" % (
            ", ".join(r["Code"] for r in reasons))
        return DynamoError(400, "TransactionCanceledException", message,
                           extra={"CancellationReasons": reasons}, message_key="Message")
    raise ValueError(kind)


def withhold(op, req):
    """Splits a batch: returns (the request to run, what to report as
    unprocessed), or None when the batch has fewer than two entries."""
    requests = req.get("RequestItems", {})
    entries = []
    for table, spec in requests.items():
        keys = spec["Keys"] if op == "BatchGetItem" else spec
        entries.extend((table, i) for i in range(len(keys)))
    if len(entries) < 2:
        return None
    held = set(FAULTS.rng.sample(entries, FAULTS.rng.randint(1, len(entries) - 1)))
    run, unprocessed = {}, {}
    for table, spec in requests.items():
        keys = spec["Keys"] if op == "BatchGetItem" else spec
        kept = [k for i, k in enumerate(keys) if (table, i) not in held]
        left = [k for i, k in enumerate(keys) if (table, i) in held]
        if op == "BatchGetItem":
            rest = {k: v for k, v in spec.items() if k != "Keys"}
            if kept:
                run[table] = dict(rest, Keys=kept)
            if left:
                unprocessed[table] = dict(rest, Keys=left)
        else:
            if kept:
                run[table] = kept
            if left:
                unprocessed[table] = left
    return dict(req, RequestItems=run), unprocessed


def token_digest(req):
    return hashlib.sha256(json.dumps(req.get("TransactItems"), sort_keys=True).encode()).hexdigest()


# ---------------------------------------------------------------------------
# The server


def answer(start_response, status, body):
    """Our own answer, in DynamoDB's shape (the SDK checks X-Amz-Crc32)."""
    reason = {200: "OK", 400: "Bad Request", 500: "Internal Server Error"}[status]
    start_response("%d %s" % (status, reason), [
        ("Content-Type", "application/x-amz-json-1.0"),
        ("Content-Length", str(len(body))),
        ("x-amzn-RequestId", uuid.uuid4().hex.upper()),
        ("X-Amz-Crc32", str(zlib.crc32(body) & 0xFFFFFFFF)),
    ])
    return [body]


def with_body(headers, body):
    """moto's headers for a body we changed: new length and checksum."""
    out = [(k, v) for k, v in headers if k.lower() not in ("content-length", "x-amz-crc32")]
    out.append(("Content-Length", str(len(body))))
    out.append(("X-Amz-Crc32", str(zlib.crc32(body) & 0xFFFFFFFF)))
    return out


class Server:
    """One request at a time into moto, with DynamoDB's limits and faults."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/_faults":
            return self.control(environ, start_response)
        if environ.get("PATH_INFO") == "/_moto":
            return self.query_mode(environ, start_response)
        service, _, op = environ.get("HTTP_X_AMZ_TARGET", "").partition(".")
        if service != "DynamoDB_20120810" or op not in DATA_PLANE:
            with self.lock:
                # Materialise the body inside the lock: moto builds responses lazily.
                if not TRACE:
                    return list(self.app(environ, start_response))
                start = time.perf_counter()
                if PROFILE is not None:
                    PROFILE.enable()
                try:
                    out = list(self.app(environ, start_response))
                finally:
                    if PROFILE is not None:
                        PROFILE.disable()
                print("trace: %s %.2f ms" % (op or environ.get("PATH_INFO"), (time.perf_counter() - start) * 1000),
                      file=sys.stderr, flush=True)
                return out
        body = read_body(environ)  # outside the lock: a slow client blocks nobody
        if not TRACE:
            with self.lock:
                return self.data_plane(op, body, environ, start_response)
        queued = time.perf_counter()
        with self.lock:
            start = time.perf_counter()
            if PROFILE is not None:
                PROFILE.enable()
            try:
                out = self.data_plane(op, body, environ, start_response)
            finally:
                if PROFILE is not None:
                    PROFILE.disable()
            done = time.perf_counter()
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            req = {}
        key = (req.get("Key") or req.get("Item") or {}).get("PK", {}).get("S", "")
        print("trace: %s %s%s %.2f ms (waited %.2f ms) %s" % (
            op, req.get("TableName", ""), ("/" + req["IndexName"]) if req.get("IndexName") else "",
            (done - start) * 1000, (start - queued) * 1000, key.split("#")[0]), file=sys.stderr, flush=True)
        return out

    def run(self, environ, body):
        """Calls moto; returns (status line, headers, body)."""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        if QueryMode.mode == "sorted":
            return fast_read(environ, body) or direct(environ)
        seen = {}

        def start(status, headers, exc_info=None):
            seen["status"], seen["headers"] = status, headers
            return lambda data: chunks.append(data)

        chunks = []
        result = self.app(environ, start)
        try:
            for chunk in result:
                chunks.append(chunk)
        finally:
            if hasattr(result, "close"):
                result.close()
        return seen["status"], seen["headers"], b"".join(chunks)

    def data_plane(self, op, body, environ, start_response):
        needs_request = op in ("PutItem", "BatchWriteItem", "TransactWriteItems")
        kind = FAULTS.pick(op)
        req = None
        if needs_request or kind in ("transactionConflict", "unprocessed"):
            try:
                req = json.loads(body or b"{}")
            except ValueError:
                req = None  # moto answers a malformed request
        try:
            if req is not None:
                check_request(op, req)
            token = req.get("ClientRequestToken") if (req is not None and op == "TransactWriteItems") else None
            if kind == "unprocessed" and req is not None:
                split = withhold(op, req)
                if split is None:  # nothing left to hold back: DynamoDB throttles the call
                    kind = "provisionedThroughputExceeded" if FAULTS.allowed("provisionedThroughputExceeded") else None
            if kind in ("throttling", "provisionedThroughputExceeded", "internalError", "transactionConflict"):
                FAULTS.count(kind)
                raise injected(kind, req or {}, op)
            if token is not None:
                now = time.monotonic()
                for t in [t for t, (_, at) in FAULTS.tokens.items() if at < now - FAULTS.token_ttl]:
                    del FAULTS.tokens[t]
                known = FAULTS.tokens.get(token)
                if known is not None:
                    if known[0] != token_digest(req):
                        raise DynamoError(400, "IdempotentParameterMismatchException",
                                          "DynamoDB rejected the request because you retried a request "
                                          "with a different payload but with an idempotent token that "
                                          "was already used.")
                    FAULTS.token_replays += 1  # committed already: success, nothing applied
                    return answer(start_response, 200, b"{}")
        except DynamoError as e:
            return answer(start_response, e.status, e.body())

        if kind == "unprocessed" and req is not None:
            run_req, unprocessed = split
            status, headers, out = self.run(environ, json.dumps(run_req).encode())
            if status.startswith("200"):
                FAULTS.count("unprocessed")
                resp = json.loads(out or b"{}")
                field = "UnprocessedKeys" if op == "BatchGetItem" else "UnprocessedItems"
                resp[field] = dict(resp.get(field) or {}, **unprocessed)
                out = json.dumps(resp).encode()
                headers = with_body(headers, out)
            start_response(status, headers)
            return [out]

        status, headers, out = self.run(environ, body)
        ok = status.startswith("200")
        if token is not None and ok:
            FAULTS.tokens[token] = (token_digest(req), time.monotonic())
        if kind == "internalErrorAfterWrite" and ok:
            # The write happened; the caller is told it failed.
            FAULTS.count("internalErrorAfterWrite")
            e = injected(kind, req or {}, op)
            return answer(start_response, e.status, e.body())
        start_response(status, headers)
        return [out]

    def query_mode(self, environ, start_response):
        """GET /_moto: {"queryMode"}; POST {"queryMode": "sorted"|"walk"|"moto"} sets
        it; POST {"expireUntil": <epoch seconds>} expires what is due by then."""
        method = environ.get("REQUEST_METHOD", "GET")
        with self.lock:
            if method == "POST":
                try:
                    req = json.loads(read_body(environ) or b"{}")
                    mode = req.get("queryMode", QueryMode.mode)
                except (ValueError, AttributeError):
                    req, mode = {}, None
                if PROFILE is not None and req.get("profile") == "reset":
                    reset_profile()
                if "expireUntil" in req:
                    try:
                        n = expire(float(req["expireUntil"]))
                    except (TypeError, ValueError):
                        return json_answer(start_response, "400 Bad Request",
                                           {"message": "expireUntil must be epoch seconds"})
                    return json_answer(start_response, "200 OK", {"queryMode": QueryMode.mode, "expired": n})
                if mode not in QUERY_MODES:
                    return json_answer(start_response, "400 Bad Request",
                                       {"message": "queryMode must be one of %s" % ", ".join(QUERY_MODES)})
                QueryMode.mode = mode
            elif method != "GET":
                start_response("405 Method Not Allowed", [("Allow", "GET, POST"), ("Content-Length", "0")])
                return [b""]
            return json_answer(start_response, "200 OK", {"queryMode": QueryMode.mode})

    def control(self, environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET")
        with self.lock:
            if method == "POST":
                try:
                    FAULTS.configure(json.loads(read_body(environ) or b"{}"))
                except (ValueError, TypeError) as e:
                    out = json.dumps({"message": str(e)}).encode()
                    start_response("400 Bad Request", [("Content-Type", "application/json"), ("Content-Length", str(len(out)))])
                    return [out]
                print("faults:", json.dumps(FAULTS.state()), file=sys.stderr, flush=True)
            elif method != "GET":
                start_response("405 Method Not Allowed", [("Allow", "GET, POST"), ("Content-Length", "0")])
                return [b""]
            out = json.dumps(FAULTS.state()).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(out)))])
        return [out]


class DirectRequest(MotoRequest):
    from_wsgi_server = True


def direct(environ):
    """A data-plane call handed to moto's DynamoDB handler directly, as its
    Flask app would hand it (moto's request, URL and headers; its status,
    headers and body back), without the app's routing, request context and
    CORS: about half of a small call's time. QueryMode "walk" and "moto" go
    through the app, so tests/localdb compares the two."""
    req = DirectRequest(environ)
    status, headers, body = DynamoHandler.dispatch(req, req.raw_url, dict(req.headers))
    if isinstance(body, str):
        body = body.encode("utf-8")
    status = int(status)
    reason = {200: "OK", 400: "Bad Request", 500: "Internal Server Error"}.get(status, "")
    out = [(k, str(v)) for k, v in headers.items() if k.lower() not in ("status", "content-length")]
    out.append(("Content-Length", str(len(body))))
    return "%d %s" % (status, reason), out, body


FAST_READS = {"Query": "query", "GetItem": "get_item", "BatchGetItem": "batch_get_item"}
BINARY = re.compile(rb'"BS?"\s*:')


def fast_read(environ, body):
    """A Query, GetItem or BatchGetItem answered by moto's own handler
    method, without the request's dispatch (moto's Request, its parameter
    parsing by botocore shapes, its response building): most of a small
    read's time. Anything unusual (binary values, which moto's parser would
    decode, or any error, so that every error is moto's own answer) goes
    the whole way instead: reads change nothing, so trying twice is safe.
    Returns (status line, headers, body), or None."""
    method = FAST_READS.get(environ.get("HTTP_X_AMZ_TARGET", "").partition(".")[2])
    if method is None or BINARY.search(body):
        return None
    try:
        params = json.loads(body)
        handler = DynamoHandler()
        handler.body = params
        handler.region, handler.current_account = caller_of(environ)
        result = getattr(handler, method)()
        out = json.dumps(result.result, default=plain, separators=(",", ":")).encode()
    except Exception:  # noqa: BLE001 - moto's own path answers it, errors included
        return None
    return "200 OK", [
        ("Content-Type", "application/x-amz-json-1.0"),
        ("Content-Length", str(len(out))),
        ("x-amzn-RequestId", request_id(None)),
        ("X-Amz-Crc32", str(zlib.crc32(out) & 0xFFFFFFFF)),
        ("server", "amazon.com"),
    ], out


_callers = {}


def caller_of(environ):
    """(region, account) of a request, as moto's BaseResponse finds them
    (the Authorization header's scope; the account from MOTO_ACCOUNT_ID,
    x-moto-account-id or the access key), remembered per header."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    scope = auth.split(",")[0]
    key = (scope, environ.get("HTTP_X_MOTO_ACCOUNT_ID"))
    known = _callers.get(key)
    if known is None:
        from moto.iam.models import get_account_id_from

        region = scope.split("/")[2] if "AWS4" in auth and scope.count("/") >= 2 else "us-east-1"
        access_key = scope.split("Credential=")[1].split("/")[0] if "Credential=" in scope else "AKIAEXAMPLE"
        account = os.environ.get("MOTO_ACCOUNT_ID") or key[1] or get_account_id_from(access_key)
        known = _callers[key] = (region, account)
    return known


def json_answer(start_response, status, value):
    out = json.dumps(value).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(out)))])
    return [out]


def read_body(environ):
    length = environ.get("CONTENT_LENGTH")
    if not length:  # chunked: the server's stream ends with the body
        return environ["wsgi.input"].read() if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "") else b""
    try:
        return environ["wsgi.input"].read(int(length))
    except ValueError:
        return b""


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--fault-rate", type=float, default=0.0,
                   help="probability that a data-plane call fails as DynamoDB fails (0-1)")
    p.add_argument("--index-lag-ms", type=int, default=0,
                   help="index (GSI) reads see the table as it was this long ago")
    p.add_argument("--seed", type=int, default=None, help="seed for the faults (default: random)")
    p.add_argument("--ttl-sweep-seconds", type=float, default=1.0,
                   help="how often expired items are deleted (DynamoDB's TTL); 0: never (POST /_moto expireUntil only)")
    args = p.parse_args()
    FAULTS.configure({"rate": args.fault_rate, "indexLagMs": args.index_lag_ms, "seed": args.seed})
    print("faults:", json.dumps(FAULTS.state()), file=sys.stderr, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if not TRACE:
        # werkzeug logs a line per request: hundreds a second under load,
        # each through Python's logging. MOTO_TRACE=1 keeps them.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = DomainDispatcherApplication(create_backend_app)
    server = Server(app)
    if args.ttl_sweep_seconds > 0:
        threading.Thread(target=sweeper, args=(server.lock, args.ttl_sweep_seconds), daemon=True).start()
    run_simple(args.host, args.port, server, threaded=True,
               request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
