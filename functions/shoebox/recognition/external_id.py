"""Rekognition's ExternalImageId for a photo id (an S3 key), reversibly escaped (docs/rekognition.md)."""

from __future__ import annotations

import hashlib

_SAFE_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_HEX = "0123456789ABCDEF"
EXTERNAL_ID_MAX = 255
HASH_PREFIX = ":sha256:"  # ':' followed by a non-hex letter never comes out of the escaping below


def external_image_id(photo_id: str) -> str:
    """ExternalImageId for a photo id (an S3 key).

    ExternalImageId allows only ``[a-zA-Z0-9_.\\-:]+`` up to 255 characters. Every UTF-8 byte outside
    ``[A-Za-z0-9_.-]`` is written as ``:XX`` (upper-case hex), so ``originals/2006/a b.jpg`` becomes
    ``originals:2F2006:2Fa:20b.jpg`` and is decoded exactly by :func:`photo_id_from_external_image_id`.
    When that is longer than 255 characters the id is ``:sha256:<hex of the key>`` instead (not reversible;
    the catalog holds the face → photo mapping either way, the ExternalImageId is for humans and audits).
    """
    if not photo_id:
        raise ValueError("photo_id must not be empty")
    raw = photo_id.encode("utf-8")
    parts = [chr(b) if b in _SAFE_BYTES else ":" + _HEX[b >> 4] + _HEX[b & 15] for b in raw]
    encoded = "".join(parts)
    if len(encoded) <= EXTERNAL_ID_MAX:
        return encoded
    return HASH_PREFIX + hashlib.sha256(raw).hexdigest()


def photo_id_from_external_image_id(value: str) -> str | None:
    """Inverse of :func:`external_image_id`; ``None`` for hashed (over-long) ids."""
    if value.startswith(HASH_PREFIX):
        return None
    out = bytearray()
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == ":":
            pair = value[i + 1 : i + 3]
            if len(pair) != 2 or any(c not in _HEX for c in pair):
                raise ValueError(f"malformed escape at {i} in ExternalImageId {value!r}")
            out.append(int(pair, 16))
            i += 3
        else:
            out.append(ord(ch))
            i += 1
    return out.decode("utf-8")
