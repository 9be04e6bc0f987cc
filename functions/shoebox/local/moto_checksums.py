"""S3's checksum check, which moto 5.2 skips: a PutObject or UploadPart whose ``x-amz-checksum-*`` value
does not match the body it carried is refused with ``BadDigest``, as S3 refuses it. Without this the local
service would confirm any checksum a client sends, and `shoebox sync`'s "verified by S3" would be untested
locally (docs/sync.md)."""

from __future__ import annotations

import base64
import threading
from typing import Any

MOTO_VERSION = "5.2.5"
# what moto.s3.utils.compute_checksum computes exactly (CRC32C and CRC64NVME fall back to CRC32 without
# optional libraries: not checked)
ALGORITHMS = ("CRC32", "SHA1", "SHA256")
_lock = threading.Lock()
_original: Any = None


def install() -> None:
    global _original
    from moto.s3.exceptions import S3ClientError
    from moto.s3.responses import S3Response
    from moto.s3.utils import compute_checksum

    with _lock:
        if _original is not None:
            return
        if not hasattr(S3Response, "_get_checksum"):
            raise RuntimeError(f"moto changed: S3Response has no _get_checksum (written for {MOTO_VERSION})")
        original = S3Response._get_checksum

        def _get_checksum(self: Any, response_headers: dict[str, Any]) -> tuple[str, str | None]:
            algorithm, value = original(self, response_headers)
            # moto looks only where x-amz-sdk-checksum-algorithm points; a client may send the value alone
            claimed = {a: self.headers.get(f"x-amz-checksum-{a.lower()}") for a in ALGORITHMS}
            if algorithm and value:
                claimed[algorithm.upper()] = value
            for name, expected in claimed.items():
                if not expected:
                    continue
                actual = compute_checksum(self.body or b"", algorithm=name)
                actual = actual.decode() if isinstance(actual, bytes) else actual
                if not _same(actual, expected):
                    raise S3ClientError("BadDigest", f"The {name} you specified did not match the calculated "
                                                     "checksum.")
            return algorithm, value

        S3Response._get_checksum = _get_checksum
        _original = original


def _same(a: str, b: str) -> bool:
    try:
        return base64.b64decode(a) == base64.b64decode(b)
    except ValueError:
        return a == b


def uninstall() -> None:
    global _original
    from moto.s3.responses import S3Response

    with _lock:
        if _original is not None:
            S3Response._get_checksum = _original
            _original = None
