"""Local DynamoDB + DynamoDB Streams stand-in: moto in server mode, serialised.

Two changes to moto's behaviour, both to make it act like DynamoDB:

1. One request at a time (see Serialised below).
2. TransactWriteItems checks every condition against the state before the
   transaction, then applies all writes, or none. moto's own version
   deep-copies every table it touches, once per item, to roll back: a cost
   that grows with the table, which made a 400-member seed take minutes.
   Ours snapshots only the items the transaction names.
3. Query no longer sorts the whole table first: moto lists and sorts every
   item of the table on each query, then filters and sorts the matches
   again. A query on the table now looks only at its partition, and an index
   query at the items unsorted. Results are the same (sorted afterwards);
   only the cost changes, which DynamoDB never had.

moto's server handles each connection on its own thread, and its DynamoDB
backend does not lock around TransactWriteItems, so two conflicting
transactions can interleave there although they never can in DynamoDB. We
keep the threads (so idle keep-alive connections never block others) but
let one request at a time into the backend. Bound to 127.0.0.1 by default.
"""

import argparse
import copy
import signal
import sys
import threading

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

OPS = {"ConditionCheck", "Put", "Delete", "Update"}


def transact_write_items(self, transact_items):
    if len(transact_items) > 100:
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

    # All or nothing: keep the named items to put back if a write fails.
    saved = []
    for op_type, op, table, key in ops:
        hash_key, range_key = self.get_keys_value(table, key)
        saved.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
    try:
        for op_type, op, table, key in ops:
            name = op["TableName"]
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
    except Exception:
        for table, hash_key, range_key, old in saved:
            if range_key is None:
                if old is None:
                    table.items.pop(hash_key, None)
                else:
                    table.items[hash_key] = old
            elif old is None:
                table.items[hash_key].pop(range_key, None)
            else:
                table.items[hash_key][range_key] = old
        raise


DynamoDBBackend.transact_write_items = transact_write_items

_table_query = Table.query


def query(self, hash_key, *args, **kwargs):
    index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)

    def unsorted():
        out = []
        for hash_set in self.items.values():
            if self.range_key_attr:
                out.extend(hash_set.values())
            else:
                out.append(hash_set)
        return out

    def partition():
        hash_set = self.items.get(hash_key)
        if hash_set is None:
            return []
        return list(hash_set.values()) if self.range_key_attr else [hash_set]

    self.all_items = partition if (index_name is None and hash_key is not None) else unsorted
    try:
        return _table_query(self, hash_key, *args, **kwargs)
    finally:
        del self.all_items


Table.query = query


class Serialised:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            # Materialise the body inside the lock: moto builds responses lazily.
            return list(self.app(environ, start_response))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, Serialised(app), threaded=True,
               request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
