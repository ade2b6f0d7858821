"""The local DynamoDB's sorted indexes answer every Query page exactly as
moto's own query does.

scripts/moto_server.py keeps each partition of a table and of its indexes
in order and hands moto only the items a page can reach. This test drives
the real server (in this process, through boto3) with random writes on
every path that changes an item: puts, conditional puts, updates that set
and remove index keys, deletes, batches (half done, as the hostile stack
does them), transactions (committed, cancelled by a condition, and
cancelled half way by an update too large, which rolls back), and index
reads that lag the table. After each step it runs random queries, and at
the end every query shape on every partition, page by page in both
directions, once with the sorted indexes and once with moto's unpatched
query, and compares the answers (items, counts, LastEvaluatedKey). It
also checks that the indexes equal ones rebuilt from the table.

Run: .venv/bin/python -m pytest tests/localdb (make test runs it).
SORTED_INDEX_SEEDS=1,2 (the default) picks the seeds; SORTED_INDEX_STEPS the writes.
"""

import logging
import os
import random
import sys
import threading
from decimal import Decimal

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import moto_server  # noqa: E402  (patches moto on import)
from moto.dynamodb.models import dynamodb_backends  # noqa: E402
from moto.moto_server.werkzeug_app import (  # noqa: E402
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server  # noqa: E402

SEEDS = [int(s) for s in os.environ.get("SORTED_INDEX_SEEDS", "1,2").split(",")]
STEPS = int(os.environ.get("SORTED_INDEX_STEPS", "300"))
ACCOUNT, REGION = "123456789012", "us-east-1"


@pytest.fixture(scope="module")
def db():
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", 0, moto_server.Server(app), threaded=True,
                         request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client = boto3.client(
        "dynamodb", endpoint_url="http://127.0.0.1:%d" % server.server_port,
        region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}))
    yield client
    server.shutdown()


# Key values chosen to collide, share prefixes and sort in surprising ways.
STRINGS = ["a", "ab", "abc", "abd", "b", "ba", "b#1", "b#10", "b#2", "z", "é", "\U0001f600", "~"]
NUMBERS = ["0", "1", "-1", "1.5", "10", "2", "-0.25", "100", "3e2", "7"]


def s_value(rng):
    return {"S": rng.choice(STRINGS) + (rng.choice(STRINGS) if rng.random() < 0.3 else "")}


def n_value(rng):
    return {"N": rng.choice(NUMBERS)}


class Shape:
    """A table: its key types and indexes, and random values for each key."""

    def __init__(self, name, hash_type, range_type, indexes):
        self.name, self.hash_type, self.range_type = name, hash_type, range_type
        self.indexes = indexes  # name -> (hash attr, hash type, range attr or None, range type)

    def value(self, rng, kind):
        return s_value(rng) if kind == "S" else n_value(rng)

    def create(self, client):
        attrs = {"PK": self.hash_type, "SK": self.range_type}
        gsis, lsis = [], []
        for name, (h, ht, r, rt) in self.indexes.items():
            attrs[h] = ht
            schema = [{"AttributeName": h, "KeyType": "HASH"}]
            if r:
                attrs[r] = rt
                schema.append({"AttributeName": r, "KeyType": "RANGE"})
            projection = {"ProjectionType": "ALL"}
            if name.endswith("Include"):
                projection = {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["note"]}
            elif name.endswith("Keys"):
                projection = {"ProjectionType": "KEYS_ONLY"}
            (lsis if h == "PK" else gsis).append(
                {"IndexName": name, "KeySchema": schema, "Projection": projection})
        kwargs = dict(
            TableName=self.name, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in attrs.items()],
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"},
                       {"AttributeName": "SK", "KeyType": "RANGE"}])
        if gsis:
            kwargs["GlobalSecondaryIndexes"] = gsis
        if lsis:
            kwargs["LocalSecondaryIndexes"] = lsis
        client.create_table(**kwargs)

    def key(self, rng):
        return {"PK": self.small(rng, self.hash_type), "SK": self.value(rng, self.range_type)}

    def small(self, rng, kind):
        # Few partitions of the table, so they fill up.
        return {"S": rng.choice(["p", "q", "r"])} if kind == "S" else {"N": rng.choice(["1", "2", "3"])}

    def item(self, rng):
        item = self.key(rng)
        for h, ht, r, rt in self.indexes.values():
            if h != "PK" and rng.random() < 0.85:  # sparse: some items have no entry
                item[h] = self.small(rng, ht)
            if r and rng.random() < 0.85:
                item[r] = self.value(rng, rt)
        item["note"] = {"S": "n%d" % rng.randint(0, 9)}
        if rng.random() < 0.3:
            item["other"] = {"N": str(rng.randint(0, 5))}
        if rng.random() < 0.4:  # every type, for the answers written as JSON
            item.update(rng.choice(EXTRAS))
        return item


