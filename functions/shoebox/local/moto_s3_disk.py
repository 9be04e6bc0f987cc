"""Keep moto's S3 object bodies on disk, not in memory.

moto holds every object in a SpooledTemporaryFile (in memory below ~5 MB), so a local bucket costs as
much RAM as the photos it holds: a backfill's memory grew with the archive. ``install(folder)`` makes
moto's S3 objects use :class:`DiskBuffer` instead: one file per object version under ``folder``, opened
only for the moment a read or write needs it (no file descriptor is held per object, so tens of thousands
of photos do not hit the open-files limit). ``uninstall()`` puts moto's own buffers back.

It also makes moto's ``FakeKey.etag`` read the body under the key's lock, as ``FakeKey.value`` does. moto
computes an ETag on first use by seeking and reading the one shared buffer without that lock, so two
threads asking at once (the upload's EventBridge event and another execution's HeadObject) each read part
of the body: the event, or the object, then carries a wrong ETag for good. A re-uploaded photo's run then
saw its original as "replaced" and dropped itself, leaving the photo with no row (about one fault drill in
ten). The same race is in moto with its own SpooledTemporaryFile.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any

_state: dict[str, Any] = {}
_lock = threading.Lock()


class DiskBuffer:
    """The slice of the SpooledTemporaryFile interface moto's FakeKey uses: seek/tell/read/write/truncate/close."""

    def __init__(self, folder: Path, persistent: bool = False) -> None:
        # the file is made by the first write: an empty key (a folder marker, or a key the durable store
        # is about to point at its existing body) costs no file
        self.path = folder / uuid.uuid4().hex
        self.persistent = persistent  # bodies the durable store journals outlive the buffer (see durable.py)
        self.pos = 0
        self.closed = False

    @classmethod
    def adopt(cls, path: Path) -> "DiskBuffer":
        """A persistent buffer over a body already on disk (the durable store's restore)."""
        buffer = cls.__new__(cls)
        buffer.path, buffer.persistent, buffer.pos, buffer.closed = path, True, 0, False
        return buffer

    def _size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def _check(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file")  # what moto expects from a closed buffer

    def seek(self, offset: int, whence: int = 0) -> int:
        self._check()
        if whence == 0:
            self.pos = offset
        elif whence == 1:
            self.pos += offset
        else:
            self.pos = self._size() + offset
        return self.pos

    def tell(self) -> int:
        return self.pos

    def read(self, size: int | None = -1) -> bytes:
        self._check()
        try:
            fh = self.path.open("rb")
        except FileNotFoundError:
            return b""
        with fh:
            fh.seek(self.pos)
            data = fh.read() if size is None or size < 0 else fh.read(size)
        self.pos += len(data)
        return data

    def write(self, data: bytes) -> int:
        self._check()
        if not data:
            return 0
        with self.path.open("r+b" if self.path.exists() else "wb") as fh:
            fh.seek(self.pos)
            fh.write(data)
        self.pos += len(data)
        return len(data)

    def truncate(self, size: int | None = None) -> int:
        self._check()
        size = self.pos if size is None else size
        if size == 0 and not self.path.exists():
            return 0
        if not self.path.exists():
            self.path.touch()
        os.truncate(self.path, size)
        return size

    def flush(self) -> None:
        return None

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if not self.persistent:
                self.path.unlink(missing_ok=True)


class _TempfileShim:
    """Stands in for the ``tempfile`` module inside moto.s3.models."""

    def __init__(self, folder: Path, persistent: bool) -> None:
        self._folder = folder
        self._persistent = persistent

    def SpooledTemporaryFile(self, *args: Any, **kwargs: Any) -> DiskBuffer:  # noqa: N802 - moto's name
        return DiskBuffer(self._folder, self._persistent)

    def __getattr__(self, name: str) -> Any:
        return getattr(tempfile, name)


def _locked_etag(self: Any) -> str:
    with self.lock:
        return _state["moto_etag"].fget(self)


def install(folder: Path, persistent: bool = False) -> None:
    """``persistent``: the folder is the durable store's (bodies stay when moto drops a key or resets;
    the store collects what no journal line points at). Else a scratch folder, removed by uninstall."""
    from moto.s3 import models

    if getattr(models, "tempfile", None) is None:
        raise RuntimeError("moto changed: moto.s3.models no longer uses tempfile for object bodies")
    with _lock:
        folder.mkdir(parents=True, exist_ok=True)
        _state["folder"] = folder
        _state["persistent"] = persistent
        models.tempfile = _TempfileShim(folder, persistent)
        if "moto_etag" not in _state:
            _state["moto_etag"] = models.FakeKey.etag
            models.FakeKey.etag = property(_locked_etag)


def uninstall() -> None:
    from moto.s3 import models

    with _lock:
        models.tempfile = tempfile
        if "moto_etag" in _state:
            models.FakeKey.etag = _state.pop("moto_etag")
        folder = _state.pop("folder", None)
        persistent = _state.pop("persistent", False)
    if folder is not None and not persistent:
        shutil.rmtree(folder, ignore_errors=True)
