"""Camera RAW via rawpy/LibRaw: embedded preview, else embedded bitmap, else half-size demosaic."""

from __future__ import annotations

import io
import os
import struct
from typing import Any, BinaryIO

import numpy as np
import rawpy
from PIL import Image

from ..errors import ImageError
from .metadata import EXIF_IFD, GPS_IFD, capture_time, exif_tags, metadata_from_tags
from .rendering import (
    Rendition,
    _orientation,
    check_pixels,
    finish,
    fit,
    oriented_size,
    render_pillow,
)
from .sniff import FormatInfo

# LibRaw ``sizes.flip`` → EXIF orientation (inverse of dcraw's "50132467"[orientation]).
FLIP_TO_ORIENTATION = {0: 1, 1: 2, 2: 4, 3: 3, 4: 5, 5: 8, 6: 6, 7: 7}

_HEAD = 512 * 1024


def _file_size(fp: BinaryIO) -> int:
    try:
        return os.fstat(fp.fileno()).st_size
    except (AttributeError, OSError, io.UnsupportedOperation):
        pos = fp.tell()
        fp.seek(0, os.SEEK_END)
        size = fp.tell()
        fp.seek(pos)
        return size


# ----------------------------------------------------------------------------------- truncation check

_TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}


def _tiff_data_end(fp: BinaryIO, head: bytes, size: int) -> int:
    """Largest offset+length of image data (strips, tiles, JPEG thumbnails) over IFD0's chain and SubIFDs."""
    if head[:2] not in (b"II", b"MM"):
        return 0
    e = "<" if head[:2] == b"II" else ">"

    def read(off: int, n: int) -> bytes:
        if off < 0 or off + n > size:
            return b""
        fp.seek(off)
        return fp.read(n)

    def values(entry: bytes) -> list[int]:
        tag, typ, count = struct.unpack(e + "HHI", entry[:8])
        if typ not in (3, 4, 13) or count > 200_000:
            return []
        fmt = "H" if typ == 3 else "I"
        n = _TYPE_SIZE[typ] * count
        raw = entry[8 : 8 + n] if n <= 4 else read(struct.unpack(e + "I", entry[8:12])[0], n)
        if len(raw) < n:
            return []
        return list(struct.unpack(e + fmt * count, raw))

    end = 0
    todo = [struct.unpack(e + "I", head[4:8])[0]]
    seen: set[int] = set()
    while todo and len(seen) < 64:
        off = todo.pop()
        if off in seen or off <= 0:
            continue
        seen.add(off)
        cnt_raw = read(off, 2)
        if len(cnt_raw) < 2:
            continue
        (count,) = struct.unpack(e + "H", cnt_raw)
        block = read(off + 2, 12 * min(count, 1000) + 4)
        tags: dict[int, list[int]] = {}
        for i in range(min(count, 1000)):
            entry = block[12 * i : 12 * i + 12]
            if len(entry) < 12:
                break
            tag = struct.unpack(e + "H", entry[:2])[0]
            if tag in (0x0111, 0x0117, 0x0144, 0x0145, 0x0201, 0x0202, 0x014A):
                tags[tag] = values(entry)
        for offs_tag, lens_tag in ((0x0111, 0x0117), (0x0144, 0x0145), (0x0201, 0x0202)):
            for o, n in zip(tags.get(offs_tag, []), tags.get(lens_tag, [])):
                end = max(end, o + n)
        todo.extend(tags.get(0x014A, []))
        if len(block) >= 12 * min(count, 1000) + 4:
            (nxt,) = struct.unpack(e + "I", block[12 * min(count, 1000) : 12 * min(count, 1000) + 4])
            todo.append(nxt)
    return end


def _bmff_end(fp: BinaryIO, size: int) -> int:
    pos = 0
    for _ in range(10_000):
        if pos >= size:
            break
        fp.seek(pos)
        hdr = fp.read(16)
        if len(hdr) < 8:
            return pos + 8
        box, = struct.unpack(">I", hdr[:4])
        if box == 1 and len(hdr) >= 16:
            box, = struct.unpack(">Q", hdr[8:16])
        elif box == 0:
            return size
        if box < 8:
            return size  # malformed; leave it to LibRaw
        pos += box
    return pos


