"""boto3 clients, built once per process (client construction costs tens of milliseconds)."""

from __future__ import annotations

import os
import threading
from typing import Any

import boto3
from botocore.config import Config

_lock = threading.Lock()
_clients: dict[tuple[str, str], Any] = {}
_session: boto3.session.Session | None = None


def session() -> boto3.session.Session:
    """One session per process: its loader parses each service's JSON model once (a second of CPU per
    CLI command otherwise). Creating clients from it happens under ``_lock`` (sessions are not thread-safe)."""
    global _session
    if _session is None:
        _session = boto3.session.Session()
    return _session

# The state machine's Retry does the patient backoff; the SDK only smooths over blips.
_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 3}, max_pool_connections=32)


def new_client(service: str, **kwargs: Any) -> Any:
    """An uncached client from the shared session (for callers that keep their own)."""
    with _lock:
        return session().client(service, **kwargs)


def client(service: str, region: str | None = None) -> Any:
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    cache_key = (service, region)
    found = _clients.get(cache_key)
    if found is not None:
        return found
    with _lock:
        found = _clients.get(cache_key)
        if found is None:
            found = session().client(service, region_name=region, config=_CONFIG)
            _clients[cache_key] = found
        return found


def reset_clients() -> None:
    """Forget cached clients (the local runtime calls this when it starts or stops its mock)."""
    global _session
    with _lock:
        _clients.clear()
        _session = None


def presign_client(region: str | None = None) -> Any:
    """An S3 client that signs URLs with SigV4 (its X-Amz-Expires is what makes a link expire)."""
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    cache_key = ("s3-presign", region)
    with _lock:
        found = _clients.get(cache_key)
        if found is None:
            found = session().client(
                "s3", region_name=region, config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}))
            _clients[cache_key] = found
        return found


def object_missing(err: Exception) -> bool:
    """Whether an S3 GET/HEAD error means the object is not there. Without s3:ListBucket on the bucket,
    S3 answers a missing key with 403, not 404, so both count."""
    code = getattr(err, "response", {}).get("Error", {}).get("Code")
    return code in ("404", "NoSuchKey", "NotFound") or access_denied(err)


def access_denied(err: Exception) -> bool:
    """Whether S3 answered 403: no permission to read the object, or (without s3:ListBucket) no such
    object; S3 does not say which."""
    return getattr(err, "response", {}).get("Error", {}).get("Code") in ("403", "AccessDenied")
