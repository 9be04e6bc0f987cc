"""Small generated photos for tests (a uniquely named module: several conftest.py files exist)."""

from __future__ import annotations

import io
from datetime import datetime

from PIL import Image


def jpeg_bytes(size=(640, 480), color=(180, 60, 40), when: datetime | None = None) -> bytes:
    im = Image.new("RGB", size, color)
    exif = Image.Exif()
    if when:
        exif.get_ifd(0x8769)[0x9003] = when.strftime("%Y:%m:%d %H:%M:%S")
    out = io.BytesIO()
    im.save(out, "JPEG", quality=85, exif=exif.tobytes())
    return out.getvalue()
