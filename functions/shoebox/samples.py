"""Sample photos for the demo and tests: the real ones bundled in the package (licence notes beside
them) plus generated ones with EXIF capture dates, GPS and every orientation, and a few bad files."""

from __future__ import annotations

import io
import random
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageDraw
from PIL.TiffImagePlugin import IFDRational

BUNDLED = Path(__file__).parent / "data" / "samples"

# (name, capture time, (lat, lon) or None)
GENERATED = [
    ("IMG_0001.JPG", datetime(2006, 10, 4, 14, 3, 0), (48.8584, 2.2945)),  # Paris
    ("IMG_0002.JPG", datetime(2007, 7, 14, 10, 0, 0), (41.8902, 12.4922)),  # Rome
    ("IMG_0003.JPG", datetime(2007, 12, 25, 9, 30, 0), None),
    ("DSC_0100.JPG", datetime(2010, 5, 1, 18, 45, 0), (40.4168, -3.7038)),  # Madrid
    ("P1000200.PNG", datetime(2015, 8, 20, 12, 0, 0), None),
]


def _dms(value: float) -> tuple:
    value = abs(value)
    deg = int(value)
    minutes = int((value - deg) * 60)
    seconds = ((value - deg) * 60 - minutes) * 60
    return (IFDRational(deg, 1), IFDRational(minutes, 1), IFDRational(round(seconds * 100), 100))


def photo_bytes(when: datetime | None = None, gps: tuple[float, float] | None = None, *, size=(1600, 1200),
                fmt: str = "JPEG", seed: int = 0, orientation: int | None = None) -> bytes:
    """A synthetic photo: sky/ground gradient with a few shapes, optional EXIF date, GPS and orientation."""
    rng = random.Random(seed)
    w, h = size
    im = Image.new("RGB", size)
    draw = ImageDraw.Draw(im)
    sky = (rng.randint(60, 140), rng.randint(120, 200), rng.randint(180, 255))
    ground = (rng.randint(40, 120), rng.randint(90, 160), rng.randint(20, 80))
    for y in range(h):
        t = y / h
        base = sky if t < 0.6 else ground
        draw.line([(0, y), (w, y)], fill=tuple(int(c * (0.7 + 0.3 * (1 - t))) for c in base))
    for _ in range(6):
        x, y, r = rng.randint(0, w), rng.randint(0, h), rng.randint(h // 20, h // 6)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=(rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255)))
    exif = Image.Exif()
    if when:
        exif[0x0132] = when.strftime("%Y:%m:%d %H:%M:%S")
        exif.get_ifd(0x8769)[0x9003] = when.strftime("%Y:%m:%d %H:%M:%S")
    exif[0x010F] = "NIKON CORPORATION"
    exif[0x0110] = "NIKON D70"
    if orientation:
        exif[0x0112] = orientation
    if gps:
        lat, lon = gps
        exif.get_ifd(0x8825).update({1: "N" if lat >= 0 else "S", 2: _dms(lat), 3: "E" if lon >= 0 else "W", 4: _dms(lon)})
    out = io.BytesIO()
    if fmt == "PNG":
        im.save(out, "PNG", exif=exif.tobytes())
    else:
        im.save(out, fmt, quality=90, exif=exif.tobytes())
    return out.getvalue()


def write_samples(folder: Path, *, include_bad: bool = True) -> list[Path]:
    """Fill ``folder`` with the demo set; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if BUNDLED.is_dir():
        for src in sorted(BUNDLED.iterdir()):
            if src.suffix.lower() in {".jpg", ".jpeg", ".png", ".heic", ".dng"}:
                dst = folder / src.name
                dst.write_bytes(src.read_bytes())
                written.append(dst)
    for i, (name, when, gps) in enumerate(GENERATED):
        dst = folder / name
        dst.write_bytes(photo_bytes(when, gps, fmt="PNG" if name.endswith(".PNG") else "JPEG", seed=i))
        written.append(dst)
    if include_bad:
        good = photo_bytes(datetime(2008, 3, 3, 8, 0, 0), seed=99)
        (folder / "TRUNCATED.JPG").write_bytes(good[: len(good) // 3])
        (folder / "NOTES.NEF").write_bytes(b"this is a text file, not a camera raw\n" * 20)
        written += [folder / "TRUNCATED.JPG", folder / "NOTES.NEF"]
    return written
