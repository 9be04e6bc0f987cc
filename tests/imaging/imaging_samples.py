"""Generators for imaging test inputs (also used by scripts/bench_thumbnail.py). Nothing is downloaded.

``make_dng`` writes a small but real DNG: IFD0 holds an optional JPEG preview (as cameras and Adobe's
converter do), a SubIFD holds the Bayer CFA data, with EXIF and GPS sub-IFDs. LibRaw reads it like a
camera file, so the preview, bitmap and demosaic paths can all be exercised.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image

BYTE, ASCII, SHORT, LONG, RATIONAL, UNDEFINED, SRATIONAL = 1, 2, 3, 4, 5, 7, 10
_SIZES = {BYTE: 1, ASCII: 1, SHORT: 2, LONG: 4, RATIONAL: 8, UNDEFINED: 1, SRATIONAL: 8}


class Blob:
    """Bulk data placed after all IFDs; the tag gets its offset."""

    def __init__(self, data: bytes) -> None:
        self.data = data


class Ifd:
    def __init__(self, entries: list[tuple[int, int, object]]) -> None:
        self.entries = entries


def _pack_values(typ: int, value) -> bytes:
    if typ == ASCII:
        return value.encode("ascii") + b"\0"
    if typ in (BYTE, UNDEFINED):
        return bytes(value)
    if typ == SHORT:
        return struct.pack(f"<{len(value)}H", *value)
    if typ == LONG:
        return struct.pack(f"<{len(value)}I", *value)
    if typ == RATIONAL:
        return b"".join(struct.pack("<II", n, d) for n, d in value)
    if typ == SRATIONAL:
        return b"".join(struct.pack("<ii", n, d) for n, d in value)
    raise ValueError(typ)


def write_tiff(ifd0: Ifd, magic: bytes = b"II*\x00") -> bytes:
    """Little-endian TIFF writer: values of type Ifd become sub-IFD offsets, Blob values data offsets."""
    order: list[Ifd] = []
    blobs: list[Blob] = []

    def walk(ifd: Ifd) -> None:
        order.append(ifd)
        for _, _, v in ifd.entries:
            for item in v if isinstance(v, list) else [v]:
                if isinstance(item, Ifd):
                    walk(item)
                elif isinstance(item, Blob):
                    blobs.append(item)

    walk(ifd0)

    def data_size(ifd: Ifd) -> int:
        size = 0
        for tag, typ, v in ifd.entries:
            if isinstance(v, (Ifd, Blob)) or (isinstance(v, list) and v and isinstance(v[0], (Ifd, Blob))):
                n = len(v) if isinstance(v, list) else 1
                size += 4 * n if n > 1 else 0
            else:
                raw = _pack_values(typ, v)
                size += (len(raw) + 1) & ~1 if len(raw) > 4 else 0
        return size

    pos = 8
    where: dict[int, int] = {}
    for ifd in order:
        where[id(ifd)] = pos
        pos += 2 + 12 * len(ifd.entries) + 4 + data_size(ifd)
        pos = (pos + 1) & ~1
    for blob in blobs:
        where[id(blob)] = pos
        pos += len(blob.data)
        pos = (pos + 1) & ~1

    out = bytearray(pos)
    out[0:8] = magic + struct.pack("<I", 8)
    for ifd in order:
        base = where[id(ifd)]
        entries = sorted(ifd.entries, key=lambda e: e[0])
        struct.pack_into("<H", out, base, len(entries))
        extra = base + 2 + 12 * len(entries) + 4
        for i, (tag, typ, v) in enumerate(entries):
            items = v if isinstance(v, list) else [v]
            if items and isinstance(items[0], (Ifd, Blob)):
                typ = LONG
                raw = struct.pack(f"<{len(items)}I", *(where[id(x)] for x in items))
                count = len(items)
            else:
                raw = _pack_values(typ, v)
                count = len(raw) // _SIZES[typ]
            if len(raw) <= 4:
                struct.pack_into("<HHI4s", out, base + 2 + 12 * i, tag, typ, count, raw.ljust(4, b"\0"))
            else:
                struct.pack_into("<HHII", out, base + 2 + 12 * i, tag, typ, count, extra)
                out[extra : extra + len(raw)] = raw
                extra += (len(raw) + 1) & ~1
        struct.pack_into("<I", out, base + 2 + 12 * len(entries), 0)
    for blob in blobs:
        start = where[id(blob)]
        out[start : start + len(blob.data)] = blob.data
    return bytes(out)


def gradient(size: tuple[int, int]) -> Image.Image:
    """RGB test picture: red grows left→right, green top→bottom, blue constant; corners are distinct."""
    w, h = size
    x = np.linspace(0, 255, w, dtype=np.float32)[None, :].repeat(h, 0)
    y = np.linspace(0, 255, h, dtype=np.float32)[:, None].repeat(w, 1)
    arr = np.stack([x, y, np.full((h, w), 60, np.float32)], axis=2).astype(np.uint8)
    return Image.fromarray(arr, "RGB")


def marked(size: tuple[int, int]) -> Image.Image:
    """Gray picture with red (top-left), green (top-right) and blue (bottom-right) blocks.

    No two of the 8 EXIF orientations map it onto the same picture, so any mistake shows.
    """
    w, h = size
    im = Image.new("RGB", size, (128, 128, 128))
    bw, bh = max(1, w // 4), max(1, h // 4)
    im.paste((255, 0, 0), (0, 0, bw, bh))
    im.paste((0, 255, 0), (w - bw, 0, w, bh))
    im.paste((0, 0, 255), (w - bw, h - bh, w, h))
    return im


def photo_like(size: tuple[int, int], seed: int = 1) -> Image.Image:
    """Smooth gradients plus mild noise: compresses like a photo (for realistic JPEG sizes/timings)."""
    rng = np.random.default_rng(seed)
    w, h = size
    base = np.asarray(gradient((max(1, w // 8), max(1, h // 8))).resize(size, Image.Resampling.BILINEAR))
    noise = rng.integers(-12, 13, size=(h, w, 1), dtype=np.int16)
    return Image.fromarray(np.clip(base.astype(np.int16) + noise, 0, 255).astype(np.uint8), "RGB")


def jpeg_bytes(im: Image.Image, exif: bytes | None = None, **kw) -> bytes:
    buf = io.BytesIO()
    if exif:
        kw["exif"] = exif
    im.save(buf, "JPEG", quality=kw.pop("quality", 90), **kw)
    return buf.getvalue()


def exif_bytes(
    *,
    orientation: int | None = None,
    taken: str | None = None,
    offset: str | None = None,
    make: str | None = None,
    model: str | None = None,
    lens: str | None = None,
    gps: tuple[float, float] | None = None,
) -> bytes:
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if make:
        exif[0x010F] = make
    if model:
        exif[0x0110] = model
    sub = {}
    if taken:
        sub[0x9003] = taken
    if offset:
        sub[0x9011] = offset
    if lens:
        sub[0xA434] = lens
    if sub:
        exif[0x8769] = sub
    if gps:
        lat, lon = gps
        exif[0x8825] = {
            1: "N" if lat >= 0 else "S",
            2: _dms_tuple(abs(lat)),
            3: "E" if lon >= 0 else "W",
            4: _dms_tuple(abs(lon)),
            5: b"\x00",
            6: 123.5,
        }
    return exif.tobytes()


def _dms_tuple(value: float) -> tuple[float, float, float]:
    d = int(value)
    m = int((value - d) * 60)
    s = round((value - d - m / 60) * 3600, 4)
    return (float(d), float(m), s)


def _rational_dms(value: float) -> list[tuple[int, int]]:
    d, m, s = _dms_tuple(abs(value))
    return [(int(d), 1), (int(m), 1), (int(round(s * 1000)), 1000)]


def make_dng(
    size: tuple[int, int] = (640, 426),
    *,
    preview: Image.Image | bytes | None = None,
    bitmap: Image.Image | None = None,
    orientation: int = 1,
    make: str = "Shoebox",
    model: str = "Test Camera",
    taken: str | None = "2006:10:04 12:34:56",
    gps: tuple[float, float] | None = None,
    lens: str | None = None,
    scene: Image.Image | None = None,
) -> bytes:
    """A DNG whose CFA data mosaics ``scene`` (default: a gradient) at ``size``.

    ``preview`` → IFD0 holds that image as a JPEG (NewSubfileType 1); ``bitmap`` → IFD0 holds it as
    uncompressed 8-bit RGB; neither → IFD0 is the raw image itself.
    """
    w, h = size
    w -= w % 2
    h -= h % 2
    scene_arr = np.asarray((scene or gradient((w, h))).convert("RGB").resize((w, h)), dtype=np.uint16)
    cfa = np.empty((h, w), np.uint16)
    # RGGB, 12-bit values with black level 0
    cfa[0::2, 0::2] = scene_arr[0::2, 0::2, 0] * 16
    cfa[0::2, 1::2] = scene_arr[0::2, 1::2, 1] * 16
    cfa[1::2, 0::2] = scene_arr[1::2, 0::2, 1] * 16
    cfa[1::2, 1::2] = scene_arr[1::2, 1::2, 2] * 16

    raw_entries = [
        (0x00FE, LONG, [0]),
        (0x0100, LONG, [w]),
        (0x0101, LONG, [h]),
        (0x0102, SHORT, [16]),
        (0x0103, SHORT, [1]),
        (0x0106, SHORT, [32803]),
        (0x0111, LONG, Blob(cfa.astype("<u2").tobytes())),
        (0x0115, SHORT, [1]),
        (0x0116, LONG, [h]),
        (0x0117, LONG, [w * h * 2]),
        (0x828D, SHORT, [2, 2]),
        (0x828E, BYTE, [0, 1, 1, 2]),
        (0xC61A, LONG, [0]),  # BlackLevel
        (0xC61D, LONG, [4095]),  # WhiteLevel
    ]
    exif_entries = []
    if taken:
        exif_entries.append((0x9003, ASCII, taken))
    if lens:
        exif_entries.append((0xA434, ASCII, lens))
    ifd0 = [
        (0x010F, ASCII, make),
        (0x0110, ASCII, model),
        (0x0112, SHORT, [orientation]),
        (0xC612, BYTE, [1, 4, 0, 0]),  # DNGVersion
        (0xC613, BYTE, [1, 1, 0, 0]),
        (0xC614, ASCII, f"{make} {model}"),
        # identity-ish colour matrix, D65, neutral as-shot white balance
        (0xC621, SRATIONAL, [(1, 1), (0, 1), (0, 1), (0, 1), (1, 1), (0, 1), (0, 1), (0, 1), (1, 1)]),
        (0xC65A, SHORT, [21]),
        (0xC628, RATIONAL, [(1, 1), (1, 1), (1, 1)]),
    ]
    if exif_entries:
        ifd0.append((0x8769, LONG, Ifd(exif_entries)))
    if gps:
        lat, lon = gps
        ifd0.append(
            (
                0x8825,
                LONG,
                Ifd(
                    [
                        (0x0000, BYTE, [2, 3, 0, 0]),
                        (0x0001, ASCII, "N" if lat >= 0 else "S"),
                        (0x0002, RATIONAL, _rational_dms(lat)),
                        (0x0003, ASCII, "E" if lon >= 0 else "W"),
                        (0x0004, RATIONAL, _rational_dms(lon)),
                    ]
                ),
            )
        )
    if preview is not None or bitmap is not None:
        if preview is not None:
            if isinstance(preview, (bytes, bytearray)):  # an already encoded JPEG (e.g. with its own EXIF)
                data = bytes(preview)
                pw, ph = Image.open(io.BytesIO(data)).size
            else:
                data = jpeg_bytes(preview.convert("RGB"), quality=90)
                pw, ph = preview.size
            ifd0 += [
                (0x00FE, LONG, [1]),
                (0x0100, LONG, [pw]),
                (0x0101, LONG, [ph]),
                (0x0102, SHORT, [8, 8, 8]),
                (0x0103, SHORT, [7]),
                (0x0106, SHORT, [6]),
                (0x0111, LONG, Blob(data)),
                (0x0115, SHORT, [3]),
                (0x0116, LONG, [ph]),
                (0x0117, LONG, [len(data)]),
            ]
        else:
            bm = bitmap.convert("RGB")
            pw, ph = bm.size
            data = bm.tobytes()
            ifd0 += [
                (0x00FE, LONG, [1]),
                (0x0100, LONG, [pw]),
                (0x0101, LONG, [ph]),
                (0x0102, SHORT, [8, 8, 8]),
                (0x0103, SHORT, [1]),
                (0x0106, SHORT, [2]),
                (0x0111, LONG, Blob(data)),
                (0x0115, SHORT, [3]),
                (0x0116, LONG, [ph]),
                (0x0117, LONG, [len(data)]),
            ]
        ifd0.append((0x014A, LONG, Ifd(raw_entries)))
    else:
        ifd0 += raw_entries
    return write_tiff(Ifd(ifd0))


def png_bomb(size: tuple[int, int] = (20000, 20000)) -> bytes:
    """A valid 1-bit PNG of ``size`` zero pixels: a few tens of KB declaring hundreds of megapixels."""
    w, h = size

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    row = b"\0" * (1 + (w + 7) // 8)
    comp = zlib.compressobj(9)
    parts = [comp.compress(row * 256) for _ in range(h // 256)]
    parts.append(comp.compress(row * (h % 256)))
    parts.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")


def png_rgb16(arr: np.ndarray) -> bytes:
    """16-bit-per-channel RGB PNG from a (h, w, 3) uint16 array (Pillow cannot write this mode)."""
    h, w, _ = arr.shape

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    rows = b"".join(b"\0" + arr[y].astype(">u2").tobytes() for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


# EXIF orientation n means: stored pixels = STORED_FROM_UPRIGHT[n](upright pixels). Written with numpy
# from the EXIF definitions (where row 0 / column 0 of the stored image belong), independently of Pillow.
STORED_FROM_UPRIGHT = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],  # mirrored left-right
    3: lambda a: a[::-1, ::-1],  # rotated 180°
    4: lambda a: a[::-1, :],  # mirrored top-bottom
    5: lambda a: a.transpose(1, 0, 2),  # transposed (mirror along the main diagonal)
    6: lambda a: np.rot90(a, 1),  # viewer must turn it 90° clockwise
    7: lambda a: np.rot90(a, 2).transpose(1, 0, 2),  # transverse
    8: lambda a: np.rot90(a, -1),  # viewer must turn it 90° counter-clockwise
}


def stored_for(upright: Image.Image, orientation: int) -> Image.Image:
    arr = np.asarray(upright.convert("RGB"))
    return Image.fromarray(np.ascontiguousarray(STORED_FROM_UPRIGHT[orientation](arr)), "RGB")
