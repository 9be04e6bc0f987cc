"""The bad-input corpus: every file ends as ImageError / UnsupportedFormat / SkippedMedia with a
specific, readable reason; nothing crashes with anything else, nothing is mistaken for a photo."""

from __future__ import annotations

import io
import os
import random
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image

from imaging_samples import exif_bytes, gradient, jpeg_bytes, make_dng, marked, photo_like, png_bomb
from shoebox.errors import ImageError, ShoeboxError, SkippedMedia, UnsupportedFormat
from shoebox.imaging.pipeline import render


def _save(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def _jpeg_declaring(size: tuple[int, int]) -> bytes:
    """A small valid JPEG whose SOF header is patched to declare ``size``."""
    data = bytearray(jpeg_bytes(gradient((64, 64))))
    i = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, i + 5, size[1], size[0])
    return bytes(data)


def _corrupt_png_idat() -> bytes:
    data = bytearray(_save(photo_like((200, 200)), "PNG"))
    i = data.find(b"IDAT") + 4
    data[i + 10 : i + 60] = b"\x55" * 50  # breaks the zlib stream (and the CRC)
    return bytes(data)


def _ftyp(major: bytes, *compat: bytes) -> bytes:
    body = major + b"\0\0\x02\0" + b"".join(compat)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + struct.pack(">I", 16) + b"mdat" + b"\0" * 8


_JPEG = jpeg_bytes(gradient((800, 600)))
_HEIC = _save(marked((400, 300)), "HEIF", quality=60)
_DNG = make_dng((640, 426), preview=marked((1200, 800)))
_RNG = random.Random(7)

# name → (bytes, expected exception, phrase that must be in the reason)
CORPUS: dict[str, tuple[bytes, type[ShoeboxError], str]] = {
    "truncated.jpg": (_JPEG[: len(_JPEG) // 2], ImageError, "truncated jpeg"),
    "random.jpg": (bytes(_RNG.getrandbits(8) for _ in range(4096)), UnsupportedFormat, "not an image"),
    "empty.jpg": (b"", UnsupportedFormat, "zero-byte object"),
    "bomb.png": (png_bomb((20000, 20000)), ImageError, "decompression-bomb guard: png declares 20000x20000"),
    "bomb.jpg": (_jpeg_declaring((30000, 20000)), ImageError, "decompression-bomb guard: jpeg declares 30000x20000"),
    "truncated.dng": (_DNG[: len(_DNG) * 2 // 3], ImageError, "truncated dng"),
    "notes.NEF": (b"Shopping list\n- film\n- batteries\n" * 10, UnsupportedFormat, "looks like text"),
    "error-page.jpg": (b"<!DOCTYPE html><html><head><title>403</title></head></html>", UnsupportedFormat,
                       "looks like HTML"),
    "clip.mp4": (_ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41"), SkippedMedia, "video (MP4)"),
    "clip.mov": (_ftyp(b"qt  ", b"qt  "), SkippedMedia, "video (QuickTime MOV)"),
    "clip.JPG": (_ftyp(b"mp42", b"mp42", b"isom"), SkippedMedia, "video (MP4)"),  # video with a photo name
    "header-only.jpg": (_JPEG[:200], ImageError, "jpeg"),
    "garbage-after-soi.jpg": (b"\xff\xd8\xff\xe0" + bytes(_RNG.getrandbits(8) for _ in range(3000)), ImageError,
                              "corrupt or truncated jpeg: header cannot be parsed"),
    "corrupt-idat.png": (_corrupt_png_idat(), ImageError, "png"),
    "truncated.png": (_save(photo_like((300, 300)), "PNG")[:20000], ImageError, "truncated png"),
    "truncated.gif": (_save(photo_like((300, 300)).convert("P"), "GIF")[:3000], ImageError, "gif"),
    "truncated.heic": (_HEIC[: len(_HEIC) // 2], ImageError, "heic"),
    "truncated.webp": (_save(photo_like((300, 300)), "WEBP")[:400], ImageError, "webp"),
    "truncated.tif": (_save(photo_like((300, 300)), "TIFF")[:20000], ImageError, "tiff"),
    # a TIFF header and nothing valid after it: cannot be told from a broken TIFF, and says so
    "dng-header-garbage.dng": (_DNG[:8] + b"\xff" * 4000, ImageError, "corrupt or truncated tiff"),
    "document.pdf.jpg": (b"%PDF-1.4\n" + b"\0" * 100, UnsupportedFormat, "PDF document"),
    "tiny.jpg": (b"\xff\xd8", UnsupportedFormat, "only 2 bytes"),
}


@pytest.mark.parametrize("name", list(CORPUS))
def test_bad_input_is_a_specific_recorded_failure(tmp_path: Path, name: str):
    data, expected, phrase = CORPUS[name]
    path = tmp_path / name
    path.write_bytes(data)
    for source in (path, data):
        with pytest.raises(ShoeboxError) as info:
            render(source, key=f"originals/2006/10/04/{name}")
        assert type(info.value) is expected, info.value.reason
        assert phrase.lower() in info.value.reason.lower(), info.value.reason
        assert 12 <= len(info.value.reason) <= 400


def test_corpus_has_at_least_twelve_distinct_bad_inputs_and_reasons():
    reasons = set()
    for data, _, _ in CORPUS.values():
        try:
            render(data)
        except ShoeboxError as exc:
            reasons.add(exc.reason)
    assert len(CORPUS) >= 12 and len(reasons) >= 12


def test_heic_with_wrong_extension_works(tmp_path):
    path = tmp_path / "IMG_0042.JPG"
    path.write_bytes(_HEIC)
    r = render(path)
    assert r.format == "heic" and r.view_size == (400, 300)


def test_good_file_after_bad_ones_is_unaffected():
    for data, _, _ in CORPUS.values():
        with pytest.raises(ShoeboxError):
            render(data)
    r = render(jpeg_bytes(marked((640, 480)), exif=exif_bytes(orientation=1)))
    assert r.view_size == (640, 480)


def test_truncated_jpeg_reports_truncation_not_a_generic_error():
    with pytest.raises(ImageError) as info:
        render(_JPEG[:-4000])
    assert info.value.reason.startswith("truncated jpeg")


def test_png_bomb_is_refused_without_allocating_the_image(tmp_path):
    """400 MP of 1-bit pixels would need ≥400 MB once decoded; refusing must cost next to nothing."""
    path = tmp_path / "bomb.png"
    path.write_bytes(png_bomb((20000, 20000)))
    script = textwrap.dedent(
        f"""
        import resource, sys
        from shoebox.imaging.pipeline import render
        from shoebox.errors import ImageError
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            render({str(path)!r})
        except ImageError as exc:
            print("refused", exc.reason)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print("growth_kb", after - before)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
        env={**os.environ, "SHOEBOX_MAX_PIXELS": ""},
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("refused decompression-bomb guard")
    growth_kb = int(lines[1].split()[1])
    assert growth_kb < 50_000, growth_kb
