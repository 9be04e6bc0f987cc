"""Photo persistence: what the persist step does with a processed photo (its item and index rows, then
its people)."""

from __future__ import annotations

from shoebox.catalog.people import FiledAs, KeepApart, People
from shoebox.catalog.people_rules import refile
from shoebox.catalog.store import Catalog
from shoebox.models import PhotoRecord


def persist_photo(catalog: Catalog, record: PhotoRecord, bucket: str | None = None,
                  keep_apart: KeepApart | None = None, filed_as: FiledAs | None = None) -> PhotoRecord:
    """The photo and its index rows, then its people. Returns the record as filed (re-filed if a face
    moved meanwhile).

    ``filed_as`` (the recognizer's): asked once the photo is written, since a user's unmerge may have
    moved one of its faces since it was indexed, even after its own re-file of the item that this write
    replaced. Either the move is seen here, or it came later and the unmerge's own re-file reads this
    write. (A move is rare: the photo is then written twice rather than asking before and after.)"""
    catalog.put_photo(record)
    face_ids = [f["face_id"] for f in record.faces if f.get("face_id")]
    if filed_as and face_ids:
        now = filed_as(face_ids)
        if any(now.get(f["face_id"], f.get("person_id")) != f.get("person_id") for f in record.faces
               if f.get("face_id")):
            # None: the unmerge's re-file of this write landed first; record what the catalog holds
            record = catalog.update_photo(record.key, lambda rec: refile(rec, now)) \
                or catalog.get_photo(record.key) or record
    People(catalog, bucket=bucket, keep_apart=keep_apart).record_photo(record)
    return record
