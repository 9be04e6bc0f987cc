"""Hooks that feed moto's S3 and DynamoDB writes into the durable store's journal, and load it back.

S3: moto finishes an object (body, then metadata, ACL, tags) across its backend and response layers, so
the hook marks the keys a request changes (the bucket's key store) and journals them when the request's
response is ready — before it goes back to the caller. DynamoDB: each backend write (put, update,
delete, transaction; batch writes go through put/delete) journals the items it touched, after the write
and under the table lock, so journal order is write order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from shoebox.local import moto_dynamodb
from shoebox.local.durable import DurableStore, State, _dumps, fsync_path

_local = threading.local()
_tracked: dict[int, str] = {}  # id(bucket.keys) -> bucket name
_store: DurableStore | None = None
_installed = False
_lock = threading.Lock()


def _dirty() -> dict[tuple[int, str], Any]:
    found = getattr(_local, "dirty", None)
    if found is None:
        found = _local.dirty = {}
    return found


# ---------------------------------------------------------------------------------------------- S3
def _put_line(bucket: str, key: Any) -> dict:
    buffer = key._value_buffer
    return {"o": "put", "b": bucket, "k": key.name, "f": buffer.path.name, "e": key.etag.strip('"'),
            "s": key.size, "m": dict(key.metadata), "t": key.last_modified.isoformat(),
            "v": key._version_id, "sc": key.storage_class, "ca": key.checksum_algorithm,
            "cv": key.checksum_value}


def _flush_s3() -> None:
    dirty = getattr(_local, "dirty", None)
    if not dirty or _store is None or _store.journal is None:
        return
    from moto.s3.models import FakeKey

    _local.dirty = {}
    lines = []
    for (store_id, name), store in dirty.items():
        bucket = _tracked.get(store_id)
        if bucket is None:
            continue
        current = store.get(name)
        if isinstance(current, FakeKey):
            if current._value_buffer.path.exists():
                fsync_path(current._value_buffer.path)  # the body before the line that points at it
            lines.append(_put_line(bucket, current))
        else:  # gone, or a delete marker
            lines.append({"o": "del", "b": bucket, "k": name})
    if lines:
        _store.journal.sync(_store.journal.append(lines))


def _install_s3() -> None:
    from moto.s3.responses import S3Response
    from moto.s3.utils import _VersionedKeyStore

    def marking(method: Callable) -> Callable:
        def call(self: Any, key: str, *args: Any, **kwargs: Any) -> Any:
            if id(self) in _tracked:
                _dirty()[(id(self), key)] = self
            return method(self, key, *args, **kwargs)

        call.__name__ = method.__name__
        return call

    for name in ("__setitem__", "setlist", "pop"):
        setattr(_VersionedKeyStore, name, marking(getattr(_VersionedKeyStore, name)))

    def journaled(method: Callable) -> Callable:
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            finally:
                _flush_s3()

        call.__name__ = method.__name__
        return call

    for name in ("key_response", "bucket_response"):
        setattr(S3Response, name, journaled(getattr(S3Response, name)))


def track_bucket(bucket: Any) -> None:
    """Journal the changes to this bucket (the runtime's photo bucket)."""
    _tracked[id(bucket.keys)] = bucket.name


def restore_s3(state: State, backend: Any, account: str, region: str, bodies: Path) -> int:
    from moto.s3.models import FakeKey, LowercaseDict

    count = 0
    for (bucket_name, name), line in state.objects.items():
        bucket = backend.get_bucket(bucket_name)
        key = FakeKey(name=name, value=b"", account_id=account, region_name=region, storage=line.get("sc"),
                      etag=line["e"], is_versioned=True, version_id=line.get("v"), bucket_name=bucket_name)
        key._value_buffer.path = bodies / line["f"]  # adopt the body on disk: no copy
        key.contentsize = line["s"]
        key._metadata = LowercaseDict()
        key._metadata.update(line.get("m") or {})
        key.last_modified = datetime.fromisoformat(line["t"])
        key.checksum_algorithm = line.get("ca")
        key.checksum_value = line.get("cv")
        dict.__setitem__(bucket.keys, name, [key])  # not through the marking setitem: nothing to journal
        count += 1
    return count


# ----------------------------------------------------------------------------------------- DynamoDB
def _keys_touched(backend: Any, operation: str, args: tuple) -> list[tuple[str, dict]]:
    if operation in ("update_item", "delete_item"):
        return [(args[0], args[1])]
    if operation == "put_item":
        table = backend.get_table(args[0])
        item = args[1]
        key = {table.hash_key_attr: item[table.hash_key_attr]}
        if table.range_key_attr:
            key[table.range_key_attr] = item[table.range_key_attr]
        return [(args[0], key)]
    if operation == "transact_write_items":
        touched = []
        for entry in args[0]:
            op_type, op = next(iter(entry.items()))
            if op_type == "ConditionCheck":
                continue
            table = backend.get_table(op["TableName"])
            if op_type == "Put":
                item = op["Item"]
                key = {table.hash_key_attr: item[table.hash_key_attr]}
                if table.range_key_attr:
                    key[table.range_key_attr] = item[table.range_key_attr]
            else:
                key = op["Key"]
            touched.append((op["TableName"], key))
        return touched
    return []


def _key_json(key: dict) -> str:
    return _dumps(dict(sorted(key.items())))


class _DynamoJournal:
    def record(self, backend: Any, operation: str, args: tuple, get_item: Callable) -> int | None:
        if _store is None or _store.journal is None:
            return None
        lines = []
        for table_name, key in _keys_touched(backend, operation, args):
            item = get_item(backend, table_name, key)
            if item is None:
                lines.append({"o": "gone", "t": table_name, "k": _key_json(key)})
            else:
                lines.append({"o": "item", "t": table_name, "k": _key_json(key), "i": item.to_json()["Attributes"]})
        return _store.journal.append(lines) if lines else None

    def sync(self, ticket: int) -> None:
        if _store is not None and _store.journal is not None:
            _store.journal.sync(ticket)


def restore_dynamodb(state: State, backend: Any) -> int:
    """Put the items back straight into moto's tables: what Table.put_item would store, without its
    per-item checks and size re-measuring (they were checked when first written), so a catalog of
    hundreds of thousands of rows loads in seconds."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

    count = 0
    for table_name, items in state.items.items():
        table = backend.get_table(table_name)
        hash_attr, range_attr = table.hash_key_attr, table.range_key_attr
        for attrs in items.values():
            item = Item.__new__(Item)
            values = LimitedSizeDict()
            dict.update(values, {name: DynamoType(value) for name, value in attrs.items()})
            item.attrs, item.hash_key = values, values[hash_attr]
            item.range_key = values[range_attr] if range_attr else None
            if range_attr:
                table.items[item.hash_key][item.range_key] = item
            else:
                table.items[item.hash_key] = item
            count += 1
        table.__dict__.pop("_shoebox_sorted", None)  # moto_dynamodb's per-partition key order: rebuilt on use
    return count


# ----------------------------------------------------------------------------------------- lifecycle
def install(store: DurableStore) -> None:
    """Journal into ``store`` from now on (the patches stay; with no store they do nothing)."""
    global _store, _installed
    with _lock:
        _store = store
        moto_dynamodb.journal = _DynamoJournal()
        if not _installed:
            _install_s3()
            _installed = True


def uninstall() -> None:
    global _store
    with _lock:
        _store = None
        _tracked.clear()
        moto_dynamodb.journal = None
