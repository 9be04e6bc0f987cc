"""Sharing by expiring links only: presigned GETs for photos, and an album page whose image links are
presigned too. Nothing is ever made public; the bucket policy would refuse it anyway."""

from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass
from typing import Any

MAX_EXPIRY_S = 7 * 24 * 3600  # SigV4 presigned URLs live at most 7 days


def parse_expiry(text: str) -> int:
    """'30m', '12h', '7d', '1w' -> seconds, capped at SigV4's 7 days. A unit is required: a bare '7'
    made a 7-second link where 7 days was meant."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhdw])\s*", text.lower())
    if not match:
        hint = " (a unit is needed: a bare number is ambiguous)" if text.strip().isdigit() else ""
        raise ValueError(f"expiry {text!r}: use e.g. 30m, 12h, 7d or 1w{hint}")
    value, unit = int(match.group(1)), match.group(2)
    seconds = value * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]
    if seconds <= 0:
        raise ValueError("expiry must be positive")
    if seconds > MAX_EXPIRY_S:
        raise ValueError("expiry is at most 7d (presigned links cannot live longer)")
    return seconds


@dataclass
class SharedPhoto:
    key: str
    taken_at: str | None
    view_url: str
    grid_url: str
    original_url: str | None = None


def presign(s3: Any, bucket: str, key: str, expires: int, filename: str | None = None) -> str:
    """A SigV4 presigned GET (``s3`` only lends its region)."""
    from shoebox.aws import presign_client

    params: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if filename:
        params["ResponseContentDisposition"] = f'inline; filename="{filename}"'
    return presign_client(s3.meta.region_name).generate_presigned_url("get_object", Params=params, ExpiresIn=expires)


def album_html(title: str, photos: list[SharedPhoto], expires_at: str) -> str:
    """A self-contained page: a grid of thumbnails, each linking to its view image."""
    items = "\n".join(
        f'<a href="{html.escape(p.view_url)}"><img loading="lazy" src="{html.escape(p.grid_url)}" '
        f'alt="{html.escape(p.key.rsplit("/", 1)[-1])}" title="{html.escape((p.taken_at or "")[:10])}"></a>'
        for p in photos)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:1.5rem;background:#111;color:#eee}}
main{{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:8px}}
img{{width:100%;height:200px;object-fit:cover;border-radius:4px}}</style></head>
<body><h1>{html.escape(title)}</h1><p>{len(photos)} photo(s) · link expires {html.escape(expires_at)}</p>
<main>
{items}
</main></body></html>
"""


def new_share_id() -> str:
    return secrets.token_urlsafe(12)
