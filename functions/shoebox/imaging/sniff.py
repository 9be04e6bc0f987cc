"""Format detection by content (magic bytes), never by file name."""

from __future__ import annotations

import struct
from dataclasses import dataclass

SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class FormatInfo:
    format: str
    kind: str  # "lossy" | "raw" | "video" | "unsupported"
    reason: str | None = None


def _lossy(fmt: str) -> FormatInfo:
    return FormatInfo(fmt, "lossy")


def _raw(fmt: str) -> FormatInfo:
    return FormatInfo(fmt, "raw")


def _video(fmt: str, what: str) -> FormatInfo:
    return FormatInfo(fmt, "video", f"video ({what}): videos are recorded, not thumbnailed")


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
_MOV_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}

# TIFF-based RAW containers: IFD0 Make → format. (CR2/ORF/RW2 have their own magic.)
_RAW_MAKERS = (
    ("NIKON", "nef"), ("SONY", "arw"), ("PENTAX", "pef"), ("RICOH", "pef"), ("ASAHI", "pef"),
    ("SAMSUNG", "srw"), ("HASSELBLAD", "3fr"), ("EPSON", "erf"), ("KODAK", "kdc"), ("EASTMAN KODAK", "kdc"),
    ("LEAF", "mos"), ("PHASE ONE", "iiq"), ("MAMIYA", "mef"), ("CANON", "cr2"), ("OLYMPUS", "orf"),
    ("PANASONIC", "rw2"), ("LEICA", "dng"), ("FUJIFILM", "raf"), ("MINOLTA", "mrw"), ("KONICA MINOLTA", "mrw"),
    ("SIGMA", "x3f"),
)


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
        return _raw("cr2")
    tags = _tiff_ifd0(head) or {}
    if 0xC612 in tags:  # DNGVersion
        return _raw("dng")
    make = str(tags.get(0x010F, "")).upper()
    for prefix, fmt in _RAW_MAKERS:
        if make.startswith(prefix) and _raw_layout(tags):
            return _raw(fmt)
    return _lossy("tiff")


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
    if h.startswith(b"\xff\xd8\xff"):
        return _lossy("jpeg")
    if h.startswith(b"\x89PNG\r\n\x1a\n"):
        return _lossy("png")
    if h.startswith((b"GIF87a", b"GIF89a")):
        return _lossy("gif")
    if h[:4] == b"RIFF" and h[8:12] == b"WEBP":
        return _lossy("webp")
    if h[:4] == b"RIFF" and h[8:12] == b"AVI ":
        return _video("avi", "AVI")
    if h.startswith(b"FUJIFILMCCD-RAW"):
        return _raw("raf")
    if h.startswith(b"II\x1a\x00\x00\x00HEAPCCDR"):
        return _raw("crw")
    if h.startswith((b"IIRO", b"IIRS", b"MMOR")):
        return _raw("orf")
    if h.startswith(b"IIU\x00"):
        return _raw("rw2")
    if h.startswith(b"\x00MRM"):
        return _raw("mrw")
    if h.startswith(b"FOVb"):
        return _raw("x3f")
    if h.startswith((b"II*\x00", b"MM\x00*")):
        return _sniff_tiff(h)
    if h.startswith((b"II+\x00", b"MM\x00+")):
        return _lossy("tiff")  # BigTIFF
    if h[4:8] == b"ftyp":
        major = h[8:12]
        (box_len,) = struct.unpack(">I", h[:4])
        compat = {h[i : i + 4] for i in range(16, min(max(box_len, 16), 256, len(h)), 4)}
        brands = {major} | compat
        if major == b"crx ":
            return _raw("cr3")
        if brands & _AVIF_BRANDS and major not in _HEIF_BRANDS - {b"mif1", b"msf1"}:
            return _lossy("avif")
        if major in _HEIF_BRANDS or (brands & _HEIF_BRANDS and major not in _VIDEO_BRANDS):
            return _lossy("heic")
        if major == b"qt  ":
            return _video("mov", "QuickTime MOV")
        if major in _VIDEO_BRANDS:
            return _video("mp4", _VIDEO_BRANDS[major])
        if major in (b"M4A ", b"M4B ", b"M4P "):
            return _unsupported("m4a", "not an image: MPEG-4 audio")
        if major in (b"jp2 ", b"jpx ", b"jpm "):
            return _unsupported("jp2", "JPEG 2000 is not supported")
        if major == b"jxl ":
            return _unsupported("jxl", "JPEG XL is not supported")
        return _unsupported("unknown", f"unsupported ISO media file (brand {major.decode('latin-1')!r})")
    if h[4:8] in _MOV_ATOMS and struct.unpack(">I", h[:4])[0] >= 8:
        return _video("mov", "QuickTime MOV")
    if h.startswith(b"\x1a\x45\xdf\xa3"):
        return _video("mkv", "Matroska/WebM")
    if h.startswith(b"\x00\x00\x01\xba") or h.startswith(b"\x00\x00\x01\xb3"):
        return _video("mpg", "MPEG program stream")
    if len(h) >= 377 and h[0] == 0x47 and h[188] == 0x47 and h[376] == 0x47:
        return _video("mts", "MPEG transport stream (AVCHD)")
    if h.startswith(b"BM") and len(h) >= 18:
        (dib,) = struct.unpack("<I", h[14:18])
        if dib in (12, 40, 52, 56, 64, 108, 124):
            return _lossy("bmp")
    if h.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n"):
        return _unsupported("jp2", "JPEG 2000 is not supported")
    if h.startswith(b"\xff\x0a"):
        return _unsupported("jxl", "JPEG XL is not supported")
    if h.startswith(b"8BPS"):
        return _unsupported("psd", "Photoshop document is not supported")
    if h.startswith(b"%PDF"):
        return _unsupported("pdf", "not an image: PDF document")
    if h.startswith(b"PK\x03\x04"):
        return _unsupported("zip", "not an image: ZIP archive")
    if h.startswith((b"ID3", b"\xff\xfb", b"\xff\xf3")):
        return _unsupported("mp3", "not an image: MP3 audio")
    text = _looks_like_text(h)
    if text:
        return _unsupported("unknown", f"not an image: looks like {text}")
    if len(h) < 16:
        return _unsupported("unknown", f"not an image: only {len(h)} bytes of unrecognised content")
    return _unsupported("unknown", f"not an image: unrecognised content (starts {h[:8].hex(' ')})")
