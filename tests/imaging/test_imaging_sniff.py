"""Format detection is by content: every family's magic bytes, and what is not an image."""

from __future__ import annotations

import io
import struct

import pytest
from imaging_samples import make_dng, marked, write_tiff, Ifd, ASCII, SHORT
from shoebox.imaging import FormatInfo, sniff


def _saved(fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    marked((64, 48)).save(buf, fmt, **kw)
    return buf.getvalue()


def _tiff_with_make(make: str, *, raw: bool = True) -> bytes:
    entries = [(0x010F, ASCII, make), (0x0100, SHORT, [1]), (0x0101, SHORT, [1])]
    if raw:  # CFA pixels, as in a PEF/SRW IFD0
        entries.append((0x0106, SHORT, [32803]))
    else:  # what Lightroom or a scanner writes: plain RGB, LZW
        entries += [(0x0106, SHORT, [2]), (0x0103, SHORT, [5])]
    return write_tiff(Ifd(entries))


def _ftyp(major: bytes, *compat: bytes) -> bytes:
    body = major + b"\0\0\0\0" + b"".join(compat)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\0" * 32


GOOD = {
    "jpeg": (lambda: _saved("JPEG"), "jpeg", "lossy"),
    "png": (lambda: _saved("PNG"), "png", "lossy"),
    "gif": (lambda: _saved("GIF"), "gif", "lossy"),
    "webp": (lambda: _saved("WEBP"), "webp", "lossy"),
    "tiff": (lambda: _saved("TIFF"), "tiff", "lossy"),
    "bmp": (lambda: _saved("BMP"), "bmp", "lossy"),
    "heic": (lambda: _saved("HEIF"), "heic", "lossy"),
    "avif": (lambda: _saved("AVIF"), "avif", "lossy"),
    "heic-brand-only": (lambda: _ftyp(b"heic", b"mif1", b"heic"), "heic", "lossy"),
    "avif-mif1-major": (lambda: _ftyp(b"mif1", b"avif", b"miaf"), "avif", "lossy"),
    "dng": (lambda: make_dng((64, 48)), "dng", "raw"),
    "nef": (lambda: _tiff_with_make("NIKON CORPORATION"), "nef", "raw"),
    "arw": (lambda: _tiff_with_make("SONY"), "arw", "raw"),
    "pef": (lambda: _tiff_with_make("PENTAX Corporation"), "pef", "raw"),
    "cr2": (lambda: b"II*\x00\x10\x00\x00\x00CR\x02\x00" + b"\0" * 64, "cr2", "raw"),
    "cr3": (lambda: _ftyp(b"crx ", b"crx ", b"isom"), "cr3", "raw"),
    "orf": (lambda: b"IIRO\x08\x00\x00\x00" + b"\0" * 64, "orf", "raw"),
    "rw2": (lambda: b"IIU\x00\x18\x00\x00\x00" + b"\0" * 64, "rw2", "raw"),
    "raf": (lambda: b"FUJIFILMCCD-RAW 0201FF383501" + b"\0" * 100, "raf", "raw"),
    "mrw": (lambda: b"\x00MRM\x00\x00\x00\x10" + b"\0" * 64, "mrw", "raw"),
    "x3f": (lambda: b"FOVb\x00\x00\x02\x00" + b"\0" * 64, "x3f", "raw"),
    "crw": (lambda: b"II\x1a\x00\x00\x00HEAPCCDR" + b"\0" * 64, "crw", "raw"),
    "mp4": (lambda: _ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41"), "mp4", "video"),
    "mp4-mp42": (lambda: _ftyp(b"mp42", b"mp42", b"isom"), "mp4", "video"),
    "mov-ftyp": (lambda: _ftyp(b"qt  ", b"qt  "), "mov", "video"),
    "mov-old": (lambda: struct.pack(">I", 0x10) + b"moov" + b"\0" * 64, "mov", "video"),
    "3gp": (lambda: _ftyp(b"3gp4", b"isom"), "mp4", "video"),
    "mkv": (lambda: b"\x1a\x45\xdf\xa3" + b"\0" * 64, "mkv", "video"),
    "avi": (lambda: b"RIFF\x00\x10\x00\x00AVI LIST" + b"\0" * 64, "avi", "video"),
}


@pytest.mark.parametrize("name", list(GOOD))
def test_sniff_recognises_each_family(name):
    make, fmt, kind = GOOD[name]
    info = sniff(make())
    assert (info.format, info.kind) == (fmt, kind)
    if kind == "video":
        assert info.reason and "video" in info.reason


def test_plain_tiff_from_unknown_maker_is_lossy_not_raw():
    assert sniff(_tiff_with_make("Some Scanner Co")) == FormatInfo("tiff", "lossy")


def test_exported_tiff_keeping_camera_make_is_lossy_not_raw():
    assert sniff(_tiff_with_make("NIKON CORPORATION", raw=False)) == FormatInfo("tiff", "lossy")
    # and a real Pillow-written TIFF carrying a camera's EXIF renders as a TIFF
    buf = io.BytesIO()
    marked((64, 48)).save(buf, "TIFF", compression="tiff_lzw", tiffinfo={0x010F: "NIKON CORPORATION", 0x0110: "NIKON D70"})
    assert sniff(buf.getvalue()) == FormatInfo("tiff", "lossy")


@pytest.mark.parametrize(
    "data, fmt, phrase",
    [
        (b"", "empty", "zero-byte object"),
        (b"Holiday notes\nDay 1: beach\n" * 20, "unknown", "looks like text"),
        (b"<!DOCTYPE html><html><body>404 Not Found</body></html>", "unknown", "looks like HTML"),
        (b'{"error": "AccessDenied"}', "unknown", "looks like JSON"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"\0" * 100, "pdf", "PDF"),
        (b"PK\x03\x04" + b"\0" * 100, "zip", "ZIP"),
        (b"8BPS\x00\x01" + b"\0" * 100, "psd", "Photoshop"),
        (_ftyp(b"jp2 ", b"jp2 "), "jp2", "JPEG 2000"),
        (b"\x01\x02\x03", "unknown", "only 3 bytes"),
    ],
)
def test_sniff_unsupported_has_specific_reason(data, fmt, phrase):
    info = sniff(data)
    assert info.kind == "unsupported"
    assert info.format == fmt
    assert phrase in info.reason


def test_random_bytes_are_unsupported_with_hex_prefix():
    data = bytes(range(7, 250)) * 40
    info = sniff(data)
    assert info.kind == "unsupported" and info.format == "unknown"
    assert "unrecognised content" in info.reason and "07 08 09" in info.reason


def test_random_bytes_many_seeds_never_misclassified_as_image():
    # Random content must not be taken for an image format we would then try to decode as such.
    rng = __import__("random").Random(4)
    for _ in range(200):
        data = bytes(rng.getrandbits(8) for _ in range(256))
        assert sniff(data).kind in ("unsupported", "video", "lossy")
        if sniff(data).kind == "lossy":  # only possible if the random prefix is a real magic number
            assert data[:2] in (b"BM", b"\xff\xd8") or data[:4] in (b"GIF8", b"\x89PNG", b"RIFF")


def test_sniff_reads_only_the_given_head():
    jpeg = _saved("JPEG")
    assert sniff(jpeg[:3]).format == "jpeg"
    assert sniff(memoryview(jpeg)[:64].tobytes()).format == "jpeg"