def truncation(fp: BinaryIO, info: FormatInfo, head: bytes, size: int) -> str | None:
    """Reason string when the container says its data runs past the end of the file."""
    try:
        if info.format == "raf" and len(head) >= 108:
            end = max(
                a + b for a, b in (struct.unpack(">II", head[i : i + 8]) for i in (84, 92, 100))
            )
        elif info.format == "cr3":
            end = _bmff_end(fp, size)
        elif head[:2] in (b"II", b"MM"):
            end = _tiff_data_end(fp, head, size)
        else:
            end = 0
    except (struct.error, OSError, ValueError):
        return None
    finally:
        fp.seek(0)
    if end > size:
        return (
            f"truncated {info.format}: the file has {size:,} bytes but its image data runs to "
            f"{end:,} (cut off mid-file, e.g. an interrupted upload or copy)"
        )
    return None


# -------------------------------------------------------------------------------------------- metadata


def _tiff_exif(head: bytes) -> tuple[dict, dict, dict]:
    if head[:2] not in (b"II", b"MM"):
        return {}, {}, {}
    patched = head[:2] + (b"*\x00" if head[:2] == b"II" else b"\x00*") + head[4:]
    exif = Image.Exif()
    try:
        exif.load(patched)
    except Exception:
        return {}, {}, {}
    return exif_tags(exif)


def _cr3_exif(head: bytes) -> tuple[dict, dict, dict]:
    """Canon CR3 keeps TIFF-structured EXIF in CMT1 (IFD0), CMT2 (Exif IFD) and CMT4 (GPS IFD) boxes."""
    out = []
    for name in (b"CMT1", b"CMT2", b"CMT4"):
        i = head.find(name)
        tags: dict = {}
        if i >= 4:
            (box,) = struct.unpack(">I", head[i - 4 : i])
            data = head[i + 4 : i - 4 + box]
            exif = Image.Exif()
            try:
                exif.load(data)
                tags = dict(exif)
            except Exception:
                tags = {}
        out.append(tags)
    return out[0], out[1], out[2]


def _merge(*sources: tuple[dict, dict, dict]) -> tuple[dict, dict, dict]:
    merged: tuple[dict, dict, dict] = ({}, {}, {})
    for src in sources:
        for m, s in zip(merged, src):
            for k, v in s.items():
                if k not in m and k not in (EXIF_IFD, GPS_IFD):
                    m[k] = v
    return merged


def _rawpy_tags(raw: rawpy.RawPy) -> tuple[dict, dict, dict]:
    """LibRaw's timestamp and lens. Only after unpack(): rawpy unpacks on first access to these."""
    exif: dict = {}
    try:
        ts = raw.other.timestamp
        if ts is not None and ts.year > 1970:
            exif[0x9004] = ts.strftime("%Y:%m:%d %H:%M:%S")  # LibRaw's timestamp, lowest priority
    except Exception:
        pass
    try:
        if raw.lens.model:
            exif[0xA434] = raw.lens.model
    except Exception:
        pass
    return {}, exif, {}


# ---------------------------------------------------------------------------------------------- render


def _librw_error(fmt: str, exc: BaseException) -> ImageError:
    name = type(exc).__name__
    text = str(exc).strip("b'\" ") or name
    if isinstance(exc, (rawpy.LibRawIOError, rawpy.LibRawDataError)) or "eof" in text.lower():
        return ImageError(f"truncated or corrupt {fmt}: LibRaw could not read the data ({text})")
    if isinstance(exc, rawpy.LibRawFileUnsupportedError):
        return ImageError(f"corrupt or unsupported {fmt}: LibRaw cannot parse this file ({text})")
    if isinstance(exc, (rawpy.LibRawTooBigError, MemoryError)):
        return ImageError(f"{fmt} too large to decode ({text})")
    return ImageError(f"corrupt {fmt}: LibRaw {name} ({text})")


