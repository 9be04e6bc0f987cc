"""``render``: sniff the original, then take the Pillow path (rendering.py) or the RAW path (raw.py).

Its own module so that raw.py, which reuses the Pillow path's pieces, and rendering.py do not import
each other.
"""

from __future__ import annotations

from ..errors import SkippedMedia, UnsupportedFormat
from .raw import render_raw
from .rendering import Rendition, max_pixels_setting, open_source, render_pillow
from .sniff import SNIFF_BYTES, sniff


def render(
    source,
    *,
    key: str | None = None,
    view_edge: int = 1920,
    grid_edge: int = 320,
    quality: int = 85,
    max_pixels: int | None = None,
) -> Rendition:
    """Make the view (long edge ``view_edge``) and grid (``grid_edge``) JPEGs and read the metadata.

    Raises ImageError (corrupt, truncated, bomb…), UnsupportedFormat (unknown content), SkippedMedia (video).
    """
    limit = max_pixels_setting(max_pixels)
    with open_source(source) as fp:
        head = fp.read(SNIFF_BYTES)
        fp.seek(0)
        info = sniff(head)
        if info.kind == "video":
            raise SkippedMedia(info.reason or f"video ({info.format})")
        if info.kind == "unsupported":
            raise UnsupportedFormat(info.reason or f"unsupported content ({info.format})")
        kwargs = dict(key=key, view_edge=view_edge, grid_edge=grid_edge, quality=quality, max_pixels=limit)
        if info.kind == "raw":
            return render_raw(fp, info, source=source, **kwargs)
        return render_pillow(fp, info, **kwargs)

