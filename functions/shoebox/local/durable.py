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
    snapshot-<gen>.jsonl    a header line, one line per object and per item, an end line
    journal-<gen>.jsonl     one line per change since snapshot <gen - 1>

Journal lines: ``{"o": "put", "b": bucket, "k": key, ...}`` / ``{"o": "del", "b", "k"}`` for S3;
``{"o": "item", "t": table, "k": key-json, "i": item}`` / ``{"o": "gone", "t", "k"}`` for DynamoDB.
A torn last line (power cut mid-write) is ignored: it was never acknowledged.

Why a journal and not a disk-backed database: moto's backends stay exactly as they are (its query,
condition and transaction semantics are what the tests rely on), and the journal is a few lines of
code on their write paths; docs/local-service.md argues it further.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shoebox.config import setting


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


class Journal:
    """Append-only JSON lines with group commit: concurrent writers share one fsync."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._written = 0
        self._synced = 0
        self.closed = False

    def append(self, lines: list[dict]) -> int:
        """Write whole lines (one write call, O_APPEND); returns a ticket for :meth:`sync`."""
        data = "".join(_dumps(line) + "\n" for line in lines).encode()
        with self._lock:
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            self._written += 1
            return self._written

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


def _read_lines(path: Path) -> Iterator[dict]:
    with path.open("rb") as fh:
        for raw in fh:
            if not raw.endswith(b"\n"):
                return  # torn last line: never acknowledged
            try:
                yield json.loads(raw)
            except ValueError:
                return


@dataclass
class State:
    """What the journals and the snapshot say, folded: the live objects and items."""

    objects: dict[tuple[str, str], dict] = field(default_factory=dict)  # (bucket, key) -> put line
    items: dict[str, dict[str, dict]] = field(default_factory=dict)  # table -> key json -> item

    def apply(self, line: dict) -> None:
        op = line.get("o")
        if op == "put":
            self.objects[(line["b"], line["k"])] = line
        elif op == "del":
            self.objects.pop((line["b"], line["k"]), None)
        elif op == "item":
            self.items.setdefault(line["t"], {})[line["k"]] = line["i"]
        elif op == "gone":
            self.items.get(line["t"], {}).pop(line["k"], None)

    def lines(self) -> Iterator[dict]:
        yield from self.objects.values()
        for table, items in self.items.items():
            for key, item in items.items():
                yield {"o": "item", "t": table, "k": key, "i": item}


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
    def _generations(self, prefix: str) -> list[int]:
        found = []
        for path in self.folder.glob(f"{prefix}-*.jsonl"):
            try:
                found.append(int(path.stem.split("-", 1)[1]))
            except ValueError:
                continue
        return sorted(found)

    def load(self) -> State:
        """The newest complete snapshot plus every journal after it. Opens a new journal."""
        state = State()
        covered = 0
        for gen in reversed(self._generations("snapshot")):
            candidate = State()
            complete = False
            for line in _read_lines(self.folder / f"snapshot-{gen}.jsonl"):
                if line.get("o") == "end":
                    complete = True
                    break
                candidate.apply(line)
            if complete:
                state, covered = candidate, gen
                break
        journals = [g for g in self._generations("journal") if g > covered]
        for gen in journals:
            for line in _read_lines(self.folder / f"journal-{gen}.jsonl"):
                state.apply(line)
        self.generation = max([covered, *journals]) + 1
        self.journal = Journal(self.folder / f"journal-{self.generation}.jsonl")
        fsync_path(self.folder)
        return state

    def snapshot_in_background(self, state: State) -> None:
        """Write what was loaded as snapshot <generation - 1>, then drop the files it covers."""
        covered = self.generation - 1
        if covered <= 0 or (self.folder / f"snapshot-{covered}.jsonl").exists():
            self._collect_garbage(state, covered)
            return
        self._snapshotter = threading.Thread(target=self._write_snapshot, args=(state, covered),
                                             name="shoebox-snapshot", daemon=True)
        self._snapshotter.start()

    def _write_snapshot(self, state: State, covered: int) -> None:
        target = self.folder / f"snapshot-{covered}.jsonl"
        tmp = self.folder / f".snapshot-{covered}.tmp"
        with tmp.open("w", encoding="utf-8") as out:
            out.write(_dumps({"o": "header", "gen": covered}) + "\n")
            for line in state.lines():
                out.write(_dumps(line) + "\n")
            out.write(_dumps({"o": "end"}) + "\n")
            out.flush()
            if fsync_enabled():
                os.fsync(out.fileno())
        os.replace(tmp, target)
        fsync_path(self.folder)
        self._collect_garbage(state, covered)

    def _collect_garbage(self, state: State, covered: int) -> None:
        for prefix in ("snapshot", "journal"):
            for gen in self._generations(prefix):
                if gen < covered or (prefix == "journal" and gen <= covered):
                    (self.folder / f"{prefix}-{gen}.jsonl").unlink(missing_ok=True)
        # bodies of objects no longer live (overwritten, deleted): only files from before this start,
        # since the running service writes new ones
        live = {line["f"] for line in state.objects.values()}
        for path in self.bodies.iterdir():
            try:
                if path.name not in live and path.stat().st_mtime < self.started - 1:
                    path.unlink()
            except FileNotFoundError:
                continue

    def wait_for_snapshot(self, timeout: float | None = None) -> None:
        if self._snapshotter is not None:
            self._snapshotter.join(timeout)

    def close(self) -> None:
        if self.journal is not None:
            self.journal.close()