def render_raw(
    fp: BinaryIO,
    info: FormatInfo,
    *,
    source,
    key: str | None,
    view_edge: int,
    grid_edge: int,
    quality: int,
    max_pixels: int,
) -> Rendition:
    fmt = info.format
    head = fp.read(_HEAD)
    fp.seek(0)
    size = _file_size(fp)
    reason = truncation(fp, info, head, size)
    if reason:
        raise ImageError(reason)

    container = _cr3_exif(head) if fmt == "cr3" else _tiff_exif(head)
    raw = _imread(fp, source, head, fmt)
    if raw is None:
        # A TIFF from a camera maker that is not a RAW after all (some cameras/scanners wrote TIFF).
        fp.seek(0)
        return render_pillow(
            fp, FormatInfo("tiff", "lossy"), key=key, view_edge=view_edge, grid_edge=grid_edge,
            quality=quality, max_pixels=max_pixels,
        )

    with raw:
        sizes = raw.sizes
        check_pixels(fmt, (sizes.raw_width, sizes.raw_height), max_pixels)
        visible = (sizes.width, sizes.height)
        flip_orientation = FLIP_TO_ORIENTATION.get(sizes.flip, 1)
        oriented = oriented_size(visible, flip_orientation)
        need = min(view_edge, max(visible))

        thumb = _embedded_preview(raw, fmt)
        if thumb is not None and thumb.format == rawpy.ThumbFormat.JPEG:
            data = thumb.data
            psize = _jpeg_size(data)
            if psize is not None and max(psize) >= need:
                # Release LibRaw (its copy of the preview and file buffers) before decoding.
                thumb = None
                raw.close()
                return _from_preview(
                    data, fmt, visible, flip_orientation, container, key,
                    view_edge=view_edge, grid_edge=grid_edge, quality=quality, max_pixels=max_pixels,
                    dims=oriented,
                )
        metadata = metadata_from_tags(*container, key=key)
        capture = capture_time(container[1])

        if thumb is not None and thumb.format == rawpy.ThumbFormat.BITMAP and _rgb8_of(thumb.data, need):
            bitmap = Image.fromarray(np.asarray(thumb.data), "RGB")
            orientation = _preview_orientation(bitmap.size, visible, flip_orientation, 1)
            return finish(
                bitmap, icc=None, orientation=orientation, original_size=visible, dims=oriented, fmt=fmt,
                path="raw-bitmap", metadata=metadata, capture=capture,
                view_edge=view_edge, grid_edge=grid_edge, quality=quality,
            )
        # Half-size (one RGB pixel per Bayer quad, no interpolation) unless that would leave the view
        # smaller than it should be (e.g. a 6 MP camera: 3008 px → 1504 < 1920).
        half = max(visible) // 2 >= need
        try:
            rgb = raw.postprocess(
                half_size=half,
                use_camera_wb=True,
                output_bps=8,
                demosaic_algorithm=None if half else rawpy.DemosaicAlgorithm.LINEAR,
            )
        except (rawpy.LibRawError, MemoryError, ValueError) as exc:
            raise _librw_error(fmt, exc) from exc
        # The data is unpacked now, so LibRaw's own fields cost nothing (before, reading them would
        # unpack the whole RAW: ~50 ms and the sensor's size in memory, for a timestamp and a lens).
        metadata = metadata_from_tags(*_merge(container, _rawpy_tags(raw)), key=key)
        # postprocess() already applied sizes.flip: no further rotation.
        return finish(
            Image.fromarray(rgb, "RGB"), icc=None, orientation=1, original_size=oriented, dims=oriented, fmt=fmt,
            path="raw-demosaic", metadata=metadata, capture=capture,
            view_edge=view_edge, grid_edge=grid_edge, quality=quality,
        )


def _imread(fp: BinaryIO, source, head: bytes, fmt: str) -> Any:
    """LibRaw's handle on the file (from its path when there is one); None for a TIFF that LibRaw does
    not take as a RAW, which Pillow renders instead."""
    try:
        if isinstance(source, (str, os.PathLike)):
            return rawpy.imread(os.fspath(source))
        return rawpy.imread(fp)
    except rawpy.LibRawFileUnsupportedError as exc:
        if head[:4] in (b"II*\x00", b"MM\x00*") and fmt != "dng":
            return None
        raise _librw_error(fmt, exc) from exc
    except (rawpy.LibRawError, OSError, ValueError) as exc:
        raise _librw_error(fmt, exc) from exc


def _embedded_preview(raw: Any, fmt: str) -> Any:
    """The camera's embedded preview (rawpy's thumbnail), None when there is none LibRaw can give; a file
    too damaged to read it fails the photo."""
    try:
        return raw.extract_thumb()
    except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):
        return None
    except rawpy.LibRawError as exc:
        if isinstance(exc, (rawpy.LibRawIOError, rawpy.LibRawDataError)):
            raise _librw_error(fmt, exc) from exc
        return None


