"""Durable local state: an S3 object or a catalog write reaches disk before it is acknowledged.

moto keeps its S3 and DynamoDB backends in memory. The local runtime records every change to them in an
append-only journal, synced to disk (group commit) before the write returns to its caller, so nothing a
command was told survives only in memory: a ``kill -9`` of the service, or a power cut, loses at most
writes nobody was told about. When the runtime starts it loads the newest snapshot and replays the
journals written since, once; then, in the background, it writes a new snapshot of what it loaded and
deletes the journals that snapshot covers. Each start therefore replays at most one service lifetime of
journal.

Layout under ``SHOEBOX_HOME/state/``::

    bodies/<uuid>           S3 object bodies (moto's buffers live here, see moto_s3_disk)
    snapshot-<gen>.bin      frames: a header, the objects and items in chunks, an end frame
    journal-<gen>.bin       one frame per acknowledged change since snapshot <gen - 1>

A frame is ``length (4 bytes) | crc32 (4 bytes) | pickle of a list of records``; records are plain
tuples: ``("put", bucket, key, info)`` / ``("del", bucket, key)`` for S3, ``("item", table, key, attrs)``
/ ``("gone", table, key)`` for DynamoDB, where ``key`` and ``attrs`` are tuples of
``(name, type, value)`` (the DynamoDB JSON of each attribute, flattened). A torn last frame (power cut
mid-write: short, or its checksum wrong) is ignored: it was never acknowledged. Pickle rather than JSON
because a start replays hundreds of thousands of items: reading them is ten times faster and builds no
intermediate dicts; the files are the service's own (mode 0600, in a 0700 home) and are read with an
unpickler that refuses every class, so they can only ever hold plain data. Homes written before (JSON
lines, ``*.jsonl``) are still read, and their next snapshot is in the new format.

Why a journal and not a disk-backed database: moto's backends stay exactly as they are (its query,
condition and transaction semantics are what the tests rely on), and the journal is a few lines of
code on their write paths; docs/local-service.md argues it further.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shoebox.config import setting

FORMAT = 2  # the snapshot header's "format": frames of pickled tuples
_FRAME = struct.Struct("<II")  # payload length, crc32 of the payload
_CHUNK = 500  # records per snapshot frame: pickling one holds the GIL for about a millisecond


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def fsync_enabled() -> bool:
    """``SHOEBOX_FSYNC=0`` skips the syncs (a test suite on a slow disk); durability then depends on the OS."""
    return setting("SHOEBOX_FSYNC", "1") != "0"


def fsync_path(path: Path) -> None:
    if not fsync_enabled():
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ------------------------------------------------------------------------------------------ frames
def frame(records: list) -> bytes:
    payload = pickle.dumps(records, protocol=5)
    return _FRAME.pack(len(payload), zlib.crc32(payload)) + payload


class _PlainUnpickler(pickle.Unpickler):
    """Tuples, lists, dicts, strings, numbers, bytes: a frame that names any class is refused."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"state frames hold plain data only, not {module}.{name}")


def _unpickle(payload: bytes | memoryview) -> list:
    return _PlainUnpickler(io.BytesIO(payload)).load()


def read_frames(path: Path) -> Iterator[list]:
    """Each whole frame's records, in order; stops at a torn or corrupt frame (never acknowledged)."""
    with path.open("rb") as fh:
        buffer = b""
        offset = 0
        while True:
            if len(buffer) - offset < _FRAME.size:
                more = fh.read(1 << 22)
                buffer = buffer[offset:] + more
                offset = 0
                if len(buffer) < _FRAME.size:
                    return
            size, crc = _FRAME.unpack_from(buffer, offset)
            end = offset + _FRAME.size + size
            while end > len(buffer):
                more = fh.read(max(1 << 22, end - len(buffer)))
                if not more:
                    return  # torn last frame
                buffer = buffer[offset:] + more
                end -= offset
                offset = 0
            payload = memoryview(buffer)[offset + _FRAME.size:end]
            if zlib.crc32(payload) != crc:
                return
            try:
                records = _unpickle(payload)
            except (pickle.UnpicklingError, EOFError, ValueError, TypeError):
                return
            payload.release()
            offset = end
            yield records


