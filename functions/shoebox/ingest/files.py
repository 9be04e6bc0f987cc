"""Pure-ish helpers: a file's key, a second key for other content under a taken name, content MD5.
(Which files to ingest: ``walk``; their dates: ``dates``; the plan of a run: ``plan``.)"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

HOME_MARKER = ".shoebox-home"  # in every SHOEBOX_HOME: ingest never walks into an archive's own state


def original_key(path: Path, when: datetime | None = None) -> str:
    """The key ingest gives a file (``shoebox.ingest.plan.key_for`` over ``dates.capture_date``)."""
    from shoebox.ingest.dates import capture_date
    from shoebox.ingest.plan import key_for

    return key_for(path.name, when or capture_date(path).when)


def disambiguate(key: str, digest: str) -> str:
    """Another file already holds this key: keep both by adding a short content hash before the extension."""
    stem, dot, ext = key.rpartition(".")
    if not dot or "/" in ext:
        return f"{key}~{digest[:8]}"
    return f"{stem}~{digest[:8]}.{ext}"


def md5_hex(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()
