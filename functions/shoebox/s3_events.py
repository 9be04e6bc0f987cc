"""S3's EventBridge "Object Created" event, for an object already stored: what a re-run (`shoebox retry`,
ingest of an object never catalogued) starts an execution with, and what the local service sends again
for an upload a crash left unprocessed. The steps read only ``detail.bucket`` and ``detail.object``."""

from __future__ import annotations


def object_created_detail(bucket: str, key: str, size: int, etag: str, reason: str) -> dict:
    return {"version": "0", "bucket": {"name": bucket}, "reason": reason,
            "object": {"key": key, "size": size, "etag": etag.strip('"')}}


def object_created_event(bucket: str, key: str, size: int, etag: str, reason: str) -> dict:
    return {"version": "0", "source": "aws.s3", "detail-type": "Object Created",
            "resources": [f"arn:aws:s3:::{bucket}"],
            "detail": object_created_detail(bucket, key, size, etag, reason)}
