"""How an original is written to S3, for `shoebox sync` and `shoebox ingest` alike.

boto3's transfer manager (large files in parallel parts), a SHA-256 checksum S3 verifies (the whole
body's for a single-part upload, each part's for a multipart one), ingest's metadata plus both digests
as user metadata (``md5``: what a later ingest compares when a multipart ETag is not an MD5; ``sha256``:
what a later sync compares). S3's answer to the write (its ETag and the checksum it stored) is the
confirmation: no HEAD afterwards.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MB = 1024 * 1024


@dataclass(frozen=True)
class TransferOptions:
    concurrency: int = 8  # transfers in flight (the transfer manager's threads)
    multipart_threshold: int = 16 * MB
    multipart_chunksize: int = 8 * MB
    max_bandwidth: int | None = None  # bytes/s over all transfers, None: unlimited


def b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


class _Acks:
    """S3's own answers to this run's writes (PutObject, CompleteMultipartUpload), by key: the transfer
    manager's futures return nothing, and a HEAD per file to learn the ETag would add a request per
    file (a tenth of the throughput against a busy local service). A 200 to a write that carried a
    checksum is S3's confirmation that the bytes matched it."""

    _OPS = ("PutObject", "CompleteMultipartUpload")

    def __init__(self, s3: Any) -> None:
        self._events = s3.meta.events
        self._id = f"shoebox-upload-{id(self)}"
        self._lock = threading.Lock()
        self._acks: dict[str, dict] = {}
        for op in self._OPS:
            self._events.register(f"before-parameter-build.s3.{op}", self._note, unique_id=f"{self._id}-b-{op}")
            self._events.register(f"after-call.s3.{op}", self._ack, unique_id=f"{self._id}-a-{op}")

    def _note(self, params: dict, context: dict, **kwargs: Any) -> None:
        context["shoebox_upload_key"] = params.get("Key")

    def _ack(self, http_response: Any, parsed: dict, context: dict, **kwargs: Any) -> None:
        key = context.get("shoebox_upload_key")
        if key and http_response is not None and http_response.status_code < 300 and parsed.get("ETag"):
            with self._lock:
                self._acks[key] = parsed

    def pop(self, key: str) -> dict | None:
        with self._lock:
            return self._acks.pop(key, None)

    def close(self) -> None:
        for op in self._OPS:
            self._events.unregister(f"before-parameter-build.s3.{op}", unique_id=f"{self._id}-b-{op}")
            self._events.unregister(f"after-call.s3.{op}", unique_id=f"{self._id}-a-{op}")


class Uploader:
    """One transfer manager and its acknowledgements for a run; thread-safe ``put`` from many workers."""

    def __init__(self, s3: Any, bucket: str, options: TransferOptions | None = None,
                 on_bytes: Callable[[int], None] | None = None) -> None:
        from boto3.s3.transfer import TransferConfig, create_transfer_manager

        self.s3 = s3
        self.bucket = bucket
        self.options = options or TransferOptions()
        self.on_bytes = on_bytes or (lambda n: None)
        config = TransferConfig(multipart_threshold=self.options.multipart_threshold,
                                multipart_chunksize=self.options.multipart_chunksize,
                                max_concurrency=self.options.concurrency, max_bandwidth=self.options.max_bandwidth,
                                use_threads=True)
        self._transfers = create_transfer_manager(s3, config)
        self._acks = _Acks(s3)

    def close(self, cancel: bool = False) -> None:
        self._transfers.shutdown(cancel=cancel)
        self._acks.close()

    def put(self, path: Path, key: str, size: int, metadata: dict[str, str], sha256: str, md5: str) -> str:
        """Upload ``path`` to ``key``; returns S3's ETag once S3 has confirmed the checksum."""
        from s3transfer.subscribers import BaseSubscriber

        on_bytes = self.on_bytes

        class _Progress(BaseSubscriber):
            def on_progress(self, future: Any, bytes_transferred: int, **kwargs: Any) -> None:
                on_bytes(bytes_transferred)

        extra: dict[str, Any] = {"Metadata": {**metadata, "md5": md5, "sha256": sha256},
                                 "ChecksumAlgorithm": "SHA256"}
        multipart = size >= self.options.multipart_threshold
        if not multipart:  # the whole body's, which we have already (no second read), checked by S3
            extra["ChecksumSHA256"] = b64(sha256)
        self._transfers.upload(str(path), self.bucket, key, extra_args=extra, subscribers=[_Progress()]).result()
        ack = self._acks.pop(key)
        if ack is None:
            raise RuntimeError(f"{key}: no acknowledgement from S3 for the upload")
        stored = ack.get("ChecksumSHA256")
        if not multipart and stored not in (None, b64(sha256)):  # None: an S3 that does not echo it
            raise RuntimeError(f"{key}: S3 stored checksum {stored}, not the file's")
        return ack["ETag"].strip('"')
