"""Format detection by content (magic bytes), never by file name: the magic is in shoebox.formats."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Callable

from shoebox.formats import BY_NAME, FORMATS, RAW_MAKERS

SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class FormatInfo:
    format: str
    kind: str  # "lossy" | "raw" | "video" | "unsupported"
    reason: str | None = None


def _info(name: str, what: str | None = None) -> FormatInfo:
    """The registry entry's classification; ``what`` names a video container more precisely."""
    fmt = BY_NAME[name]
    if fmt.kind == "video":
        return FormatInfo(name, "video", f"video ({what or fmt.what}): videos are recorded, not thumbnailed")
    return FormatInfo(name, fmt.kind, fmt.what)


def _unsupported(fmt: str, reason: str) -> FormatInfo:
    return FormatInfo(fmt, "unsupported", reason)


_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1", b"mif2"}
_AVIF_BRANDS = {b"avif", b"avis"}
_VIDEO_BRANDS = {
    b"isom": "MP4", b"iso2": "MP4", b"iso4": "MP4", b"iso5": "MP4", b"iso6": "MP4", b"mp41": "MP4",
    b"mp42": "MP4", b"avc1": "MP4", b"M4V ": "M4V", b"M4VH": "M4V", b"M4VP": "M4V", b"dash": "MP4",
    b"f4v ": "F4V", b"mmp4": "MP4", b"MSNV": "MP4", b"XAVC": "MP4", b"qt  ": "QuickTime MOV",
    b"3gp4": "3GP", b"3gp5": "3GP", b"3gp6": "3GP", b"3gp7": "3GP", b"3g2a": "3GP", b"3ge6": "3GP",
}
# ftyp major brand → format, for brands that decide alone (after the HEIF/AVIF rules).
_BRAND_FORMATS = {b"qt  ": "mov", b"M4A ": "m4a", b"M4B ": "m4a", b"M4P ": "m4a",
                  b"jp2 ": "jp2", b"jpx ": "jp2", b"jpm ": "jp2", b"jxl ": "jxl"}

def _tiff_ifd0(head: bytes) -> dict[int, object] | None:
    """Tags of IFD0 we need for classification (Make, DNGVersion, NewSubfileType…), bounded to ``head``."""
    if len(head) < 8:
        return None
    endian = "<" if head[:2] == b"II" else ">"
    try:
        (offset,) = struct.unpack(endian + "I", head[4:8])
        if offset + 2 > len(head):
            return {}
        (count,) = struct.unpack(endian + "H", head[offset : offset + 2])
        tags: dict[int, object] = {}
        for i in range(min(count, 512)):
            entry = head[offset + 2 + i * 12 : offset + 14 + i * 12]
            if len(entry) < 12:
                break
            tag, typ, n = struct.unpack(endian + "HHI", entry[:8])
            if tag == 0x010F and typ == 2:  # Make (ASCII)
                if n <= 4:
                    value = entry[8 : 8 + n]
                else:
                    (voff,) = struct.unpack(endian + "I", entry[8:12])
                    value = head[voff : voff + n]
                tags[tag] = value.split(b"\0", 1)[0].decode("latin-1").strip()
            elif tag in (0xC612, 0x014A):  # DNGVersion, SubIFDs: presence is enough
                tags[tag] = True
            elif tag in (0x00FE, 0x0103, 0x0106) and n == 1 and typ in (3, 4):
                # NewSubfileType, Compression, PhotometricInterpretation (inline SHORT/LONG)
                fmt = "H" if typ == 3 else "I"
                tags[tag] = struct.unpack(endian + fmt, entry[8 : 8 + struct.calcsize(fmt)])[0]
        return tags
    except struct.error:
        return {}


def _sniff_tiff(head: bytes) -> FormatInfo:
    if head[8:10] == b"CR" and head[10:11] == b"\x02":
        return _info("cr2")
    tags = _tiff_ifd0(head) or {}
    if 0xC612 in tags:  # DNGVersion
        return _info("dng")
    make = str(tags.get(0x010F, "")).upper()
    for prefix, fmt in RAW_MAKERS:
        if make.startswith(prefix) and _raw_layout(tags):
            return _info(fmt)
    return _info("tiff")


