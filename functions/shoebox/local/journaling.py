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
from shoebox.local.durable import DurableStore, State, attr_key, flat_attrs, fsync_path

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
def _put_record(bucket: str, key: Any) -> tuple:
    buffer = key._value_buffer
    return ("put", bucket, key.name, {
        "f": buffer.path.name, "e": key.etag.strip('"'), "s": key.size, "m": dict(key.metadata),
        "t": key.last_modified.isoformat(), "v": key._version_id, "sc": key.storage_class,
        "ca": key.checksum_algorithm, "cv": key.checksum_value})


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
            lines.append(_put_record(bucket, current))
        else:  # gone, or a delete marker
            lines.append(("del", bucket, name))
    if lines:
        _store.journal.sync(_store.journal.append_records(lines))


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
    """Put the objects back, each pointing at its body on disk (no copy, no re-hashing). One FakeKey is
    made the ordinary way; the others are copies of its attributes with their own name, body, ETag,
    metadata and times: FakeKey's constructor costs a temporary buffer, an ACL and a state machine per
    object, a minute's worth at a few hundred thousand objects on a busy machine."""
    import threading

    from moto.s3.models import FakeKey, LowercaseDict

    from shoebox.local.moto_s3_disk import DiskBuffer

    proto = FakeKey(name="", value=b"", account_id=account, region_name=region, is_versioned=True)
    shared = dict(proto.__dict__)
    buckets: dict[str, Any] = {}
    parse_time = datetime.fromisoformat
    count = 0
    for (bucket_name, name), info in state.objects.items():
        bucket = buckets.get(bucket_name)
        if bucket is None:
            bucket = buckets[bucket_name] = backend.get_bucket(bucket_name)
        key = object.__new__(FakeKey)  # not tracked for moto's reset: a disk body holds no file open
        attrs = key.__dict__
        attrs.update(shared)
        metadata = LowercaseDict()
        metadata.update(info.get("m") or {})
        attrs.update(name=name, bucket_name=bucket_name, _storage_class=info.get("sc") or "STANDARD",
                     _etag=info["e"], _version_id=info.get("v"), contentsize=info["s"], _metadata=metadata,
                     last_modified=parse_time(info["t"]), checksum_algorithm=info.get("ca"),
                     checksum_value=info.get("cv"), lock=threading.Lock(),
                     _value_buffer=DiskBuffer.adopt(bodies / info["f"]))
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


class _DynamoJournal:
    def record(self, backend: Any, operation: str, args: tuple, get_item: Callable) -> int | None:
        if _store is None or _store.journal is None:
            return None
        lines = []
        for table_name, key in _keys_touched(backend, operation, args):
            item = get_item(backend, table_name, key)
            if item is None:
                lines.append(("gone", table_name, attr_key(key)))
            else:
                lines.append(("item", table_name, attr_key(key), flat_attrs(item.to_json()["Attributes"])))
        return _store.journal.append_records(lines) if lines else None

    def sync(self, ticket: int) -> None:
        if _store is not None and _store.journal is not None:
            _store.journal.sync(ticket)


def restore_dynamodb(state: State, backend: Any) -> int:
    """Put the items back straight into moto's tables: what Table.put_item would store, without its
    per-item checks and size re-measuring (they were checked when first written), so a catalog of
    hundreds of thousands of rows loads in seconds. Scalars and sets become DynamoTypes without
    DynamoType's constructor (two attributes set; it only recurses into lists and maps, which keep it)."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

    new_type = DynamoType.__new__
    nested = ("L", "M")
    count = 0
    for table_name, items in state.items.items():
        table = backend.get_table(table_name)
        hash_attr, range_attr = table.hash_key_attr, table.range_key_attr
        partitions = table.items
        by_value: dict[Any, dict] = {}  # the partition's raw key value -> its dict (a DynamoType hashes slowly)
        for attrs in items.values():
            values = LimitedSizeDict()
            for name, kind, value in attrs:
                if kind in nested:
                    typed = DynamoType({kind: value})
                else:
                    typed = new_type(DynamoType)
                    typed.type = kind
                    typed.value = list(value) if type(value) is list else value  # sets: not shared with the snapshot
                dict.__setitem__(values, name, typed)
            item = object.__new__(Item)  # not moto's tracked __new__: nothing to dispose of
            item.attrs, item.hash_key = values, values[hash_attr]
            if range_attr:
                item.range_key = values[range_attr]
                raw = (item.hash_key.type, item.hash_key.value)
                partition = by_value.get(raw)
                if partition is None:
                    partition = by_value[raw] = partitions[item.hash_key]
                partition[item.range_key] = item
            else:
                item.range_key = None
                partitions[item.hash_key] = item
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
