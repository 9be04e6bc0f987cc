"""Turn one original into the view and grid JPEGs (pure: bytes/path in, bytes out)."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import os
import struct
import warnings
from dataclasses import dataclass
from typing import BinaryIO, Iterator

from PIL import Image, ImageCms, UnidentifiedImageError

from ..errors import ImageError, UnsupportedFormat
from .metadata import (
    DATETIME_ORIGINAL,
    EXIF_IFD,
    OFFSET_TIME_ORIGINAL,
    ORIENTATION,
    PhotoMetadata,
    capture_time,
    exif_tags,
    metadata_from_tags,
)
from shoebox.config import setting
from shoebox.formats import PIL_FORMATS

from .sniff import FormatInfo

DEFAULT_MAX_PIXELS = 200_000_000

# EXIF orientation → the transpose that undoes it.
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class Rendition:
    view_jpeg: bytes
    grid_jpeg: bytes
    view_size: tuple[int, int]
    grid_size: tuple[int, int]
    width: int
    height: int
    format: str
    path: str  # "decode" | "draft" | "raw-preview" | "raw-bitmap" | "raw-demosaic"
    metadata: PhotoMetadata


def max_pixels_setting(max_pixels: int | None = None) -> int:
    if max_pixels is not None:
        return int(max_pixels)
    env = setting("SHOEBOX_MAX_PIXELS", "").strip().replace("_", "")
    return int(env) if env.isdigit() else DEFAULT_MAX_PIXELS


def fit(size: tuple[int, int], edge: int) -> tuple[int, int]:
    """Scale ``size`` so its long edge is ``edge``; never upscale."""
    w, h = size
    long_edge = max(w, h)
    if long_edge <= edge:
        return (w, h)
    scale = edge / long_edge
    return (max(1, round(w * scale)), max(1, round(h * scale)))


def oriented_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    return (size[1], size[0]) if orientation in (5, 6, 7, 8) else size


def _orientation(value) -> int:
    try:
        value = int(value)
    except (TypeError, ValueError):
        return 1
    return value if 1 <= value <= 8 else 1


def check_pixels(fmt: str, size: tuple[int, int], max_pixels: int) -> None:
    w, h = size
    if w <= 0 or h <= 0:
        raise ImageError(f"corrupt {fmt}: invalid dimensions {w}x{h}")
    if w * h > max_pixels:
        raise ImageError(
            f"decompression-bomb guard: {fmt} declares {w}x{h} = {w * h / 1e6:.1f} MP, "
            f"over the {max_pixels / 1e6:.3g} MP limit (SHOEBOX_MAX_PIXELS); not decoded"
        )


# ---------------------------------------------------------------------------------------------- colour

_SRGB = ImageCms.createProfile("sRGB")


@functools.lru_cache(maxsize=32)
def _transform(icc_digest: str, icc: bytes, in_mode: str):
    src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    return ImageCms.buildTransform(src, _SRGB, in_mode, "RGB", renderingIntent=ImageCms.Intent.PERCEPTUAL)


@functools.lru_cache(maxsize=64)
def _is_srgb(icc: bytes) -> bool:
    try:
        desc = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
    except (ImageCms.PyCMSError, OSError, TypeError, ValueError):
        return False
    return "srgb" in (desc or "").lower().replace(" ", "")


def to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """RGB image in sRGB: apply the embedded ICC profile when there is one (bad profiles are ignored)."""
    if icc and im.mode in ("RGB", "L", "CMYK") and not (im.mode == "RGB" and _is_srgb(icc)):
        try:
            return ImageCms.applyTransform(im, _transform(hashlib.sha1(icc).hexdigest(), icc, im.mode))
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # unusable or mismatched profile: fall back to a plain conversion
    return im if im.mode == "RGB" else im.convert("RGB")


def normalize_mode(im: Image.Image) -> Image.Image:
    """8-bit L/RGB/RGBA/CMYK that resizes well (palette, 1-bit, 16-bit and float modes converted)."""
    mode = im.mode
    if mode in ("RGB", "L", "RGBA", "CMYK"):
        return im
    if mode in ("P", "PA", "LA", "La", "RGBa", "RGBX"):
        has_alpha = mode in ("PA", "LA", "La", "RGBa") or "transparency" in im.info
        return im.convert("RGBA" if has_alpha else "RGB")
    if mode == "1":
        return im.convert("L")
    if mode.startswith("I;16") or mode in ("I", "F"):
        import numpy as np

        arr = np.asarray(im)
        if mode == "F":
            top = float(np.nanmax(arr)) if arr.size else 1.0
            scale = 255.0 / (top if top > 1.0 else 1.0)
            return Image.fromarray(np.clip(np.nan_to_num(arr) * scale, 0, 255).astype(np.uint8), "L")
        if mode == "I" and arr.size and int(arr.max()) <= 255:
            return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "L")
        return Image.fromarray((np.clip(arr.astype(np.int64), 0, 65535) >> 8).astype(np.uint8), "L")
    try:
        return im.convert("RGB")
    except (ValueError, OSError) as exc:
        raise ImageError(f"unsupported colour mode {mode}: {exc}") from exc


def flatten(im: Image.Image) -> Image.Image:
    """Composite transparency onto white (JPEG has no alpha)."""
    if im.mode != "RGBA":
        return im
    bg = Image.new("RGB", im.size, (255, 255, 255))
    bg.paste(im, mask=im.getchannel("A"))
    return bg


# ---------------------------------------------------------------------------------------------- output


def output_exif(capture: tuple[str | None, str | None]) -> bytes:
    """EXIF for the thumbnails: capture time only (no GPS, no camera data, no orientation)."""
    dto, offset = capture
    if not dto:
        return b""
    exif = Image.Exif()
    sub = {DATETIME_ORIGINAL: dto}
    if offset:
        sub[OFFSET_TIME_ORIGINAL] = offset
    exif[EXIF_IFD] = sub
    return exif.tobytes()


def encode_jpeg(im: Image.Image, quality: int, exif: bytes) -> bytes:
    buf = io.BytesIO()
    kwargs = {"exif": exif} if exif else {}
    # Progressive JPEG: libjpeg always builds optimised Huffman tables for it (optimize= is implied).
    im.save(buf, "JPEG", quality=quality, progressive=True, **kwargs)
    return buf.getvalue()


def resize(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Downscale. After a JPEG draft the remaining factor is < 2, where a Hamming filter is as sharp
    as the eye cares about at half Lanczos' cost; larger factors get Lanczos after a box pre-reduce."""
    if im.size == size:
        return im
    factor = max(im.size[0] / size[0], im.size[1] / size[1])
    if factor < 2.0:
        return im.resize(size, Image.Resampling.HAMMING)
    return im.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


