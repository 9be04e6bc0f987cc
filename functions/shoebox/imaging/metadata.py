"""Photo metadata (capture time, camera, lens, GPS) from EXIF, and the date fallback from the S3 key."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from PIL import Image

EXIF_IFD = 0x8769
GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE, MODEL, DATETIME = 0x010F, 0x0110, 0x0132
DATETIME_ORIGINAL, DATETIME_DIGITIZED = 0x9003, 0x9004
OFFSET_TIME_ORIGINAL, OFFSET_TIME_DIGITIZED = 0x9011, 0x9012
LENS_MAKE, LENS_MODEL = 0xA433, 0xA434


@dataclass(frozen=True)
class PhotoMetadata:
    taken_at: str | None = None
    camera: str | None = None
    lens: str | None = None
    gps: dict | None = None
    taken_source: str | None = None  # "exif" | "key" (the date in originals/YYYY/MM/DD/) | None


EARLIEST_UNCAMERAED_YEAR = 1990


def plausible_capture(when: datetime, camera: str | None, now: datetime | None = None) -> bool:
    """Whether a capture date can be believed: never in the future (a clock set to 2099), and not before
    1990 unless a camera model says a real camera wrote it (reset clocks and zeroed fields give
    1970/1980 dates). The one home of this rule: ingest and the pipeline both ask it."""
    now = now or datetime.now()
    naive = when.replace(tzinfo=None)
    if naive > now + timedelta(days=1):  # a day of slack for time zones
        return False
    return naive.year >= EARLIEST_UNCAMERAED_YEAR or bool(camera)


_KEY_DATE = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})(?:/|$)")


def date_from_key(key: str) -> str | None:
    """``originals/2006/10/04/x.jpg`` → ``"2006-10-04"``; None when the key has no valid YYYY/MM/DD."""
    if not key:
        return None
    for m in _KEY_DATE.finditer(key):
        try:
            return datetime(int(m[1]), int(m[2]), int(m[3])).date().isoformat()
        except ValueError:
            continue
    return None


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    value = str(value).replace("\x00", " ").strip()
    return value or None


_EXIF_DT = re.compile(r"^\s*(\d{4})[:\-](\d{2})[:\-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_OFFSET = re.compile(r"^\s*([+-])(\d{2}):?(\d{2})\s*$")


def parse_exif_datetime(value, offset=None) -> str | None:
    """EXIF ``YYYY:MM:DD HH:MM:SS`` (+ ``OffsetTime*``) → ISO-8601; None for blank/zero/invalid."""
    text = _text(value)
    if not text:
        return None
    m = _EXIF_DT.match(text)
    if not m:
        return None
    try:
        dt = datetime(*(int(g) for g in m.groups()))
    except ValueError:
        return None
    iso = dt.isoformat()
    off = _OFFSET.match(_text(offset) or "")
    if off and int(off[2]) <= 14 and int(off[3]) < 60:
        iso += f"{off[1]}{off[2]}:{off[3]}"
    return iso


def camera_name(make, model) -> str | None:
    make, model = _text(make), _text(model)
    if not model:
        return make
    if not make:
        return model
    first = make.split()[0].lower()
    if model.lower().startswith(first):
        return model
    return f"{make} {model}"


def _ratio(value) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return f if math.isfinite(f) else None


def _dms(value) -> float | None:
    try:
        parts = [_ratio(v) for v in value]
    except TypeError:
        return None
    if len(parts) != 3 or any(p is None for p in parts):
        return None
    return parts[0] + parts[1] / 60.0 + parts[2] / 3600.0


def gps_from_ifd(gps: dict) -> dict | None:
    if not gps:
        return None
    lat, lon = _dms(gps.get(2)), _dms(gps.get(4))
    if lat is None or lon is None:
        return None
    if (_text(gps.get(1)) or "N").upper().startswith("S"):
        lat = -lat
    if (_text(gps.get(3)) or "E").upper().startswith("W"):
        lon = -lon
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    out = {"lat": round(lat, 7), "lon": round(lon, 7)}
    alt = _altitude(gps)
    if alt is not None:
        out["alt"] = round(alt, 2)
    return out


def _altitude(gps: dict) -> float | None:
    """Metres above sea level (GPSAltitude, tag 6), negative when GPSAltitudeRef (tag 5) says below."""
    alt = _ratio(gps.get(6)) if gps.get(6) is not None else None
    if alt is None:
        return None
    ref = gps.get(5)
    below = ref in (1, b"\x01") or (isinstance(ref, bytes) and ref[:1] == b"\x01")
    return -alt if below else alt


def _safe_ifd(exif: Image.Exif, tag: int) -> dict:
    try:
        return dict(exif.get_ifd(tag))
    except Exception:  # corrupt sub-IFD pointers must not fail the photo
        return {}


def metadata_from_tags(
    ifd0: dict, exif_ifd: dict, gps_ifd: dict, key: str | None = None
) -> PhotoMetadata:
    """PhotoMetadata from plain tag dicts (IFD0, Exif sub-IFD, GPS sub-IFD); key date as fallback."""
    camera = camera_name(ifd0.get(MAKE), ifd0.get(MODEL))
    taken = parse_exif_datetime(exif_ifd.get(DATETIME_ORIGINAL), exif_ifd.get(OFFSET_TIME_ORIGINAL))
    if taken is None:
        taken = parse_exif_datetime(exif_ifd.get(DATETIME_DIGITIZED), exif_ifd.get(OFFSET_TIME_DIGITIZED))
    if taken is not None and not plausible_capture(datetime.fromisoformat(taken), _text(ifd0.get(MODEL))):
        taken = None
    source = "exif" if taken else None
    if taken is None and key:
        taken = date_from_key(key)
        source = "key" if taken else None
    return PhotoMetadata(
        taken_at=taken,
        camera=camera,
        lens=_text(exif_ifd.get(LENS_MODEL)),
        gps=gps_from_ifd(gps_ifd),
        taken_source=source,
    )


def exif_tags(exif: Image.Exif | None) -> tuple[dict, dict, dict]:
    """(IFD0, Exif IFD, GPS IFD) of a Pillow ``Exif`` as plain dicts; broken sub-IFDs come back empty."""
    if exif is None:
        return {}, {}, {}
    try:
        ifd0 = dict(exif)
    except Exception:
        ifd0 = {}
    return ifd0, _safe_ifd(exif, EXIF_IFD), _safe_ifd(exif, GPS_IFD)


def metadata_from_exif(exif: Image.Exif | None, key: str | None = None) -> PhotoMetadata:
    """Build PhotoMetadata from a Pillow ``Exif``; the key's date is the fallback for ``taken_at``."""
    return metadata_from_tags(*exif_tags(exif), key=key)


def capture_time(exif_ifd: dict) -> tuple[str | None, str | None]:
    """Raw EXIF DateTimeOriginal and OffsetTimeOriginal strings, to carry into the thumbnails."""
    dto = _text(exif_ifd.get(DATETIME_ORIGINAL))
    if dto and not parse_exif_datetime(dto):
        dto = None
    return dto, _text(exif_ifd.get(OFFSET_TIME_ORIGINAL)) if dto else None
