"""Classify: sniff the original's first bytes (content, not extension) into a format and a kind."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError

from shoebox import aws
from shoebox.errors import UnsupportedFormat
from shoebox.imaging import sniff
from shoebox.ingest.plan import read_s3_metadata
from shoebox.steps.common import logger, step

HEAD_BYTES = 64 * 1024


def read_head(bucket: str, key: str, size: int | None) -> tuple[str, bytes, dict]:
    """First bytes of the object and its user metadata; returns the key that exists (EventBridge may
    hand us a URL-encoded key)."""
    s3 = aws.client("s3")
    candidates = [key] + ([unquote_plus(key)] if unquote_plus(key) != key else [])
    for candidate in candidates:
        if size == 0:
            return candidate, b"", {}
        try:
            got = s3.get_object(Bucket=bucket, Key=candidate, Range=f"bytes=0-{HEAD_BYTES - 1}")
            return candidate, got["Body"].read(), got.get("Metadata") or {}
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code")
            if code in ("InvalidRange", "416"):  # zero-byte object
                return candidate, b"", {}
            # without s3:ListBucket a missing key answers 403, not 404
            if code in ("NoSuchKey", "404", "AccessDenied", "403") and candidate != candidates[-1]:
                continue
            raise
    raise AssertionError("unreachable")


@step("classify")
def handler(event: dict, context: Any) -> dict:
    obj = event.get("object") or {}
    size = obj.get("size")
    key, head, metadata = read_head(event["bucket"], event["key"], size)
    info = sniff(head)
    logger.info("classified", extra={"format": info.format, "kind": info.kind})
    out = {**event, "key": key, "etag": (obj.get("etag") or "").strip('"') or None, "size": size,
           "format": info.format, "kind": info.kind}
    ingested = read_s3_metadata(metadata)  # what `shoebox ingest` learnt beside the file (date source, XMP)
    if ingested:
        out["ingest"] = ingested
    if info.kind == "video":
        out["status"] = "skipped"
        out["error"] = f"SkippedMedia: {info.reason or 'video files are not processed'}"
        return out
    if info.kind == "unsupported":
        raise UnsupportedFormat(info.reason or f"unsupported content ({info.format})")
    return out