def finish(
    im: Image.Image,
    *,
    icc: bytes | None,
    orientation: int,
    original_size: tuple[int, int],
    fmt: str,
    path: str,
    metadata: PhotoMetadata,
    capture: tuple[str | None, str | None],
    view_edge: int,
    grid_edge: int,
    quality: int,
    dims: tuple[int, int] | None = None,
    aspect: tuple[int, int] | None = None,
) -> Rendition:
    """From a (possibly draft-reduced) decoded image in stored orientation to both JPEGs.

    Resize first, then colour-convert and rotate the *small* image; grid is made from the view.
    ``dims`` overrides the reported original dimensions (RAW: the sensor's, already oriented).
    ``aspect`` is the undrafted size of ``im``: the view is fitted to it, so a draft's rounding
    (4000x2667 → 2000x1334) does not shift the output size by a pixel.
    """
    im = normalize_mode(im)
    target = fit(aspect or im.size, view_edge)
    if target[0] > im.size[0] or target[1] > im.size[1]:
        target = fit(im.size, view_edge)
    view = resize(im, target)
    view = flatten(view)
    view = to_srgb(view, icc)
    transpose = _TRANSPOSE.get(orientation)
    if transpose is not None:
        view = view.transpose(transpose)
    grid = resize(view, fit(view.size, grid_edge))
    exif = output_exif(capture)
    width, height = dims or oriented_size(original_size, orientation)
    return Rendition(
        view_jpeg=encode_jpeg(view, quality, exif),
        grid_jpeg=encode_jpeg(grid, quality, exif),
        view_size=view.size,
        grid_size=grid.size,
        width=width,
        height=height,
        format=fmt,
        path=path,
        metadata=metadata,
    )