def _read_lines(path: Path) -> Iterator[dict]:
    """JSON lines (the executions index, and state written before the binary format)."""
    with path.open("rb") as fh:
        for raw in fh:
            if not raw.endswith(b"\n"):
                return  # torn last line: never acknowledged
            try:
                yield json.loads(raw)
            except ValueError:
                return


class Journal:
    """Append-only file with group commit: concurrent writers share one fsync. Binary frames
    (:meth:`append_records`) or JSON lines (:meth:`append`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._written = 0
        self._synced = 0
        self.closed = False

    def _write(self, data: bytes) -> int:
        """One write call (O_APPEND); returns a ticket for :meth:`sync`."""
        with self._lock:
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            self._written += 1
            return self._written

    def append(self, lines: list[dict]) -> int:
        return self._write("".join(_dumps(line) + "\n" for line in lines).encode())

    def append_records(self, records: list) -> int:
        return self._write(frame(records))

    def sync(self, ticket: int) -> None:
        """Return once everything up to ``ticket`` is on disk."""
        if self._synced >= ticket or not fsync_enabled():
            return
        with self._sync_lock:
            if self._synced >= ticket:
                return
            target = self._written
            os.fdatasync(self._fd)
            self._synced = target

    def close(self) -> None:
        with self._lock:
            if not self.closed:
                self.closed = True
                os.close(self._fd)


# ------------------------------------------------------------------------------------------ records
def attr_key(key: dict) -> tuple:
    """A DynamoDB key ({name: {type: value}}) as the records' hashable key."""
    return tuple(sorted((name, *next(iter(value.items()))) for name, value in key.items()))


def flat_attrs(attrs: dict) -> tuple:
    """An item's DynamoDB JSON ({name: {type: value}}) as the records keep it."""
    return tuple((name, *next(iter(value.items()))) for name, value in attrs.items())


def _record_from_line(line: dict) -> tuple | None:
    """A JSON line of the earlier format as a record."""
    op = line.get("o")
    if op == "put":
        return ("put", line["b"], line["k"], line)
    if op == "del":
        return ("del", line["b"], line["k"])
    if op == "item":
        return ("item", line["t"], attr_key(json.loads(line["k"])), flat_attrs(line["i"]))
    if op == "gone":
        return ("gone", line["t"], attr_key(json.loads(line["k"])))
    return None


@dataclass
class State:
    """What the journals and the snapshot say, folded: the live objects and items."""

    objects: dict[tuple[str, str], dict] = field(default_factory=dict)  # (bucket, key) -> put info
    items: dict[str, dict[tuple, tuple]] = field(default_factory=dict)  # table -> key -> attrs

    def apply_all(self, records: Iterable[tuple]) -> None:
        objects, items = self.objects, self.items
        for record in records:
            op = record[0]
            if op == "item":
                table = items.get(record[1])
                if table is None:
                    table = items[record[1]] = {}
                table[record[2]] = record[3]
            elif op == "put":
                objects[(record[1], record[2])] = record[3]
            elif op == "gone":
                items.get(record[1], {}).pop(record[2], None)
            elif op == "del":
                objects.pop((record[1], record[2]), None)

    def records(self) -> Iterator[tuple]:
        for (bucket, key), info in self.objects.items():
            yield ("put", bucket, key, info)
        for table, items in self.items.items():
            for key, attrs in items.items():
                yield ("item", table, key, attrs)

    @property
    def item_count(self) -> int:
        return sum(len(items) for items in self.items.values())


