"""Events shaped exactly as AWS delivers them, for tests that start executions by hand."""

from __future__ import annotations

from urllib.parse import quote_plus


def aws_event(bucket: str, key: str, size: int, etag: str) -> dict:
    """An S3 'Object Created' event as EventBridge delivers it (key URL-encoded like S3 encodes it)."""
    return {
        "version": "0", "id": "17f0e1a2-0000-4000-8000-000000000001", "detail-type": "Object Created",
        "source": "aws.s3", "account": "123456789012", "time": "2026-12-02T17:00:00Z", "region": "us-east-1",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {"version": "0", "bucket": {"name": bucket},
                   "object": {"key": quote_plus(key, safe="/"), "size": size, "etag": etag,
                              "version-id": "IYV3p45BhZA6eSz3vgRx6gM1sn8Cq.0K", "sequencer": "00617F08299329D189"},
                   "request-id": "N4N7GDK58NMKJ12R", "requester": "123456789012",
                   "source-ip-address": "1.2.3.4", "reason": "PutObject"},
    }
