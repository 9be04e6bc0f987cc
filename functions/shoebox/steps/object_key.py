"""Which key an S3 event names: EventBridge hands object keys URL-encoded ("my+photo+%281%29.jpg")."""

from __future__ import annotations

from urllib.parse import unquote_plus

from botocore.exceptions import ClientError

from shoebox import aws

# without s3:ListBucket a missing key answers 403, not 404
MISSING = ("NoSuchKey", "404", "AccessDenied", "403")


def candidate_keys(key: str) -> list[str]:
    """The key as given, then its URL-decoded form when that differs (a real key may contain '+' or '%')."""
    decoded = unquote_plus(key)
    return [key] + ([decoded] if decoded != key else [])


def existing_key(bucket: str, key: str) -> str:
    """The candidate key that exists in the bucket; ``key`` itself when none does (it was deleted)."""
    candidates = candidate_keys(key)
    if len(candidates) == 1:
        return key
    s3 = aws.client("s3")
    for candidate in candidates:
        try:
            s3.head_object(Bucket=bucket, Key=candidate)
            return candidate
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") not in MISSING:
                raise
    return key