EXTRAS = [
    {"bin": {"B": b"\x00\xffbytes"}, "bins": {"BS": [b"a", b"\x01\x02"]}},
    {"strs": {"SS": ["x", "é", "\U0001f600"]}, "nums": {"NS": ["1", "-2.5", "1e3"]}},
    {"list": {"L": [{"S": "a"}, {"N": "1"}, {"BOOL": False}, {"NULL": True}, {"B": b"\x07"}]}},
    {"map": {"M": {"k": {"S": "v"}, "n": {"M": {"deep": {"L": [{"N": "0.001"}]}}}, "b": {"BS": [b"z"]}}}},
    {"flag": {"BOOL": True}, "nil": {"NULL": True}, "quote": {"S": "\"\\ </script> \u2028"}},
]


SHAPES = [
    Shape("strings", "S", "S", {
        "ByWord": ("gh", "S", "gr", "S"),
        "ByNumberInclude": ("gh", "S", "gn", "N"),
        "ByHashKeys": ("gk", "S", None, None),
        "LocalWord": ("PK", "S", "lr", "S"),
    }),
    Shape("numbers", "N", "N", {
        "ByNumber": ("gh", "N", "gn", "N"),
        "ByWord": ("gw", "N", "gr", "S"),
    }),
]


def write(client, rng, shape, stats):
    """One random write on some path that changes items."""
    op = rng.random()
    try:
        if op < 0.30:
            kwargs = {}
            if rng.random() < 0.3:
                kwargs["ConditionExpression"] = "attribute_not_exists(PK)"
            client.put_item(TableName=shape.name, Item=shape.item(rng), **kwargs)
        elif op < 0.55:
            client.update_item(TableName=shape.name, Key=shape.key(rng), **update(rng, shape))
        elif op < 0.65:
            client.delete_item(TableName=shape.name, Key=shape.key(rng))
        elif op < 0.80:
            requests, seen = [], set()
            for _ in range(rng.randint(2, 12)):
                if rng.random() < 0.7:
                    item = shape.item(rng)
                    key = (str(item["PK"]), str(item["SK"]))
                    if key not in seen:
                        seen.add(key)
                        requests.append({"PutRequest": {"Item": item}})
                else:
                    k = shape.key(rng)
                    key = (str(k["PK"]), str(k["SK"]))
                    if key not in seen:
                        seen.add(key)
                        requests.append({"DeleteRequest": {"Key": k}})
            out = client.batch_write_item(RequestItems={shape.name: requests})
            if out.get("UnprocessedItems"):
                stats["half done batches"] += 1
        else:
            transact(client, rng, shape, stats)
    except ClientError as e:
        stats[e.response["Error"]["Code"]] += 1


def update(rng, shape):
    sets, removes, values, used = [], [], {}, set()
    for h, ht, r, rt in shape.indexes.values():
        if h in used or r in used:
            continue
        used.update([h, r])
        if h != "PK":
            if rng.random() < 0.25:
                sets.append("%s = :h%d" % (h, len(values)))
                values[":h%d" % len(values)] = shape.small(rng, ht)
            elif rng.random() < 0.1:
                removes.append(h)
        if r:
            if rng.random() < 0.35:
                sets.append("%s = :r%d" % (r, len(values)))
                values[":r%d" % len(values)] = shape.value(rng, rt)
            elif rng.random() < 0.1:
                removes.append(r)
    if not sets and not removes:
        sets.append("note = :n")
        values[":n"] = {"S": "u%d" % rng.randint(0, 9)}
    expr = ""
    if sets:
        expr += "SET " + ", ".join(sets)
    if removes:
        expr += " REMOVE " + ", ".join(sorted(set(removes)))
    out = {"UpdateExpression": expr.strip()}
    if values:
        out["ExpressionAttributeValues"] = values
    return out