class DurableStore:
    def __init__(self, home: Path) -> None:
        self.folder = home / "state"
        self.bodies = self.folder / "bodies"
        self.bodies.mkdir(parents=True, exist_ok=True)
        self.journal: Journal | None = None
        self.generation = 0
        self._snapshotter: threading.Thread | None = None
        self.started = time.time()

    # ------------------------------------------------------------------ start-up
    def _files(self, prefix: str) -> dict[int, Path]:
        """generation -> file, binary (``.bin``) or the earlier JSON lines (``.jsonl``)."""
        found: dict[int, Path] = {}
        for path in self.folder.glob(f"{prefix}-*"):
            if path.suffix not in (".bin", ".jsonl"):
                continue
            try:
                gen = int(path.stem.split("-", 1)[1])
            except ValueError:
                continue
            if gen not in found or path.suffix == ".bin":
                found[gen] = path
        return dict(sorted(found.items()))

    @staticmethod
    def _records(path: Path) -> Iterator[list]:
        if path.suffix == ".bin":
            yield from read_frames(path)
            return
        batch: list = []
        for line in _read_lines(path):
            record = ("end",) if line.get("o") == "end" else _record_from_line(line)
            if record is not None:
                batch.append(record)
            if len(batch) >= _CHUNK:
                yield batch
                batch = []
        if batch:
            yield batch

    def _load_snapshot(self, path: Path) -> State | None:
        state = State()
        for records in self._records(path):
            if records and records[-1][0] == "end":
                state.apply_all(records[:-1])
                return state
            state.apply_all(r for r in records if r[0] != "header")
        return None  # no end frame: cut short, never completed

    def load(self) -> State:
        """The newest complete snapshot plus every journal after it. Opens a new journal."""
        state = State()
        covered = 0
        for gen, path in reversed(self._files("snapshot").items()):
            candidate = self._load_snapshot(path)
            if candidate is not None:
                state, covered = candidate, gen
                break
        journals = {g: p for g, p in self._files("journal").items() if g > covered}
        for path in journals.values():
            for records in self._records(path):
                state.apply_all(records)
        self.generation = max([covered, *journals]) + 1
        self.journal = Journal(self.folder / f"journal-{self.generation}.bin")
        fsync_path(self.folder)
        return state

    def snapshot_in_background(self, state: State) -> None:
        """Write what was loaded as snapshot <generation - 1>, then drop the files it covers."""
        covered = self.generation - 1
        if covered <= 0 or (self.folder / f"snapshot-{covered}.bin").exists():
            self._collect_garbage(state, covered)
            return
        self._snapshotter = threading.Thread(target=self._write_snapshot, args=(state, covered),
                                             name="shoebox-snapshot", daemon=True)
        self._snapshotter.start()

    def _write_snapshot(self, state: State, covered: int) -> None:
        target = self.folder / f"snapshot-{covered}.bin"
        tmp = self.folder / f".snapshot-{covered}.tmp"
        with tmp.open("wb") as out:
            out.write(frame([("header", {"format": FORMAT, "gen": covered})]))
            chunk: list = []
            for record in state.records():
                chunk.append(record)
                if len(chunk) >= _CHUNK:
                    out.write(frame(chunk))  # a frame at a time: request threads get the GIL in between
                    chunk = []
            chunk.append(("end",))
            out.write(frame(chunk))
            out.flush()
            if fsync_enabled():
                os.fsync(out.fileno())
        os.replace(tmp, target)
        fsync_path(self.folder)
        self._collect_garbage(state, covered)

    def _collect_garbage(self, state: State, covered: int) -> None:
        for prefix in ("snapshot", "journal"):
            for gen, path in self._files(prefix).items():
                if gen < covered or (prefix == "journal" and gen <= covered):
                    path.unlink(missing_ok=True)
        if (self.folder / f"snapshot-{covered}.bin").exists():  # the earlier format's copy of it
            (self.folder / f"snapshot-{covered}.jsonl").unlink(missing_ok=True)
        # bodies of objects no longer live (overwritten, deleted): only files from before this start,
        # since the running service writes new ones
        live = {info["f"] for info in state.objects.values()}
        for path in self.bodies.iterdir():
            try:
                if path.name not in live and path.stat().st_mtime < self.started - 1:
                    path.unlink()
            except FileNotFoundError:
                continue

    @property
    def snapshot_pending(self) -> bool:
        return self._snapshotter is not None and self._snapshotter.is_alive()

    def wait_for_snapshot(self, timeout: float | None = None) -> None:
        if self._snapshotter is not None:
            self._snapshotter.join(timeout)

    def close(self) -> None:
        if self.journal is not None:
            self.journal.close()
