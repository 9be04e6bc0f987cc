"""Thumbnail: original -> view (1920) and grid (320) JPEGs under thumbnails/, plus metadata."""

from __future__ import annotations

import hashlib
import os
import tempfile
from typing import Any

from shoebox import aws, compute
from shoebox.catalog.lease import photo_lease
from shoebox.config import Settings, setting
from shoebox.errors import PhotoChanged
from shoebox.imaging.pipeline import render
from shoebox.steps.common import logger, step, thumbnail_keys, tracer
from shoebox.steps.state import PhotoState
from shoebox.steps.versions import current_etag

# Originals up to this size are read into memory; larger ones stream to /tmp (Lambda's ephemeral disk)
# so a 200 MB panorama never needs 2x its size in RAM.
IN_MEMORY_LIMIT = int(setting("SHOEBOX_IN_MEMORY_LIMIT", str(48 * 1024 * 1024)))


@tracer.capture_method(capture_response=False)
def fetch_original(bucket: str, key: str, size: int | None) -> tuple[bytes | str, str, str]:
    """Returns (bytes or a temp file path, sha256, the ETag of the version read). The caller removes a temp
    file."""
    s3 = aws.client("s3")
    response = s3.get_object(Bucket=bucket, Key=key)
    body, etag = response["Body"], response["ETag"].strip('"')
    digest = hashlib.sha256()
    if size is not None and size <= IN_MEMORY_LIMIT:
        data = body.read()
        digest.update(data)
        return data, digest.hexdigest(), etag
    fd, path = tempfile.mkstemp(prefix="shoebox-", dir=setting("SHOEBOX_TMP"))
    with os.fdopen(fd, "wb") as out:
        for chunk in body.iter_chunks(chunk_size=1024 * 1024):
            digest.update(chunk)
            out.write(chunk)
    return path, digest.hexdigest(), etag


@step("thumbnail")
def handler(event: dict, context: Any) -> dict:
    state = PhotoState.from_event(event)
    bucket, key = state.bucket, state.key
    source, sha256, etag = fetch_original(bucket, key, state.size)
    try:
        rendition = compute.run(render, source, key=key)  # a worker process in the local runtime
    finally:
        if isinstance(source, str):
            os.unlink(source)
    view_key, grid_key = thumbnail_keys(key)
    s3 = aws.client("s3")
    table = Settings.from_env().table
    # Written under the photo's lease and only while the original is still the version rendered: a run of
    # an earlier version (re-uploaded meanwhile) must not overwrite the newer one's thumbnails, nor put
    # back the thumbnails of a deleted photo
    with photo_lease(aws.client("dynamodb"), table, key):
        now = current_etag(bucket, key)
        if now != etag:
            raise PhotoChanged(f"the original was {'deleted' if now is None else 're-uploaded'} while its "
                               "thumbnails were made")
        for thumb_key, body in ((view_key, rendition.view_jpeg), (grid_key, rendition.grid_jpeg)):
            s3.put_object(Bucket=bucket, Key=thumb_key, Body=body, ContentType="image/jpeg",
                          CacheControl="max-age=31536000, immutable")
    meta = rendition.metadata
    logger.info("thumbnails written", extra={"path": rendition.path, "width": rendition.width})
    return state.with_(
        sha256=sha256,
        width=rendition.width,
        height=rendition.height,
        render_path=rendition.path,
        thumbnails={
            "view": {"key": view_key, "width": rendition.view_size[0], "height": rendition.view_size[1]},
            "grid": {"key": grid_key, "width": rendition.grid_size[0], "height": rendition.grid_size[1]},
        },
        exif={"taken_at": meta.taken_at, "taken_source": meta.taken_source, "camera": meta.camera,
              "lens": meta.lens, "gps": meta.gps},
    ).to_event()
