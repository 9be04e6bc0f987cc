"""RecordFailure: the Catch target. A failed photo becomes a catalog row you can list and retry."""

from __future__ import annotations

from typing import Any

from shoebox.catalog import Catalog
from shoebox.catalog.lease import photo_lease
from shoebox.catalog.photos import persist_photo
from shoebox.config import Settings
from shoebox.recognition import get_recognizer
from shoebox.steps.common import logger, step
from shoebox.steps.object_key import existing_key
from shoebox.steps.records import describe_failure, record_from_state, result_summary
from shoebox.steps.state import PhotoState
from shoebox.steps.supersede import drop_run
from shoebox.steps.versions import superseded


@step("record_failure")
def handler(event: dict, context: Any) -> dict:
    settings = Settings.from_env()
    state = PhotoState.from_event(event)
    failed_step, message = describe_failure(state.failure or {})
    filed = state
    if "classify" in (state.failure or {}):
        # Classify failed before handing on the key that exists: the state still has the event's
        # (URL-encoded) key, and the row must be where list, retry and a later success find it
        filed = state.with_(key=existing_key(state.bucket or settings.bucket, state.key))
    record = record_from_state(filed, status="failed")
    record.error = message
    record.failed_step = failed_step
    catalog = Catalog(settings.table)
    recognizer = get_recognizer(settings.recognizer)
    with photo_lease(catalog.client, settings.table, record.key):
        # the original deleted or re-uploaded meanwhile (often the very cause: NoSuchKey, PhotoChanged):
        # not this photo's failure; the removal or the newer version's run is what counts
        why = superseded(state)
        if why:
            return drop_run(state, why, catalog, recognizer)
        logger.warning("photo failed", extra={"failed_step": failed_step, "error": message})
        # A failed photo keeps no faces: forget those this attempt indexed (e.g. Persist failed after
        # IndexFaces) and those of the row it replaces, so the collection and the people rows stay consistent.
        previous = catalog.get_photo(record.key)
        stale = {face["face_id"] for face in record.faces}
        stale |= {face["face_id"] for face in (previous.faces if previous else [])}
        if stale:
            recognizer.remove_faces(sorted(stale))
        record.faces = []
        persist_photo(catalog, record, settings.bucket)
    return {**result_summary(record), "failed_step": failed_step, "error_type": message.split(":", 1)[0]}
