"""The pixel operations the offline models need, in numpy and Pillow, as OpenCV does them.

The face and label models were tuned with OpenCV's ``imdecode``, ``resize(INTER_AREA)`` and ``warpAffine``;
these reproduce them (same sampling, weights and rounding; tests/recognition/test_opencv_parity.py compares
them with OpenCV) so that the IndexFaces Lambda can run without OpenCV's 160 MB. Images are RGB uint8
arrays, H × W × 3.
"""

from __future__ import annotations

import math
from functools import lru_cache
from io import BytesIO

import numpy as np
from PIL import Image, ImageOps


def decode(data: bytes) -> np.ndarray:
    """RGB uint8 array of encoded image bytes, turned upright by its EXIF orientation (as
    ``cv2.imdecode(IMREAD_COLOR)``: same libjpeg-turbo settings, so the same pixels)."""
    try:
        with Image.open(BytesIO(data)) as im:
            im = ImageOps.exif_transpose(im)
            return np.asarray(im.convert("RGB"))
    except Exception as exc:  # Pillow raises several kinds for bytes that are not an image
        raise ValueError("image bytes could not be decoded") from exc


@lru_cache(maxsize=64)
def _area_taps(src: int, dst: int) -> tuple[np.ndarray, np.ndarray]:
    """Source indices and weights, (taps, dst), of OpenCV's area resize along one axis (its
    ``computeResizeAreaTab``): each output averages the source cells it covers, partial cells by the
    share covered. Taps are in OpenCV's summing order; unused ones have weight 0."""
    scale = 1.0 / (dst / src)
    rows: list[list[tuple[int, float]]] = []
    for d in range(dst):
        f1 = d * scale
        f2 = f1 + scale
        cell = min(scale, src - f1)
        s2 = min(math.floor(f2), src - 1)
        s1 = min(math.ceil(f1), s2)
        taps = []
        if s1 - f1 > 1e-3:
            taps.append((s1 - 1, np.float32((s1 - f1) / cell)))
        taps += [(s, np.float32(1.0 / cell)) for s in range(s1, s2)]
        if f2 - s2 > 1e-3:
            taps.append((s2, np.float32(min(min(f2 - s2, 1.0), cell) / cell)))
        rows.append(taps)
    k = max(len(t) for t in rows)
    idx = np.zeros((k, dst), np.intp)
    w = np.zeros((k, dst), np.float32)
    for d, taps in enumerate(rows):
        for j, (s, a) in enumerate(taps):
            idx[j, d], w[j, d] = s, a
    return idx, w


@lru_cache(maxsize=64)
def _linear_taps(src: int, dst: int, area: bool) -> tuple[np.ndarray, np.ndarray]:
    """OpenCV's INTER_LINEAR coefficients along one axis, in its 11-bit fixed point: indices and weights,
    (2, dst). ``area``: the variant INTER_AREA uses when enlarging (pixels replicated inside each cell)."""
    scale, inv = src / dst, dst / src
    idx = np.zeros((2, dst), np.intp)
    w = np.zeros((2, dst), np.int32)
    for d in range(dst):
        if area:
            s = math.floor(d * scale)
            f = float(np.float32((d + 1) - (s + 1) * inv))
            f = 0.0 if f <= 0 else f - math.floor(f)
        else:
            f = float(np.float32((d + 0.5) * scale - 0.5))
            s = math.floor(f)
            f -= s
        if s < 0:
            s, f = 0, 0.0
        if s >= src - 1:
            s, f = src - 1, 0.0
        idx[:, d] = s, min(s + 1, src - 1)
        w[:, d] = int(np.rint(np.float32(1.0 - f) * 2048)), int(np.rint(np.float32(f) * 2048))
    return idx, w


def _resize_linear_fixed(img: np.ndarray, size: tuple[int, int], area: bool) -> np.ndarray:
    """OpenCV's fixed-point bilinear resize of uint8 images (its SIMD rounding of the vertical pass)."""
    h, w = img.shape[:2]
    xi, xw = _linear_taps(w, size[0], area)
    yi, yw = _linear_taps(h, size[1], area)
    extra = (None,) * (img.ndim - 2)
    src = img.astype(np.int32)
    rows = (src[:, xi[0]] * xw[0][(None, slice(None), *extra)] + src[:, xi[1]] * xw[1][(None, slice(None), *extra)]) >> 4
    top = (rows[yi[0]] * yw[0][(slice(None), None, *extra)]) >> 16
    bottom = (rows[yi[1]] * yw[1][(slice(None), None, *extra)]) >> 16
    return np.clip((top + bottom + 2) >> 2, 0, 255).astype(np.uint8)