def transact(client, rng, shape, stats):
    ops, seen = [], set()
    how = rng.random()
    for i in range(rng.randint(2, 6)):
        k = shape.key(rng)
        ident = (str(k["PK"]), str(k["SK"]))
        if ident in seen:
            continue
        seen.add(ident)
        kind = rng.random()
        if kind < 0.4:
            item = shape.item(rng)
            item.update(k)
            ops.append({"Put": {"TableName": shape.name, "Item": item}})
        elif kind < 0.75:
            ops.append({"Update": dict(update(rng, shape), TableName=shape.name, Key=k)})
        elif kind < 0.9:
            ops.append({"Delete": {"TableName": shape.name, "Key": k}})
        else:
            ops.append({"ConditionCheck": {"TableName": shape.name, "Key": k,
                                           "ConditionExpression": "attribute_exists(PK) OR attribute_not_exists(PK)"}})
    if not ops:
        return
    if how < 0.2:
        # Cancelled by a condition: nothing may change.
        ops[-1] = {"ConditionCheck": {"TableName": shape.name, "Key": list(ops[-1].values())[0].get("Key") or {
            "PK": list(ops[-1].values())[0]["Item"]["PK"], "SK": list(ops[-1].values())[0]["Item"]["SK"]},
            "ConditionExpression": "attribute_exists(nothing_has_this)"}}
        stats["cancelled by a condition"] += 1
    elif how < 0.35:
        # Cancelled half way: the last update makes its item too large, after
        # the writes before it were applied; they are rolled back.
        last = list(ops[-1].values())[0]
        key = last.get("Key") or {"PK": last["Item"]["PK"], "SK": last["Item"]["SK"]}
        ops[-1] = {"Update": {"TableName": shape.name, "Key": key, "UpdateExpression": "SET #p = :p",
                              "ExpressionAttributeNames": {"#p": "pad"},
                              "ExpressionAttributeValues": {":p": {"S": "x" * 410_000}}}}
        stats["cancelled half way"] += 1
    client.transact_write_items(TransactItems=ops)


def conditions(shape, index, rng):
    """Key conditions for a query of one partition: (expression, values)."""
    if index is None:
        rk, kind = "SK", shape.range_type
    else:
        h, ht, rk, kind = shape.indexes[index]
    out = [("", {})]
    if rk is None:
        return out
    v1, v2 = shape.value(rng, kind), shape.value(rng, kind)
    if kind == "N":
        lo, hi = sorted([v1, v2], key=lambda v: Decimal(v["N"]))
    else:
        lo, hi = sorted([v1, v2], key=lambda v: v["S"])
    for op in ("=", "<", "<=", ">", ">="):
        out.append((" AND #r %s :a" % op, {":a": v1}))
    out.append((" AND #r BETWEEN :a AND :b", {":a": lo, ":b": hi}))
    if kind == "S":
        out.append((" AND begins_with(#r, :a)", {":a": {"S": v1["S"][:1]}}))
        out.append((" AND begins_with(#r, :a)", {":a": v1}))
    return out


