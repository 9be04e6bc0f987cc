"""Measuring a bucket for the planner: how many originals, how big, and their format mix."""

from __future__ import annotations

from typing import Any

from shoebox.backfill.plan import GIB
from shoebox.formats import EXTENSIONS, PLANNER_CLASSES
from shoebox.s3_layout import ORIGINALS


def format_of(key: str) -> str:
    """Planning-grade format guess from the extension (classify sniffs magic bytes for real)."""
    name = key.rsplit("/", 1)[-1]
    if "." not in name:
        return "other"
    return EXTENSIONS.get(name.rsplit(".", 1)[-1].lower(), "other")


def measure_bucket(s3_client: Any, bucket: str, prefix: str = ORIGINALS) -> tuple[int, float, dict[str, float]]:
    """Count objects, total size (GB = 2**30 bytes, as S3 bills) and the format mix under ``prefix``.

    Folder markers (keys ending in "/") are not photos. An empty prefix gives ``(0, 0.0, {})``.
    """
    counts = dict.fromkeys(PLANNER_CLASSES, 0)
    total_bytes = 0
    paginator = s3_client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", ()):
            key = obj["Key"]
            if key.endswith("/"):
                continue
            counts[format_of(key)] += 1
            total_bytes += int(obj.get("Size", 0))
    photos = sum(counts.values())
    mix = {f: n / photos for f, n in counts.items() if n} if photos else {}
    return photos, total_bytes / GIB, mix
