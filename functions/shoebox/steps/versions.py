"""Is the original still the version this run processed? Asked under the photo's lease (catalog/lease.py)
by every step that writes what is derived from it."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError

from shoebox import aws
from shoebox.steps.state import PhotoState


def current_etag(bucket: str, key: str, s3: Any = None) -> str | None:
    """The original's ETag now ("" if S3 did not say), or None when it is gone. Only a 404 says gone: a 403
    raises (the roles that ask may list the bucket, so S3 answers a missing key with 404)."""
    try:
        return ((s3 or aws.client("s3")).head_object(Bucket=bucket, Key=key).get("ETag") or "").strip('"')
    except ClientError as err:
        if aws.object_missing(err) and not aws.access_denied(err):
            return None
        raise


def superseded(state: PhotoState) -> str | None:
    """None while the original is the version in ``state``; "deleted" or "replaced" once it is not."""
    now = current_etag(state.bucket, state.key)
    if now is None and unquote_plus(state.key) != state.key:
        # a URL-encoded key from the event, before Classify found the object's own (RecordFailure of Classify)
        now = current_etag(state.bucket, unquote_plus(state.key))
    if now is None:
        return "deleted"
    etag = state.processed_etag
    mine = etag.strip('"') if isinstance(etag, str) and etag else None
    return "replaced" if mine and now and mine != now else None