def canon(value):
    """An answer with its numbers as numbers: moto's projection writes an
    index entry's numbers again through Decimal ("3E+2" for "3e2"), ours
    keeps them as written; DynamoDB answers its own canonical form, so no
    reader can rely on either spelling, only on the number."""
    if isinstance(value, dict):
        if set(value) == {"N"}:
            return {"N": Decimal(value["N"])}
        if set(value) == {"NS"}:
            return {"NS": sorted(Decimal(n) for n in value["NS"])}
        return {k: canon(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canon(v) for v in value]
    return value


def query(client, mode, **kwargs):
    moto_server.QueryMode.mode = mode
    try:
        out = client.query(**kwargs)
    except ClientError as e:
        return {"error": e.response["Error"]["Code"]}
    finally:
        moto_server.QueryMode.mode = "sorted"
    out.pop("ResponseMetadata", None)
    return out


def compare_pages(client, rng, shape, index, pk, cond, values, limit, forward,
                  filtered=False, write_between=None):
    """Every page of one query in both modes; returns how many pages."""
    if index is None:
        hk, rk = "PK", "SK"
    else:
        hk, _, rk, _ = shape.indexes[index]
    kwargs = {"TableName": shape.name, "ScanIndexForward": forward,
              "KeyConditionExpression": "#h = :h" + cond,
              "ExpressionAttributeNames": {"#h": hk},
              "ExpressionAttributeValues": dict(values, **{":h": pk})}
    if "#r" in cond:
        kwargs["ExpressionAttributeNames"]["#r"] = rk
    if index is not None:
        kwargs["IndexName"] = index
    if limit is not None:
        kwargs["Limit"] = limit
    if filtered:
        kwargs["FilterExpression"] = "attribute_exists(other)"
    pages = 0
    while True:
        ours = query(client, "sorted", **kwargs)
        theirs = query(client, "moto", **kwargs)
        assert canon(ours) == canon(theirs), "page %d of %r differs:\nsorted: %r\nmoto:   %r" % (pages + 1, kwargs, ours, theirs)
        pages += 1
        lek = ours.get("LastEvaluatedKey")
        if not lek or pages > 400:
            return pages
        kwargs["ExclusiveStartKey"] = lek
        if write_between is not None:
            write_between()


def same(client, op, **kwargs):
    ours = call(client, "sorted", op, **kwargs)
    theirs = call(client, "moto", op, **kwargs)
    assert canon(ours) == canon(theirs), "%s %r differs:\nsorted: %r\nmoto:   %r" % (op, kwargs, ours, theirs)
    return ours


def call(client, mode, op, **kwargs):
    moto_server.QueryMode.mode = mode
    try:
        out = getattr(client, op)(**kwargs)
    except ClientError as e:
        return {"error": e.response["Error"]["Code"]}
    finally:
        moto_server.QueryMode.mode = "sorted"
    out.pop("ResponseMetadata", None)
    return out


def compare_other_reads(client, rng, shape):
    """Scans (table and index, paged), GetItem, BatchGetItem and
    TransactGetItems answer alike in both modes."""
    for index in [None] + list(shape.indexes):
        kwargs = {"TableName": shape.name, "Limit": rng.choice([3, 50])}
        if index is not None:
            kwargs["IndexName"] = index
        while True:
            page = same(client, "scan", **kwargs)
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    keys = [shape.key(rng) for _ in range(30)]
    unique = list({(str(k["PK"]), str(k["SK"])): k for k in keys}.values())
    for k in unique[:10]:
        same(client, "get_item", TableName=shape.name, Key=k)
        same(client, "get_item", TableName=shape.name, Key=k, ProjectionExpression="note, #m",
             ExpressionAttributeNames={"#m": "map"})
    same(client, "batch_get_item", RequestItems={shape.name: {"Keys": unique[:25]}})
    same(client, "transact_get_items", TransactItems=[{"Get": {"TableName": shape.name, "Key": k}} for k in unique[:20]])


def partitions(shape, index, rng):
    if index is None:
        kind = shape.hash_type
    else:
        kind = shape.indexes[index][1]
    values = ["p", "q", "r", "nothing"] if kind == "S" else ["1", "2", "3", "99"]
    return [{kind: v} for v in values]


def check_rebuilt(shape):
    table = dynamodb_backends[ACCOUNT][REGION].get_table(shape.name)
    live = moto_server.sorted_indexes(table)
    fresh = moto_server.SortedIndexes(table)
    assert live.where == fresh.where, "sorted indexes of %s out of step with the table" % shape.name
    assert {k: list(v) for k, v in live.parts.items()} == {k: list(v) for k, v in fresh.parts.items()}
    assert not live.broken


@pytest.mark.parametrize("seed", SEEDS)
def test_every_page_equals_motos(db, seed):
    rng = random.Random(seed)
    clock = [1000.0]
    real_clock, real_faults = moto_server.clock, moto_server.FAULTS
    moto_server.clock = lambda: clock[0]
    moto_server.FAULTS = moto_server.Faults(rate=0.0, lag_ms=0, seed=seed)
    stats = {}

    class Count(dict):
        def __missing__(self, key):
            return 0

    stats = Count()
    try:
        for shape in SHAPES:
            shape.name = "%s%d" % (shape.name.rstrip("0123456789"), seed)
            shape.create(db)
        pages = 0
        for step in range(STEPS):
            shape = rng.choice(SHAPES)
            # Some stretches with half-done batches, some with lagging index reads.
            faults = moto_server.FAULTS
            faults.configure({"rate": 0.5 if step % 100 < 30 else 0.0, "kinds": ["unprocessed"]})
            faults.lag = 3.0 if step % 120 >= 60 else 0.0
            write(db, rng, shape, stats)
            clock[0] += 1.0
            if step % 10 == 9:
                index = rng.choice([None] + list(shape.indexes))
                pk = rng.choice(partitions(shape, index, rng))
                cond, values = rng.choice(conditions(shape, index, rng))
                pages += compare_pages(
                    db, rng, shape, index, pk, cond, values, rng.choice([None, 1, 2, 5]),
                    rng.random() < 0.5, filtered=rng.random() < 0.3,
                    write_between=(lambda s=shape: write(db, rng, s, stats)) if rng.random() < 0.5 else None)
        moto_server.FAULTS.configure({"rate": 0.0})
        moto_server.FAULTS.lag = 0.0
        for shape in SHAPES:
            check_rebuilt(shape)
            compare_other_reads(db, rng, shape)
            for index in [None] + list(shape.indexes):
                for pk in partitions(shape, index, rng):
                    for cond, values in conditions(shape, index, rng):
                        for limit in (None, 2, 7):
                            for forward in (True, False):
                                pages += compare_pages(db, rng, shape, index, pk, cond, values, limit, forward)
        print("seed %d: %d pages compared; %s" % (seed, pages, dict(stats)))
        # The paths this test means to cover were taken.
        for what in ("half done batches", "cancelled by a condition", "cancelled half way"):
            assert stats[what] > 0, "no %s in %d steps" % (what, STEPS)
        assert moto_server.FAULTS.counts["indexLagReads"] > 0
        assert stats["TransactionCanceledException"] > 0
    finally:
        moto_server.clock, moto_server.FAULTS = real_clock, real_faults


def test_an_index_added_later_is_built_from_the_table(db):
    rng = random.Random(7)
    shape = Shape("later", "S", "S", {})
    shape.create(db)
    for _ in range(60):
        db.put_item(TableName="later", Item={
            "PK": {"S": rng.choice("pq")}, "SK": s_value(rng), "late": {"S": rng.choice("xy")},
            "lateSort": n_value(rng)})
    db.update_table(
        TableName="later",
        AttributeDefinitions=[{"AttributeName": "late", "AttributeType": "S"},
                              {"AttributeName": "lateSort", "AttributeType": "N"}],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "Late", "Projection": {"ProjectionType": "ALL"},
            "KeySchema": [{"AttributeName": "late", "KeyType": "HASH"},
                          {"AttributeName": "lateSort", "KeyType": "RANGE"}]}}])
    shape.indexes = {"Late": ("late", "S", "lateSort", "N")}
    for pk in ({"S": "x"}, {"S": "y"}):
        for cond, values in conditions(shape, "Late", rng):
            for forward in (True, False):
                compare_pages(db, rng, shape, "Late", pk, cond, values, 4, forward)
    check_rebuilt(shape)


