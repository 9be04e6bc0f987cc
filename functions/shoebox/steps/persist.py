"""Persist: the photo and its index rows into the catalog (idempotent)."""

from __future__ import annotations

from typing import Any

from shoebox.catalog import Catalog
from shoebox.catalog.lease import photo_lease
from shoebox.catalog.photos import persist_photo
from shoebox.config import Settings
from shoebox.places import reverse_geocode
from shoebox.recognition import get_recognizer
from shoebox.steps.common import step
from shoebox.steps.records import record_from_state, result_summary
from shoebox.steps.state import PhotoState
from shoebox.steps.supersede import drop_run
from shoebox.steps.versions import superseded


@step("persist")
def handler(event: dict, context: Any) -> dict:
    state = PhotoState.from_event(event)
    record = record_from_state(state, status=state.status or "processed")
    if record.gps and not record.place:
        # Offline, at processing time: searching "in Paris" must not need a network call per photo.
        place = reverse_geocode(record.gps.get("lat"), record.gps.get("lon"))
        record.place = place.to_dict() if place else None
    settings = Settings.from_env()
    recognizer = get_recognizer(settings.recognizer)
    catalog = Catalog(settings.table)
    # Under the lease, only if the original is still the version processed: a second delivery of the same
    # upload, or the first version's run of a re-uploaded photo, must not overwrite what a newer run wrote
    with photo_lease(catalog.client, settings.table, record.key):
        why = superseded(state)
        if why:
            return drop_run(state, why, catalog, recognizer)
        previous = catalog.get_photo(record.key)
        # filed_as: a face the user's unmerge moved since indexing (even during this write) is filed where
        # the recognizer has it, not where the state says; asked only for photos with faces
        record = persist_photo(catalog, record, bucket=state.bucket,  # + person rows
                               keep_apart=recognizer.keep_apart, filed_as=recognizer.filed_as)
        # The faces of the row just replaced (an earlier run, or another delivery of this upload) leave the
        # collection now, after the new ones were indexed: a person whose only photo this is keeps their id
        kept = {face["face_id"] for face in record.faces}
        stale = [face["face_id"] for face in (previous.faces if previous else []) if face["face_id"] not in kept]
        if stale:
            recognizer.remove_faces(stale)
    return result_summary(record)
