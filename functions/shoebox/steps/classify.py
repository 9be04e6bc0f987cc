"""Classify: sniff the original's first bytes (content, not extension) into a format and a kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from shoebox import aws
from shoebox.errors import UnsupportedFormat
from shoebox.imaging import sniff
from shoebox.ingest.plan import read_s3_metadata
from shoebox.steps.object_key import MISSING, candidate_keys
from shoebox.steps.common import logger, step
from shoebox.steps.state import PhotoState

HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class Head:
    key: str  # the key that exists (EventBridge may hand us a URL-encoded key)
    data: bytes  # the first HEAD_BYTES
    etag: str | None  # from S3's answer: an event need not carry it (the local one did not)
    size: int | None
    metadata: dict  # the object's user metadata (what `shoebox ingest` learnt beside the file)


def read_head(bucket: str, key: str, size: int | None) -> Head:
    """First bytes of the object, with the key that exists and the object's ETag and size."""
    s3 = aws.client("s3")
    candidates = candidate_keys(key)
    for candidate in candidates:
        try:
            if size == 0:
                meta = s3.head_object(Bucket=bucket, Key=candidate)
                return Head(candidate, b"", _etag(meta), 0, meta.get("Metadata") or {})
            answer = s3.get_object(Bucket=bucket, Key=candidate, Range=f"bytes=0-{HEAD_BYTES - 1}")
            total = (answer.get("ContentRange") or "").rpartition("/")[2]
            return Head(candidate, answer["Body"].read(), _etag(answer),
                        int(total) if total.isdigit() else answer.get("ContentLength"), answer.get("Metadata") or {})
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code")
            if code in ("InvalidRange", "416"):  # zero-byte object
                return Head(candidate, b"", None, 0, {})
            if code in MISSING and candidate != candidates[-1]:
                continue
            raise
    raise AssertionError("unreachable")


def _etag(answer: dict) -> str | None:
    return (answer.get("ETag") or "").strip('"') or None


@step("classify")
def handler(event: dict, context: Any) -> dict:
    state = PhotoState.from_event(event)
    obj = state.object or {}
    head = read_head(state.bucket, state.key, obj.get("size"))
    info = sniff(head.data)
    logger.info("classified", extra={"format": info.format, "kind": info.kind})
    # the event's ETag when it has one (backfill passes the listing's), else the one S3 just answered with:
    # the catalog row needs it, or a backfill would process the photo again
    etag = (obj.get("etag") or "").strip('"') or head.etag
    size = obj.get("size") if obj.get("size") is not None else head.size
    state = state.with_(key=head.key, etag=etag, size=size, format=info.format, kind=info.kind)
    ingested = read_s3_metadata(head.metadata)  # what `shoebox ingest` learnt beside the file (date source, XMP)
    if ingested:
        state = state.with_(ingest=ingested)
    if info.kind == "video":
        return state.with_(status="skipped",
                           error=f"SkippedMedia: {info.reason or 'video files are not processed'}").to_event()
    if info.kind == "unsupported":
        raise UnsupportedFormat(info.reason or f"unsupported content ({info.format})")
    return state.to_event()