def test_the_start_up_check_names_what_moved(monkeypatch):
    import moto
    assert moto_server.check_moto.__doc__
    monkeypatch.setattr(moto, "__version__", "9.9.9")
    problems = moto_server.check_moto()
    assert any("moto 9.9.9 is installed" in p for p in problems), problems


def test_query_mode_is_switched_by_its_control(db):
    import json
    import urllib.request
    base = db.meta.endpoint_url
    req = urllib.request.Request(base + "/_moto", data=json.dumps({"queryMode": "walk"}).encode(), method="POST")
    assert json.load(urllib.request.urlopen(req)) == {"queryMode": "walk"}
    assert moto_server.QueryMode.mode == "walk"
    req = urllib.request.Request(base + "/_moto", data=json.dumps({"queryMode": "fast"}).encode(), method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    assert e.value.code == 400
    req = urllib.request.Request(base + "/_moto", data=json.dumps({"queryMode": "sorted"}).encode(), method="POST")
    assert json.load(urllib.request.urlopen(req)) == {"queryMode": "sorted"}


def test_items_expire_as_dynamodb_expires_them(db):
    """TTL: an item whose instant has come is deleted with the REMOVE record
    DynamoDB writes for its own deletions; one ahead, one whose attribute is
    no number, one more than five years past, stay; the sorted indexes
    follow."""
    import json
    import urllib.request
    db.create_table(
        TableName="expiring", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("PK", "SK", "g")],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "ByG", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}]}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    db.update_time_to_live(TableName="expiring", TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"})
    now = 2_000_000_000
    items = {
        "due": {"N": str(now - 10)},
        "due-exactly": {"N": str(now)},
        "ahead": {"N": str(now + 10)},
        "not-a-number": {"S": str(now - 10)},
        "ancient": {"N": str(now - 6 * 365 * 24 * 3600)},
    }
    for sk, ttl in items.items():
        db.put_item(TableName="expiring", Item={"PK": {"S": "p"}, "SK": {"S": sk}, "g": {"S": "x"}, "ttl": ttl})
    # Moved later before it came due: it stays.
    db.update_item(TableName="expiring", Key={"PK": {"S": "p"}, "SK": {"S": "ahead"}},
                   UpdateExpression="SET #t = :t", ExpressionAttributeNames={"#t": "ttl"},
                   ExpressionAttributeValues={":t": {"N": str(now + 1000)}})
    req = urllib.request.Request(db.meta.endpoint_url + "/_moto", data=json.dumps({"expireUntil": now}).encode(), method="POST")
    assert json.load(urllib.request.urlopen(req))["expired"] == 2
    left = sorted(i["SK"]["S"] for i in db.query(TableName="expiring", KeyConditionExpression="PK = :p",
                                                  ExpressionAttributeValues={":p": {"S": "p"}})["Items"])
    assert left == ["ahead", "ancient", "not-a-number"]
    onindex = sorted(i["SK"]["S"] for i in db.query(TableName="expiring", IndexName="ByG", KeyConditionExpression="g = :g",
                                                     ExpressionAttributeValues={":g": {"S": "x"}})["Items"])
    assert onindex == left
    streams = boto3.client("dynamodbstreams", endpoint_url=db.meta.endpoint_url, region_name=REGION,
                           aws_access_key_id="test", aws_secret_access_key="test")
    arn = db.describe_table(TableName="expiring")["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = streams.get_records(ShardIterator=it, Limit=100)["Records"]
    removes = [r for r in records if r["eventName"] == "REMOVE"]
    assert sorted(r["dynamodb"]["Keys"]["SK"]["S"] for r in removes) == ["due", "due-exactly"]
    for r in removes:
        assert r["userIdentity"] == {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}, r
        assert r["dynamodb"]["OldImage"]["SK"]["S"] in ("due", "due-exactly")
    # A deletion of our own carries no identity.
    db.delete_item(TableName="expiring", Key={"PK": {"S": "p"}, "SK": {"S": "ancient"}})
    records = streams.get_records(ShardIterator=it, Limit=100)["Records"]
    mine = [r for r in records if r["eventName"] == "REMOVE" and r["dynamodb"]["Keys"]["SK"]["S"] == "ancient"]
    assert mine and "userIdentity" not in mine[0]
    check_rebuilt(Shape("expiring", "S", "S", {}))