def resize_linear(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``cv2.resize(img, size, interpolation=cv2.INTER_LINEAR)`` for uint8 images; ``size`` is (w, h)."""
    h, w = img.shape[:2]
    if size[0] * 2 == w and size[1] * 2 == h:
        return resize_area(img, size)  # OpenCV does the same for an exact halving
    return _resize_linear_fixed(img, size, area=False)


def _weighted_rows(src: np.ndarray, idx: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Σ_j weights[j] × src[idx[j]] over the first axis, tap by tap in order (OpenCV's float sums)."""
    out = np.zeros((idx.shape[1], *src.shape[1:]), np.float32)
    tmp = np.empty_like(out)
    gathered = np.empty(out.shape, src.dtype)
    shape = (-1,) + (1,) * (src.ndim - 1)
    for j in range(len(idx)):
        np.take(src, idx[j], axis=0, out=gathered)
        np.multiply(gathered, weights[j].reshape(shape), out=tmp)
        out += tmp
    return out


def _resize_area_taps(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """OpenCV's general area resize (``resizeArea_``): along rows, then columns, in float, rounded once.
    The horizontal pass gathers whole pixels (a pixel's channels as one opaque item), the vertical one
    whole rows: memory copies, not per-channel indexing."""
    h, w = img.shape[:2]
    dw, dh = size
    xi, xw = _area_taps(w, dw)
    yi, yw = _area_taps(h, dh)
    channels = img.shape[2] if img.ndim == 3 else 1
    pixels = np.ascontiguousarray(img).view(np.dtype((np.void, channels))).reshape(h, w)
    rows = np.zeros((h, dw, channels), np.float32)
    tmp = np.empty_like(rows)
    for j in range(len(xi)):
        gathered = np.take(pixels, xi[j], axis=1)[..., None].view(np.uint8)
        np.multiply(gathered, xw[j][None, :, None], out=tmp)
        rows += tmp
    out = np.clip(np.rint(_weighted_rows(rows, yi, yw)), 0, 255).astype(np.uint8)
    return out.reshape(dh, dw, *img.shape[2:])


def resize_area(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``cv2.resize(img, size, interpolation=cv2.INTER_AREA)`` for uint8 images; ``size`` is (w, h)."""
    h, w = img.shape[:2]
    dw, dh = size
    if (dw, dh) == (w, h):
        return img.copy()
    if dw <= w and dh <= h:
        sx, sy = w / dw, h / dh
        if sx == int(sx) and sy == int(sy) and (sx, sy) == (2, 2):
            # OpenCV's fast 2 × 2 path rounds halves up, in integers
            s = img.astype(np.uint16)
            total = s[0:2 * dh:2, 0:2 * dw:2] + s[0:2 * dh:2, 1:2 * dw:2] + s[1:2 * dh:2, 0:2 * dw:2] + s[1:2 * dh:2, 1:2 * dw:2]
            return ((total + 2) >> 2).astype(np.uint8)
        if sx == int(sx) and sy == int(sy):
            ix, iy = int(sx), int(sy)
            blocks = img[:dh * iy, :dw * ix].reshape(dh, iy, dw, ix, -1).astype(np.int32).sum(axis=(1, 3))
            out = blocks.astype(np.float32) * np.float32(1.0 / (ix * iy))
            return np.clip(np.rint(out), 0, 255).astype(np.uint8).reshape(dh, dw, *img.shape[2:])
        return _resize_area_taps(img, (dw, dh))
    # enlarging along an axis: OpenCV's bilinear emulation of "area"
    return _resize_linear_fixed(img, size, area=True)


def shrink(img: np.ndarray, long_edge: int) -> np.ndarray:
    """``img`` with its long edge brought down to ``long_edge`` (never enlarged), area-averaged."""
    h, w = img.shape[:2]
    scale = long_edge / max(h, w)
    if scale >= 1:
        return img
    return resize_area(img, (max(1, round(w * scale)), max(1, round(h * scale))))


def pad(img: np.ndarray, height: int, width: int) -> np.ndarray:
    """``img`` in the top-left corner of a black ``height`` × ``width`` image (``copyMakeBorder`` constant)."""
    out = np.zeros((height, width, *img.shape[2:]), img.dtype)
    out[:img.shape[0], :img.shape[1]] = img
    return out


def warp_affine(img: np.ndarray, matrix: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``cv2.warpAffine(img, matrix, size, flags=INTER_LINEAR, borderMode=BORDER_CONSTANT)`` for uint8
    images, in OpenCV's fixed point: each output pixel (x, y) samples the source at the inverse map of
    (x, y), rounded to 1/32 pixel, bilinearly with 15-bit weights, black outside."""
    m = np.asarray(matrix, np.float64).reshape(2, 3)
    det = m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]
    d = 1.0 / det if det != 0 else 0.0
    a11, a22, a12, a21 = m[1, 1] * d, m[0, 0] * d, -m[0, 1] * d, -m[1, 0] * d
    b1 = -a11 * m[0, 2] - a12 * m[1, 2]
    b2 = -a21 * m[0, 2] - a22 * m[1, 2]
    w, h = size
    xs, ys = np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64)
    # AB_BITS = 10 for the affine sums, INTER_BITS = 5 for the sub-pixel position
    half = 1 << 4  # AB_SCALE / INTER_TAB_SIZE / 2
    x_fixed = (np.rint((a12 * ys + b1) * 1024).astype(np.int64) + half)[:, None] + np.rint(a11 * xs * 1024).astype(np.int64)[None, :]
    y_fixed = (np.rint((a22 * ys + b2) * 1024).astype(np.int64) + half)[:, None] + np.rint(a21 * xs * 1024).astype(np.int64)[None, :]
    x_sub, y_sub = x_fixed >> 5, y_fixed >> 5
    x0, y0 = x_sub >> 5, y_sub >> 5
    fx, fy = (x_sub & 31)[..., None], (y_sub & 31)[..., None]
    ih, iw = img.shape[:2]
    src = img.reshape(ih, iw, -1).astype(np.int64)

    def at(yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
        inside = ((xx >= 0) & (xx < iw) & (yy >= 0) & (yy < ih))[..., None]
        return np.where(inside, src[np.clip(yy, 0, ih - 1), np.clip(xx, 0, iw - 1)], 0)

    total = (at(y0, x0) * ((32 - fx) * (32 - fy)) + at(y0, x0 + 1) * (fx * (32 - fy))
             + at(y0 + 1, x0) * ((32 - fx) * fy) + at(y0 + 1, x0 + 1) * (fx * fy)) * 32
    out = (total + (1 << 14)) >> 15
    return np.clip(out, 0, 255).astype(np.uint8).reshape(h, w, *img.shape[2:])
