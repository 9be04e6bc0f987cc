"""A faster Query for moto's in-memory DynamoDB (the local runtime, tests, the search benchmark).

moto answers every base-table Query by walking *all* items of the table and sorting the partition on
each call, so one search page costs O(table) — seconds on a 60,000-photo catalog (millions of index
rows), where DynamoDB costs O(log n + page). :func:`install` replaces that path with a per-partition
sorted key list (rebuilt when the partition changes) and binary search for the key condition, with
moto's own semantics for Limit, the 1 MB page, ExclusiveStartKey, ScannedCount, filter and projection.
Index (GSI) queries, multi-attribute keys and non-string sort keys fall back to moto's code.

Two more fixes for the local runtime, where several executions write the catalog at once:
- moto's table operations are not thread-safe (iterating a partition while another thread inserts);
  every backend table operation runs under one re-entrant lock.
- moto's TransactWriteItems deep-copies every table it touches to be able to roll back: O(table) per
  transaction, quadratic over an ingest, and itself racy. We snapshot only the items the transaction
  touches and restore those on failure (all-or-nothing, conditions checked like moto does).
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from typing import Any

_TOP = "\U0010ffff"


def install() -> Callable[[], None]:
    """Patch moto's Table; returns a function that puts moto's own methods back."""
    from moto.dynamodb.models import table as table_module

    Table = table_module.Table
    if getattr(Table.query, "_shoebox_fast", False):
        return lambda: None
    original_query, original_put, original_delete = Table.query, Table.put_item, Table.delete_item

    def forget(self: Any, hash_key: Any) -> None:
        cache = self.__dict__.get("_shoebox_sorted")
        if cache is not None:
            cache.pop(hash_key, None)

    def put_item(self: Any, item_attrs: dict, *args: Any, **kwargs: Any) -> Any:
        item = original_put(self, item_attrs, *args, **kwargs)
        forget(self, item.hash_key)
        return item

    def delete_item(self: Any, hash_key: Any, range_key: Any) -> Any:
        forget(self, hash_key)
        return original_delete(self, hash_key, range_key)

    def query(self: Any, hash_key: Any, range_comparison: str | None, range_objs: list, limit: int | None,
              exclusive_start_key: dict | None, scan_index_forward: bool, projection_expressions: Any,
              index_name: str | None = None, consistent_read: bool = False, filter_expression: Any = None,
              hash_key_conditions: Any = None, range_key_conditions: Any = None, **filter_kwargs: Any) -> Any:
        simple = (not index_name and not filter_kwargs and hash_key is not None and self.range_key_attr
                  and self.range_key_type == "S" and (not range_key_conditions or len(range_key_conditions) == 1)
                  and (not hash_key_conditions or len(hash_key_conditions) == 1)
                  and range_comparison in (None, "BETWEEN", "BEGINS_WITH", "EQ", "LT", "LE", "GT", "GE",
                                           "=", "<", "<=", ">", ">="))
        if not simple:
            return original_query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                                  scan_index_forward, projection_expressions, index_name, consistent_read,
                                  filter_expression, hash_key_conditions=hash_key_conditions,
                                  range_key_conditions=range_key_conditions, **filter_kwargs)
        part = self.items.get(hash_key) if hash_key in self.items else None
        if not part:
            return [], 0, None
        cache = self.__dict__.setdefault("_shoebox_sorted", {})
        entry = cache.get(hash_key)
        if entry is None or len(entry[0]) != len(part):
            ordered = sorted(part, key=lambda k: k.value)
            entry = ([k.value for k in ordered], ordered)
            cache[hash_key] = entry
        values, range_keys = entry
        lo, hi = 0, len(values)
        args = [obj.value for obj in range_objs or []]
        op = {"EQ": "=", "LT": "<", "LE": "<=", "GT": ">", "GE": ">="}.get(range_comparison or "", range_comparison)
        if op == "BETWEEN":
            lo, hi = bisect_left(values, args[0]), bisect_right(values, args[1])
        elif op == "BEGINS_WITH":
            lo, hi = bisect_left(values, args[0]), bisect_left(values, args[0] + _TOP)
        elif op == "=":
            lo, hi = bisect_left(values, args[0]), bisect_right(values, args[0])
        elif op == "<":
            hi = bisect_left(values, args[0])
        elif op == "<=":
            hi = bisect_right(values, args[0])
        elif op == ">":
            lo = bisect_right(values, args[0])
        elif op == ">=":
            lo = bisect_left(values, args[0])
        if exclusive_start_key:
            start = exclusive_start_key[self.range_key_attr]
            start = start.get("S") if isinstance(start, dict) else getattr(start, "value", start)
            if scan_index_forward is False:
                hi = min(hi, bisect_left(values, start))
            else:
                lo = max(lo, bisect_right(values, start))
        positions = range(hi - 1, lo - 1, -1) if scan_index_forward is False else range(lo, hi)
        results: list[Any] = []
        size = 0
        last = None
        for i in positions:
            item = part[range_keys[i]]
            item_size = item.size()
            if (limit is not None and len(results) == limit) or size + item_size > table_module.RESULT_SIZE_LIMIT:
                last = self._get_last_evaluated_key(results[-1], None)
                break
            results.append(item)
            size += item_size
        scanned = len(results)
        if filter_expression is not None:
            results = [item for item in results if filter_expression.expr(item)]
        if projection_expressions:
            results = [item.project(projection_expressions) for item in results]
        return results, scanned, last

    query._shoebox_fast = True  # type: ignore[attr-defined]
    Table.query, Table.put_item, Table.delete_item = query, put_item, delete_item
    restore_backend = _install_backend_fixes()

    def uninstall() -> None:
        Table.query, Table.put_item, Table.delete_item = original_query, original_put, original_delete
        restore_backend()

    return uninstall


_LOCK = threading.RLock()
_WRITES = {"put_item", "update_item", "delete_item", "transact_write_items", "create_table", "delete_table"}
writes = 0  # table writes so far in this process
# the durable store's journal (shoebox.local.journaling), when the runtime keeps state on disk
journal: Any = None
_depth = threading.local()  # transactions write through put/delete: journal the outermost call only
_LOCKED = ("put_item", "get_item", "query", "scan", "update_item", "delete_item", "transact_write_items",
           "create_table", "delete_table")


def _install_backend_fixes() -> Callable[[], None]:
    from moto.dynamodb.exceptions import (
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
    )
    from moto.dynamodb.models import DynamoDBBackend

    originals = {name: getattr(DynamoDBBackend, name) for name in _LOCKED}

    get_item = originals["get_item"]

    def locked(fn: Callable[..., Any]) -> Callable[..., Any]:
        counts = fn.__name__ in _WRITES

        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            global writes
            ticket = None
            with _LOCK:
                outermost = not getattr(_depth, "n", 0)
                _depth.n = getattr(_depth, "n", 0) + 1
                try:
                    if counts:
                        writes += 1
                    result = fn(self, *args, **kwargs)
                    if counts and outermost and journal is not None:
                        # under the lock: the journal's order is the writes' order
                        ticket = journal.record(self, fn.__name__, args, get_item)
                finally:
                    _depth.n -= 1
            if ticket is not None:
                journal.sync(ticket)  # on disk before the caller hears of it (group commit, off the lock)
            return result

        call.__name__ = fn.__name__
        call.__doc__ = fn.__doc__
        return call

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        if len(transact_items) > 100:
            raise TooManyTransactionsException()
        touched: list[tuple[str, dict, dict | None]] = []
        seen: set[tuple[str, str]] = set()
        for entry in transact_items:
            op_type, op = next(iter(entry.items()))
            table = self.get_table(op["TableName"])
            if op_type == "Put":
                attrs = op["Item"]
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            marker = (op["TableName"], str(sorted(key.items())))
            if marker in seen:
                raise MultipleTransactionsException()
            seen.add(marker)
            current = self.get_item(op["TableName"], key)
            touched.append((op["TableName"], key, current.to_json()["Attributes"] if current else None))

        # moto's own loop, but with no table copies: a rollback puts back just the touched items
        backup, self.tables = self.tables, _NoDeepCopy(self.tables)
        try:
            originals["transact_write_items"](self, transact_items)
        except (TransactionCanceledException, MultipleTransactionsException, Exception):
            self.tables = backup
            for table_name, key, before in touched:
                if before is None:
                    if self.get_item(table_name, key) is not None:
                        originals["delete_item"](self, table_name, key)
                else:
                    originals["put_item"](self, table_name, before)
            raise
        finally:
            self.tables = backup

    for name in _LOCKED:
        fn = transact_write_items if name == "transact_write_items" else originals[name]
        setattr(DynamoDBBackend, name, locked(fn))

    def restore() -> None:
        for name, fn in originals.items():
            setattr(DynamoDBBackend, name, fn)

    return restore


class _NoDeepCopy(dict):
    """The backend's table dict during a transaction: moto deep-copies ``self.tables[name]`` for its
    rollback; handing it the live table (not a copy) makes that free. Rollback is ours (above)."""

    def __getitem__(self, name: str) -> Any:
        return _Shared(super().__getitem__(name))


class _Shared:
    """Wraps a Table so ``copy.deepcopy`` returns the same object instead of copying it."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def __deepcopy__(self, memo: dict) -> Any:
        return self._table

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)
