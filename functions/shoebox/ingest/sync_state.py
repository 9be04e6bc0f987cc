"""What `shoebox sync` has confirmed uploaded: one SQLite file per SHOEBOX_HOME.

A row is written only after S3 acknowledged the object and a HEAD showed its size and checksum, so a
sync killed at any point (Ctrl-C, kill -9, network loss) loses at most the files in flight: they have no
row and are checked against the bucket again on the next run. A file whose size or mtime differ from its
row is hashed and synced again.

Why SHOEBOX_HOME and not beside the folder: the folder is often a read-only or shared NAS mount (two
machines syncing one share to two archives must not share a state), and a file in it would be one more
thing the user's own backup copies. The home is per user and per archive; rows are keyed by the target
(endpoint + bucket) as well, so one home syncing to the local service and to a deployed stack keeps
both. Losing the file costs one re-check (hash + HEAD) per file, never a duplicate upload.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

STATE_FILE = "sync-state.sqlite"


@dataclass(frozen=True)
class Confirmed:
    path: str
    size: int
    mtime_ns: int
    sha256: str
    md5: str | None
    key: str
    etag: str


class SyncState:
    def __init__(self, path: Path, target: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.target = target
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        # WAL + synchronous=NORMAL: a commit survives a killed process (not necessarily a power cut,
        # after which a file is re-checked against the bucket, not re-uploaded)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS confirmed (target TEXT NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL,"
            " mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL, md5 TEXT, key TEXT NOT NULL, etag TEXT NOT NULL,"
            " confirmed_at REAL NOT NULL, PRIMARY KEY (target, path))")
        self._db.commit()

    def known(self) -> dict[str, Confirmed]:
        """Every confirmed file of this target, by path (one query: a sync of an unchanged folder is a
        stat per file and this)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT path, size, mtime_ns, sha256, md5, key, etag FROM confirmed WHERE target = ?",
                (self.target,)).fetchall()
        return {row[0]: Confirmed(*row) for row in rows}

    def confirm(self, row: Confirmed) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO confirmed VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (self.target, row.path, row.size, row.mtime_ns, row.sha256, row.md5, row.key, row.etag, time.time()))
            self._db.commit()

    def close(self) -> None:
        with self._lock:
            self._db.close()