def _rgb8_of(data: Any, need: int) -> bool:
    """Whether a bitmap preview is 8-bit RGB with a long edge of at least ``need`` pixels."""
    arr = np.asarray(data)
    return arr.ndim == 3 and arr.shape[2] == 3 and arr.dtype == np.uint8 and max(arr.shape[:2]) >= need


def _preview_orientation(
    preview_size: tuple[int, int], visible: tuple[int, int], flip_orientation: int, exif_orientation: int
) -> int:
    """Orientation to apply to an embedded preview, exactly once.

    LibRaw's flip (from the RAW's own IFD) wins; the preview's EXIF is the fallback. If the camera
    already stored the preview rotated (its aspect differs from the sensor's), nothing is applied.
    """
    orientation = flip_orientation if flip_orientation != 1 else exif_orientation
    pw, ph = preview_size
    vw, vh = visible
    if pw != ph and vw != vh and (pw > ph) != (vw > vh):
        # preview is already upright in a portrait/landscape sense; only a 180°/mirror could remain
        return 1
    return orientation


def _jpeg_exif_blocks(data: bytes, limit: int = 8) -> list[bytes]:
    """Payloads of the APP1 ``Exif`` segments of a JPEG, in file order (header walk only)."""
    out: list[bytes] = []
    pos = 2
    while pos + 4 <= len(data) and len(out) < limit:
        if data[pos] != 0xFF:
            break
        marker = data[pos + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if marker in (0xDA, 0xD9):  # start of scan / end: no more metadata
            break
        (seg_len,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker == 0xE1 and data[pos + 4 : pos + 10] == b"Exif\0\0":
            out.append(data[pos + 4 : pos + 2 + seg_len])
        pos += 2 + seg_len
    return out


def _preview_exif(data: bytes) -> tuple[dict, dict, dict]:
    """The preview's own EXIF. LibRaw (like dcraw) prepends a synthetic block (Software "dcraw …")
    to previews that do not start with one; the camera's block, if any, follows it and wins."""
    chosen: tuple[dict, dict, dict] = ({}, {}, {})
    for block in _jpeg_exif_blocks(data):
        exif = Image.Exif()
        try:
            exif.load(block)
            tags = exif_tags(exif)
        except Exception:
            continue
        software = str(tags[0].get(0x0131, ""))
        if not software.startswith("dcraw") or not chosen[0]:
            chosen = tags
    return chosen


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    try:
        with Image.open(io.BytesIO(data), formats=["JPEG"]) as im:
            return im.size
    except Exception:
        return None


def _from_preview(
    data: bytes,
    fmt: str,
    visible: tuple[int, int],
    flip_orientation: int,
    container: tuple[dict, dict, dict],
    key: str | None,
    *,
    view_edge: int,
    grid_edge: int,
    quality: int,
    max_pixels: int,
    dims: tuple[int, int],
) -> Rendition:
    """Render from the embedded JPEG preview (already known to be big enough)."""
    try:
        im = Image.open(io.BytesIO(data), formats=["JPEG"])
    except Exception as exc:
        raise ImageError(f"corrupt {fmt}: embedded preview JPEG cannot be read ({exc})") from exc
    with im:
        psize = im.size
        check_pixels(fmt + " preview", psize, max_pixels)
        ptags = _preview_exif(data)
        tags = _merge(container, ptags)  # not rawpy's fields: reading them unpacks the RAW
        metadata = metadata_from_tags(*tags, key=key)
        capture = capture_time(container[1] or ptags[1])
        orientation = _preview_orientation(psize, visible, flip_orientation, _orientation(ptags[0].get(0x0112)))
        im.draft(None, fit(psize, view_edge))
        try:
            im.load()
        except (OSError, ValueError, EOFError, SyntaxError, struct.error) as exc:
            raise ImageError(f"corrupt {fmt}: embedded preview JPEG cannot be decoded ({exc})") from exc
        return finish(
            im, icc=im.info.get("icc_profile"), orientation=orientation,
            original_size=visible, dims=dims, aspect=psize, fmt=fmt, path="raw-preview", metadata=metadata, capture=capture,
            view_edge=view_edge, grid_edge=grid_edge, quality=quality,
        )


