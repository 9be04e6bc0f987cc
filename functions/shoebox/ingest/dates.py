"""Where a photo's capture date comes from, in the order a photo manager trusts them.

1. metadata inside the file: EXIF (JPEG, TIFF, HEIC, PNG, WebP, TIFF-based RAW), XMP (a sidecar or the
   packet embedded in the file), QuickTime ``mvhd`` (MOV/MP4); a Google Takeout JSON's photoTakenTime;
2. a date in the file name: ``IMG_20190803_142233``, ``PXL_20190803_…``, ``WhatsApp Image 2019-08-03 at
   14.22.33``, ``Screenshot_2019-08-03-14-22-33``, ``IMG-20190803-WA0001``, ``20190803_142233``;
3. a date in the folder path: ``…/2019/08/03/…`` or a folder named ``2019-08-03…``;
4. the file's modification time, unless it is a copy's or a download's (see ``file_time``).

Every source's date must pass ``plausible_capture`` (no future dates; none before 1990 without a
camera model). A photo no source dates is *undated* (``Dated.when is None``).
"""

from __future__ import annotations

import json
import os
import re
import struct
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from shoebox.imaging.metadata import (DATETIME_DIGITIZED, DATETIME_ORIGINAL, EXIF_IFD, MODEL, _text,
                                      parse_exif_datetime, plausible_capture)
from shoebox.ingest.xmp import XmpData
from shoebox.ingest.xmp import parse as parse_xmp

SOURCES = ("exif", "xmp", "quicktime", "takeout", "filename", "folder", "file-time")
# A file time this recent is the time the folder was copied or downloaded, not a capture time.
FRESH = timedelta(hours=24)


@dataclass(frozen=True)
class Dated:
    when: datetime | None
    source: str | None  # one of SOURCES; None: undated

    @property
    def iso(self) -> str | None:
        return self.when.isoformat() if self.when else None


@dataclass(frozen=True)
class Embedded:
    """What the file itself says: its date (and which metadata said it), camera model, XMP packet."""

    when: datetime | None = None
    source: str | None = None
    camera: str | None = None
    xmp: XmpData = XmpData()


# ------------------------------------------------------------------ names and folders
_NAME_DATE = re.compile(r"(?<!\d)((?:19|20)\d\d)([-_.]?)(\d\d)\2(\d\d)")
_NAME_TIME = re.compile(r"^(?:[ _T\-.]|[ _]at[ _])?(\d\d)([-_.:]?)(\d\d)\2(\d\d)")


def from_name(name: str) -> datetime | None:
    """The date (and time when it follows) in a camera, phone or app file name; None when there is none."""
    stem = name.rsplit(".", 1)[0] if "." in name else name
    for m in _NAME_DATE.finditer(stem):
        try:
            day = datetime(int(m[1]), int(m[3]), int(m[4]))
        except ValueError:
            continue
        rest = stem[m.end():]
        t = _NAME_TIME.match(rest)
        if t:
            try:
                return day.replace(hour=int(t[1]), minute=int(t[3]), second=int(t[4]))
            except ValueError:
                pass
        if rest[:1].isdigit():  # 201908031 is a number, not a date
            continue
        return day
    return None


_DAY_FOLDER = re.compile(r"^((?:19|20)\d\d)[-_.](\d\d)[-_.](\d\d)(?!\d)")


def from_folder(folder: Path | str) -> datetime | None:
    """``…/2019/08/03/…`` or ``…/2019-08-03 Beach/…``: the deepest such date in the folder path."""
    parts = Path(folder).parts
    found = None
    for i, part in enumerate(parts):
        m = _DAY_FOLDER.match(part)
        candidate = (m[1], m[2], m[3]) if m else None
        if candidate is None and i + 2 < len(parts) and re.fullmatch(r"(?:19|20)\d\d", part) \
                and re.fullmatch(r"\d{1,2}", parts[i + 1]) and re.fullmatch(r"\d{1,2}", parts[i + 2]):
            candidate = (part, parts[i + 1], parts[i + 2])
        if candidate:
            try:
                found = datetime(int(candidate[0]), int(candidate[1]), int(candidate[2]))
            except ValueError:
                pass
    return found


def file_time(mtime: float, now: datetime) -> datetime | None:
    """The modification time, unless it is within ``FRESH`` of now: copying a folder without keeping
    times, or downloading it, stamps every file with that moment (25 of 53 files dated "today")."""
    when = datetime.fromtimestamp(mtime)
    return None if now - when < FRESH else when


# ------------------------------------------------------------------ metadata in the file
_QT_EPOCH = datetime(1904, 1, 1, tzinfo=timezone.utc)
_QT_TYPES = {".mov", ".mp4", ".m4v", ".3gp", ".qt"}


