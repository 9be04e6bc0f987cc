"""Pure-ish helpers: which files to ingest and under which key."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from PIL import Image

_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 0x9003
_DATETIME = 0x0132
_SAFE = re.compile(r"[^\w.\-+~() ]", re.UNICODE)
HOME_MARKER = ".shoebox-home"  # in every SHOEBOX_HOME: ingest never walks into an archive's own state


def discover(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files under the given paths, in a stable order; hidden files and folders are skipped, and so is
    a Shoebox home (its journals are not photos)."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                if HOME_MARKER in files:
                    dirs[:] = []
                    continue
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        yield Path(root) / name
        elif path.is_file():
            yield path
        else:
            raise FileNotFoundError(f"no such file or folder: {raw}")


def capture_date(path: Path) -> datetime:
    """The capture date from EXIF when Pillow can read it (JPEG, TIFF, HEIC, PNG, WebP, TIFF-based RAW),
    else the file's modification time. Only the date decides the key; the pipeline reads full EXIF."""
    try:
        with Image.open(path) as im:
            exif = im.getexif()
            value = exif.get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
            if value:
                return datetime.strptime(str(value).strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except Exception:  # noqa: BLE001 - unreadable here is fine: the pipeline reports bad files properly
        pass
    return datetime.fromtimestamp(path.stat().st_mtime)


def original_key(path: Path, when: datetime | None = None) -> str:
    when = when or capture_date(path)
    name = _SAFE.sub("_", path.name) or "unnamed"
    return f"originals/{when:%Y/%m/%d}/{name}"


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
