"""RemovePhoto: an original was deleted, so everything derived from it goes too: catalog rows, people
counts and covers, indexed faces, thumbnails. The original itself is the user's to delete, never ours."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from shoebox import aws
from shoebox.catalog import Catalog
from shoebox.catalog.lease import photo_lease
from shoebox.catalog.people import People
from shoebox.config import Settings
from shoebox.recognition import Recognizer, get_recognizer
from shoebox.steps.common import logger, step, thumbnail_keys
from shoebox.steps.versions import current_etag


def still_there(bucket: str, key: str) -> bool:
    """Re-uploaded since the delete? Only a 404 says it is gone (this function may list the bucket, so S3
    answers a missing key with 404): a 403 (a deny, a key it cannot read) must not wipe the photo's rows,
    faces and thumbnails, so it raises, and the workflow's retry and catch record it."""
    return current_etag(bucket, key) is not None


def cataloged_key(catalog: Catalog, key: str) -> str:
    """The key as the catalog has it. EventBridge may hand over a URL-encoded key ("my+photo.jpg" for
    "my photo.jpg", as Classify knows): the original is gone, so the catalog tells which one it was."""
    decoded = unquote_plus(key)
    if decoded != key and catalog.get_photo(key) is None and catalog.get_photo(decoded) is not None:
        return decoded
    return key


def remove_derived(catalog: Catalog, recognizer: Recognizer, bucket: str, key: str) -> dict:
    """Everything derived from a deleted original (call under the photo's lease). Idempotent."""
    record = catalog.get_photo(key)
    faces = [face["face_id"] for face in (record.faces if record else [])]
    if faces:
        recognizer.remove_faces(faces)
    People(catalog, bucket=bucket).forget_photo(key)
    catalog.delete_photo(key)
    s3 = aws.client("s3")
    for thumb in thumbnail_keys(key):
        s3.delete_object(Bucket=bucket, Key=thumb)
    return {"key": key, "status": "removed", "faces_removed": len(faces), "was_cataloged": record is not None}


@step("remove_photo")
def handler(event: dict, context: Any) -> dict:
    settings = Settings.from_env()
    catalog = Catalog(settings.table)
    bucket, key = event["bucket"], cataloged_key(catalog, event["key"])
    # under the lease: a run of this photo still going writes before or after us, never in between
    with photo_lease(catalog.client, settings.table, key):
        if still_there(bucket, key):
            logger.info("original exists again; nothing to remove")
            return {"key": key, "status": "kept"}
        return remove_derived(catalog, get_recognizer(settings.recognizer), bucket, key)