def quicktime_created(path: Path, max_boxes: int = 256) -> datetime | None:
    """The movie header's creation time (``moov/mvhd``, seconds since 1904, UTC) as local time; None
    when absent or zero (cameras that do not set it)."""
    try:
        with path.open("rb") as fh:
            size = path.stat().st_size
            end, pos, boxes = size, 0, 0
            while pos + 8 <= end and boxes < max_boxes:
                boxes += 1
                fh.seek(pos)
                head = fh.read(16)
                box_size, kind = struct.unpack(">I4s", head[:8])
                header = 8
                if box_size == 1:
                    box_size, header = struct.unpack(">Q", head[8:16])[0], 16
                elif box_size == 0:
                    box_size = end - pos
                if box_size < header:
                    return None
                if kind == b"moov":  # descend
                    end, pos = pos + box_size, pos + header
                    continue
                if kind == b"mvhd":
                    fh.seek(pos + header)
                    version = fh.read(4)[0]
                    raw = fh.read(8 if version == 1 else 4)
                    seconds = int.from_bytes(raw, "big")
                    if not seconds:
                        return None
                    return (_QT_EPOCH + timedelta(seconds=seconds)).astimezone().replace(tzinfo=None)
                pos += box_size
    except (OSError, struct.error, IndexError, OverflowError):
        return None
    return None


def embedded(path: Path) -> Embedded:
    """EXIF (and the embedded XMP packet) through Pillow, QuickTime headers for videos. Unreadable files
    give nothing: the pipeline reports bad files properly."""
    if path.suffix.lower() in _QT_TYPES:
        when = quicktime_created(path)
        return Embedded(when, "quicktime" if when else None)
    try:
        from PIL import Image

        import shoebox.imaging  # noqa: F401 - registers the HEIF opener

        with Image.open(path) as im:
            exif = im.getexif()
            try:
                sub = dict(exif.get_ifd(EXIF_IFD))
            except Exception:  # noqa: BLE001 - a broken sub-IFD is no date, not a failure
                sub = {}
            camera = _text(exif.get(MODEL))
            packet = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp")
            xmp = parse_xmp(packet) if packet else XmpData()
            taken = parse_exif_datetime(sub.get(DATETIME_ORIGINAL)) or parse_exif_datetime(sub.get(DATETIME_DIGITIZED))
            if taken:
                return Embedded(datetime.fromisoformat(taken), "exif", camera, xmp)
            return Embedded(xmp.taken_at, "xmp" if xmp.taken_at else None, camera or xmp.camera, xmp)
    except Exception:  # noqa: BLE001 - not an image Pillow reads
        return Embedded()


def takeout_taken(path: Path) -> datetime | None:
    """Google Takeout's ``NAME.json`` (or ``NAME.supplemental-metadata.json``): photoTakenTime (UTC
    seconds) as local time."""
    try:
        if path.stat().st_size > 1024 * 1024:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        seconds = int((data.get("photoTakenTime") or {}).get("timestamp"))
        return datetime.fromtimestamp(seconds) if seconds > 0 else None
    except (OSError, ValueError, TypeError, AttributeError, OverflowError):
        return None


# ------------------------------------------------------------------ the order
def choose(*, embedded: Embedded, sidecar: XmpData | None, takeout: datetime | None, name: str,
           folder: Path | str, mtime: float | None, now: datetime) -> Dated:
    """Pure: the first plausible date in source order, and its source."""
    sidecar = sidecar or XmpData()
    camera = embedded.camera or sidecar.camera
    candidates = [
        (embedded.when if embedded.source == "exif" else None, "exif"),
        (sidecar.taken_at or (embedded.when if embedded.source == "xmp" else None), "xmp"),
        (embedded.when if embedded.source == "quicktime" else None, "quicktime"),
        (takeout, "takeout"),
        (from_name(name), "filename"),
        (from_folder(folder), "folder"),
        (file_time(mtime, now) if mtime is not None else None, "file-time"),
    ]
    for when, source in candidates:
        if when is not None and plausible_capture(when, camera, now):
            return Dated(when, source)
    return Dated(None, None)


def capture_date(path: Path, *, sidecar: XmpData | None = None, takeout_json: Path | None = None,
                 now: datetime | None = None) -> Dated:
    """The capture date of a file on disk (see the module doc for the order)."""
    now = now or datetime.now()
    try:
        mtime: float | None = os.stat(path).st_mtime
    except OSError:
        mtime = None
    return choose(embedded=embedded(path), sidecar=sidecar,
                  takeout=takeout_taken(takeout_json) if takeout_json else None,
                  name=path.name, folder=Path(os.path.abspath(path)).parent, mtime=mtime, now=now)


def day_of(when: datetime | date) -> str:
    return f"{when:%Y/%m/%d}"