# ---------------------------------------------------------------------------------------------- input


@contextlib.contextmanager
def open_source(source) -> Iterator[BinaryIO]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        yield io.BytesIO(bytes(source))
    elif isinstance(source, (str, os.PathLike)):
        try:
            fp = open(source, "rb")
        except OSError as exc:
            raise ImageError(f"cannot read original: {exc.strerror or exc}") from exc
        with fp:
            yield fp
    elif hasattr(source, "read") and hasattr(source, "seek"):
        yield source
    else:
        raise TypeError(f"render() takes a path or bytes, not {type(source).__name__}")


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:300]


def _decode_error(fmt: str, exc: BaseException) -> ImageError:
    text = _describe(exc)
    if "truncated" in text.lower() or isinstance(exc, EOFError):
        return ImageError(f"truncated {fmt}: the file ends before the image data does ({text})")
    return ImageError(f"corrupt {fmt}: cannot decode image data ({text})")


def open_header(fp: BinaryIO, fmt: str) -> Image.Image:
    """Parse only the header with the one Pillow plugin the sniffed format calls for.

    The plugin is instantiated directly rather than through ``Image.open`` so that Pillow's global
    ``MAX_IMAGE_PIXELS`` (≈179 MP hard limit) does not override our own, configurable guard
    (``check_pixels``), which runs next, before any pixel is decoded.
    """
    Image.init()
    pil_fmt = PIL_FORMATS[fmt]
    if pil_fmt not in Image.OPEN:
        raise UnsupportedFormat(f"{fmt}: no decoder for this format is installed")
    factory, _accept = Image.OPEN[pil_fmt]
    fp.seek(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Corrupt EXIF data" etc.: we report errors ourselves
        return factory(fp, "")


def render_pillow(
    fp: BinaryIO,
    info: FormatInfo,
    *,
    key: str | None,
    view_edge: int,
    grid_edge: int,
    quality: int,
    max_pixels: int,
) -> Rendition:
    fmt = info.format
    try:
        im = open_header(fp, fmt)
    except (UnidentifiedImageError, SyntaxError, OSError, ValueError, EOFError, struct.error, IndexError,
            KeyError, TypeError) as exc:
        raise ImageError(f"corrupt or truncated {fmt}: header cannot be parsed ({_describe(exc)})") from exc
    with im:
        size = im.size
        check_pixels(fmt, size, max_pixels)

        def load() -> None:
            try:
                im.load()
            except (OSError, ValueError, EOFError, SyntaxError, struct.error, IndexError, MemoryError) as exc:
                raise _decode_error(fmt, exc) from exc

        if fmt != "jpeg":
            # No reduced-scale decoding for these; and some (PNG) read EXIF only after the pixel data.
            load()
            # Decoders that apply the orientation themselves (Pillow's TIFF) drop the tag from EXIF,
            # so it is not applied a second time below; their decoded size is already upright.
            size = im.size
        try:
            exif = im.getexif()
        except Exception:  # a broken EXIF block costs the metadata, not the photo
            exif = Image.Exif()
        orientation = _orientation(exif.get(ORIENTATION))
        tags = exif_tags(exif)
        metadata = metadata_from_tags(*tags, key=key)
        capture = capture_time(tags[1])
        icc = im.info.get("icc_profile")
        path = "decode"
        if fmt == "jpeg":
            # Aspect-fitted target: libjpeg then decodes at the smallest 1/2^n scale still >= the view
            # (a square edge x edge box would pick a needlessly large scale for 3:2 and panoramas).
            im.draft(None, fit(size, view_edge))
            if im.size != size:
                path = "draft"
            load()
        return finish(
            im,
            icc=icc,
            orientation=orientation,
            original_size=size,
            aspect=size,
            fmt=fmt,
            path=path,
            metadata=metadata,
            capture=capture,
            view_edge=view_edge,
            grid_edge=grid_edge,
            quality=quality,
        )
