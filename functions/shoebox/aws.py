"""boto3 clients, built once per process (client construction costs tens of milliseconds).

Where they point: by default at what the environment says (in Lambda, AWS; in the local runtime, the
in-process emulator). The CLI points them at an :class:`Endpoint` — the local service, or AWS with the
user's profile and region — for the code it runs inside ``using(endpoint)``. That is a context variable,
not a process-wide setting, so a test that runs the CLI beside an in-process service does not redirect
the service's own step handlers.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import botocore.session
from botocore.config import Config

_lock = threading.Lock()
_clients: dict[tuple, Any] = {}
# botocore sessions, not boto3's: importing boto3 brings s3transfer (a fifth of a CLI command's start);
# the one boto3 feature used, the transfer manager, is imported where an upload needs it
_sessions: dict[Any, botocore.session.Session] = {}


@dataclass(frozen=True)
class Endpoint:
    """Where the CLI's clients go: ``url`` None is AWS itself (credentials from ``profile`` or the usual
    chain); else the local service, with its own credentials."""

    region: str
    url: str | None = None
    profile: str | None = None
    access_key: str | None = None
    secret_key: str | None = None

    @property
    def local(self) -> bool:
        return self.url is not None


_endpoint: ContextVar[Endpoint | None] = ContextVar("shoebox_endpoint", default=None)


@contextlib.contextmanager
def using(endpoint: Endpoint | None) -> Iterator[None]:
    """Clients made inside this block (in this thread, or a context copied from it) go to ``endpoint``."""
    token = _endpoint.set(endpoint)
    try:
        yield
    finally:
        _endpoint.reset(token)


def current_endpoint() -> Endpoint | None:
    return _endpoint.get()


def session() -> botocore.session.Session:
    """One session per endpoint and process: its loader parses each service's JSON model once (a second
    of CPU per CLI command otherwise). Creating clients from it happens under ``_lock`` (sessions are not
    thread-safe)."""
    endpoint = _endpoint.get()
    found = _sessions.get(endpoint)
    if found is None:
        found = botocore.session.Session(profile=endpoint.profile if endpoint is not None else None)
        if endpoint is not None:  # the CLI (a new process per command): botocore's data from the cache
            from shoebox import botocore_cache

            botocore_cache.install(found)
        if endpoint is not None and endpoint.local:
            found.set_credentials(endpoint.access_key, endpoint.secret_key)
        _sessions[endpoint] = found
    return found


# The state machine's Retry does the patient backoff; the SDK only smooths over blips.
_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 3}, max_pool_connections=32)
_LOCAL_S3 = Config(s3={"addressing_style": "path"})  # 127.0.0.1 has no bucket subdomains


def _default_region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def new_client(service: str, **kwargs: Any) -> Any:
    """An uncached client from the shared session (for callers that keep their own)."""
    with _lock:
        return session().create_client(service, **kwargs)


def client(service: str, region: str | None = None) -> Any:
    endpoint = _endpoint.get()
    region = region or (endpoint.region if endpoint else _default_region())
    cache_key = (service, region, endpoint)
    found = _clients.get(cache_key)
    if found is not None:
        return found
    with _lock:
        found = _clients.get(cache_key)
        if found is None:
            config = _CONFIG
            if endpoint is not None and endpoint.local and service == "s3":
                config = _CONFIG.merge(_LOCAL_S3)
            found = session().create_client(service, region_name=region, config=config,
                                            endpoint_url=endpoint.url if endpoint else None)
            _clients[cache_key] = found
        return found


def reset_clients() -> None:
    """Forget cached clients (the local runtime calls this when it starts or stops its mock)."""
    with _lock:
        _clients.clear()
        _sessions.clear()


def presign_client(region: str | None = None) -> Any:
    """An S3 client that signs URLs with SigV4 (its X-Amz-Expires is what makes a link expire)."""
    endpoint = _endpoint.get()
    region = region or (endpoint.region if endpoint else _default_region())
    cache_key = ("s3-presign", region, endpoint)
    with _lock:
        found = _clients.get(cache_key)
        if found is None:
            style = "path" if endpoint is not None and endpoint.local else "virtual"
            found = session().create_client("s3", region_name=region, endpoint_url=endpoint.url if endpoint else None,
                                            config=Config(signature_version="s3v4", s3={"addressing_style": style}))
            _clients[cache_key] = found
        return found


class AwsSetupError(RuntimeError):
    """No region, no credentials, an unknown profile: said in one line by the CLI."""


def resolve_aws(profile: str | None = None, region: str | None = None) -> Endpoint:
    """AWS itself, the way the AWS CLI resolves it: ``--profile`` or AWS_PROFILE (else the default
    profile), ``--region`` or the AWS_REGION / AWS_DEFAULT_REGION variables or the profile's region."""
    from botocore.exceptions import ProfileNotFound

    named = profile or os.environ.get("AWS_PROFILE") or None
    probe = botocore.session.Session(profile=named)
    try:
        resolved = region or os.environ.get("AWS_REGION") or probe.get_config_variable("region")
        credentials = probe.get_credentials()
    except ProfileNotFound as exc:
        raise AwsSetupError(f"AWS profile not found: {exc.kwargs.get('profile', named)}") from None
    if not resolved:
        raise AwsSetupError("no AWS region: pass --region, set AWS_REGION, or give your profile a region "
                            "(aws configure)")
    if credentials is None:
        raise AwsSetupError("no AWS credentials found: run `aws configure` (or `aws sso login`), set AWS_PROFILE, "
                            "or pass --profile")
    return Endpoint(region=resolved, profile=named)


def object_missing(err: Exception) -> bool:
    """Whether an S3 GET/HEAD error means the object is not there. Without s3:ListBucket on the bucket,
    S3 answers a missing key with 403, not 404, so both count."""
    code = getattr(err, "response", {}).get("Error", {}).get("Code")
    return code in ("404", "NoSuchKey", "NotFound") or access_denied(err)


def access_denied(err: Exception) -> bool:
    """Whether S3 answered 403: no permission to read the object, or (without s3:ListBucket) no such
    object; S3 does not say which."""
    return getattr(err, "response", {}).get("Error", {}).get("Code") in ("403", "AccessDenied")