def _sniff_iso_media(h: bytes) -> FormatInfo:
    """An ISO base media file (``ftyp`` box): HEIF/AVIF stills, CR3, MP4/MOV video, or not ours."""
    major = h[8:12]
    (box_len,) = struct.unpack(">I", h[:4])
    compat = {h[i : i + 4] for i in range(16, min(max(box_len, 16), 256, len(h)), 4)}
    brands = {major} | compat
    if major == b"crx ":
        return _info("cr3")
    if brands & _AVIF_BRANDS and major not in _HEIF_BRANDS - {b"mif1", b"msf1"}:
        return _info("avif")
    if major in _HEIF_BRANDS or (brands & _HEIF_BRANDS and major not in _VIDEO_BRANDS):
        return _info("heic")
    if major in _BRAND_FORMATS:
        return _info(_BRAND_FORMATS[major])
    if major in _VIDEO_BRANDS:
        return _info("mp4", _VIDEO_BRANDS[major])
    return _unsupported("unknown", f"unsupported ISO media file (brand {major.decode('latin-1')!r})")


# Containers first: what is inside decides the format. Their magic is shared by no registry entry.
_CONTAINERS: tuple[tuple[Callable[[bytes], bool], Callable[[bytes], FormatInfo]], ...] = (
    (lambda h: h.startswith((b"II*\x00", b"MM\x00*")), _sniff_tiff),
    (lambda h: h[4:8] == b"ftyp", _sniff_iso_media),
)


# Compression values of ordinary TIFF images (none, LZW, JPEG, Deflate, PackBits, Adobe Deflate).
_PLAIN_TIFF_COMPRESSION = {1, 5, 6, 7, 8, 32773, 32946}


def _raw_layout(tags: dict) -> bool:
    """A camera maker's TIFF is RAW only if it is laid out like one: a reduced-resolution IFD0 with
    SubIFDs (NEF, ARW), CFA/LinearRaw pixels, or a maker compression. An exported or scanned TIFF that
    merely carries the camera's Make (Lightroom, Nikon Scan…) is a plain TIFF."""
    return (
        0x014A in tags
        or tags.get(0x00FE) == 1
        or tags.get(0x0106) in (32803, 34892)
        or tags.get(0x0103, 1) not in _PLAIN_TIFF_COMPRESSION
    )


def _looks_like_text(head: bytes) -> str | None:
    sample = head[:4096]
    if not sample:
        return None
    if sample.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return "text"
    if b"\0" in sample:
        return None
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # not just a multi-byte char cut at the end
            return None
        text = sample[: exc.start].decode("utf-8")
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    if printable < 0.95 * max(len(text), 1):
        return None
    low = text.lstrip().lower()
    if low.startswith(("<!doctype html", "<html")):
        return "HTML"
    if low.startswith("<?xml") or low.startswith("<svg"):
        return "SVG" if "<svg" in low[:1000] else "XML"
    if low.startswith(("{", "[")):
        return "JSON"
    return "text"


def sniff(head: bytes) -> FormatInfo:
    """Classify content from its first bytes (give it the first ~64 KiB)."""
    if not head:
        return _unsupported("empty", "zero-byte object")
    h = bytes(head[:SNIFF_BYTES])
    for test, inside in _CONTAINERS:
        if test(h):
            return inside(h)
    for fmt in FORMATS:
        if fmt.magic is not None and fmt.magic(h):
            return _info(fmt.name)
    text = _looks_like_text(h)
    if text:
        return _unsupported("unknown", f"not an image: looks like {text}")
    if len(h) < 16:
        return _unsupported("unknown", f"not an image: only {len(h)} bytes of unrecognised content")
    return _unsupported("unknown", f"not an image: unrecognised content (starts {h[:8].hex(' ')})")
