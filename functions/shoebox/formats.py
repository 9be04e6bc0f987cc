"""The format registry: everything Shoebox knows about a file format, in one entry.

Read by `imaging.sniff` (magic bytes, TIFF makers), `imaging.rendering` (the one Pillow plugin allowed to
open it), `search.query` (the words that find it) and `backfill.plan` (extensions and the planner's cost
class). Adding a format is one entry here plus its decoder and a test (docs/imaging.md, "Adding a format").
Pure and import-free on purpose: search and the planner read it without loading Pillow (shoebox.imaging
does on import).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

Magic = Callable[[bytes], bool]


def prefix(*starts: bytes) -> Magic:
    return lambda h: h.startswith(starts)


def at(offset: int, value: bytes) -> Magic:
    return lambda h: h[offset : offset + len(value)] == value


def riff(form: bytes) -> Magic:
    return lambda h: h[:4] == b"RIFF" and h[8:12] == form


@dataclass(frozen=True)
class Format:
    name: str  # what sniff() reports, the catalog stores (FORMAT#…) and search finds
    kind: str  # "lossy" | "raw" | "video" | "unsupported"
    # Content test on the first bytes, tried in registry order; None: found inside a container only
    # (a TIFF's IFD0 Make, an ISO media file's ftyp brand: imaging.sniff).
    magic: Magic | None = None
    pil: str | None = None  # the Pillow plugin that may decode it (rendering.open_header)
    extensions: tuple[str, ...] = ()  # planning-grade guesses only: classification is by content
    words: tuple[str, ...] = ()  # search words ("jpgs", "tif") that mean this format
    planner: str = "other"  # backfill cost class: a key of THUMBNAIL_PROFILE, or "video" / "other"
    what: str | None = None  # video: its container's name; unsupported: why
    makers: tuple[str, ...] = ()  # TIFF-based RAW: IFD0 Make prefixes


def _raw(name: str, magic: Magic | None = None, ext: tuple[str, ...] = (), words: tuple[str, ...] = (),
         makers: tuple[str, ...] = ()) -> Format:
    return Format(name, "raw", magic, extensions=ext or (name,), words=words, planner="raw", makers=makers)


def _video(name: str, what: str, magic: Magic | None, ext: tuple[str, ...]) -> Format:
    return Format(name, "video", magic, extensions=ext, planner="video", what=what)


def _unsupported(name: str, why: str, magic: Magic | None) -> Format:
    return Format(name, "unsupported", magic, what=why)


def _is_bmp(h: bytes) -> bool:
    return h.startswith(b"BM") and len(h) >= 18 and int.from_bytes(h[14:18], "little") in (12, 40, 52, 56, 64, 108, 124)


def _is_mpeg_ts(h: bytes) -> bool:
    return len(h) >= 377 and h[0] == 0x47 and h[188] == 0x47 and h[376] == 0x47


_MOV_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


def _is_mov(h: bytes) -> bool:
    return h[4:8] in _MOV_ATOMS and int.from_bytes(h[:4], "big") >= 8


# Registry order is sniff order (after the TIFF and ISO media containers, whose magic no entry shares).
FORMATS: tuple[Format, ...] = (
    Format("jpeg", "lossy", prefix(b"\xff\xd8\xff"), "JPEG", ("jpg", "jpeg", "jpe", "jfif"),
           ("jpeg", "jpg", "jpegs", "jpgs"), "jpeg"),
    Format("png", "lossy", prefix(b"\x89PNG\r\n\x1a\n"), "PNG", ("png",), ("png", "pngs"), "jpeg"),
    Format("gif", "lossy", prefix(b"GIF87a", b"GIF89a"), "GIF", ("gif",), ("gif", "gifs"), "jpeg"),
    Format("webp", "lossy", riff(b"WEBP"), "WEBP", ("webp",), ("webp",), "jpeg"),
    _video("avi", "AVI", riff(b"AVI "), ("avi",)),
    _raw("raf", prefix(b"FUJIFILMCCD-RAW"), words=("raf",), makers=("FUJIFILM",)),
    _raw("crw", prefix(b"II\x1a\x00\x00\x00HEAPCCDR")),
    _raw("orf", prefix(b"IIRO", b"IIRS", b"MMOR"), words=("orf",), makers=("OLYMPUS",)),
    _raw("rw2", prefix(b"IIU\x00"), words=("rw2",), makers=("PANASONIC",)),
    _raw("mrw", prefix(b"\x00MRM"), makers=("MINOLTA", "KONICA MINOLTA")),
    _raw("x3f", prefix(b"FOVb"), makers=("SIGMA",)),
    # Classic TIFF is the TIFF container (it may be a camera's RAW); this magic is BigTIFF's.
    Format("tiff", "lossy", prefix(b"II+\x00", b"MM\x00+"), "TIFF", ("tif", "tiff"), ("tiff", "tif", "tiffs"),
           "jpeg"),
    _raw("cr2", words=("cr2",), makers=("CANON",)),
    _raw("dng", ext=("dng", "rwl"), words=("dng", "dngs"), makers=("LEICA",)),
    _raw("nef", ext=("nef", "nrw"), words=("nef", "nefs"), makers=("NIKON",)),
    _raw("arw", ext=("arw", "srf", "sr2"), words=("arw",), makers=("SONY",)),
    _raw("pef", makers=("PENTAX", "RICOH", "ASAHI")),
    _raw("srw", makers=("SAMSUNG",)),
    _raw("3fr", makers=("HASSELBLAD",)),
    _raw("erf", makers=("EPSON",)),
    _raw("kdc", makers=("KODAK", "EASTMAN KODAK")),
    _raw("mos", makers=("LEAF",)),
    _raw("iiq", makers=("PHASE ONE",)),
    Format("mef", "raw", makers=("MAMIYA",), planner="raw"),
    _raw("cr3", words=("cr3",)),
    Format("heic", "lossy", None, "HEIF", ("heic", "heif", "hif"), ("heic", "heif", "heics"), "heic"),
    Format("avif", "lossy", None, "AVIF", ("avif",), ("avif",), "heic"),
    _video("mov", "QuickTime MOV", _is_mov, ("mov",)),
    _video("mp4", "MP4", None, ("mp4", "m4v", "3gp")),
    _video("mkv", "Matroska/WebM", prefix(b"\x1a\x45\xdf\xa3"), ("mkv",)),
    _video("mpg", "MPEG program stream", prefix(b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3"), ("mpg", "mpeg")),
    _video("mts", "MPEG transport stream (AVCHD)", _is_mpeg_ts, ("mts", "m2ts")),
    _video("wmv", "Windows Media", None, ("wmv",)),  # not sniffed: reported as unrecognised content
    Format("bmp", "lossy", _is_bmp, "BMP", ("bmp",), (), "jpeg"),
    _unsupported("jp2", "JPEG 2000 is not supported", prefix(b"\x00\x00\x00\x0cjP  \r\n\x87\n")),
    _unsupported("jxl", "JPEG XL is not supported", prefix(b"\xff\x0a")),
    _unsupported("psd", "Photoshop document is not supported", prefix(b"8BPS")),
    _unsupported("pdf", "not an image: PDF document", prefix(b"%PDF")),
    _unsupported("zip", "not an image: ZIP archive", prefix(b"PK\x03\x04")),
    _unsupported("mp3", "not an image: MP3 audio", prefix(b"ID3", b"\xff\xfb", b"\xff\xf3")),
    _unsupported("m4a", "not an image: MPEG-4 audio", None),
)

BY_NAME: dict[str, Format] = {f.name: f for f in FORMATS}

# Which Pillow plugin may open each sniffed format: content decides, and only that decoder runs.
PIL_FORMATS: dict[str, str] = {f.name: f.pil for f in FORMATS if f.pil}

# Search words → format name.
QUERY_WORDS: dict[str, str] = {w: f.name for f in FORMATS for w in f.words}

# File extension → the backfill planner's cost class (the planner cannot read content for every key).
EXTENSIONS: dict[str, str] = {e: f.planner for f in FORMATS for e in f.extensions}

# TIFF IFD0 Make prefix → RAW format.
RAW_MAKERS: tuple[tuple[str, str], ...] = tuple((m, f.name) for f in FORMATS for m in f.makers)

# The backfill planner's cost classes. "jpeg" stands for every ordinary raster image (JPEG, PNG, WebP,
# TIFF, GIF, BMP): the thumbnail step decodes them the same way. "heic" covers HEIC/HEIF/AVIF (libheif),
# "raw" camera RAW files, "video" is recorded as skipped (classify + persist only), "other" fails
# classification and is recorded as a failure (classify + record_failure).
PLANNER_CLASSES = ("jpeg", "heic", "raw", "video", "other")
# Thumbnail Lambda (arm64) memory and billed duration per class: it reads the whole original from S3,
# decodes it (JPEG with draft-mode downscale; HEIC through libheif; RAW via rawpy's embedded preview,
# demosaic only as a fallback), writes a 1920 px and a 320 px JPEG.
THUMBNAIL_PROFILE: dict[str, tuple[int, float]] = {  # class -> (memory MB, seconds)
    "jpeg": (1024, 1.2),
    "heic": (1536, 2.2),
    "raw": (2048, 3.0),
}
