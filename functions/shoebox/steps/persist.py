"""Persist: the photo and its index rows into the catalog (idempotent)."""

from __future__ import annotations

from typing import Any

from shoebox.catalog import Catalog
from shoebox.catalog.people import persist_photo
from shoebox.config import Settings
from shoebox.places import reverse_geocode
from shoebox.recognition import get_recognizer
from shoebox.steps.common import step
from shoebox.steps.records import record_from_state, result_summary


@step("persist")
def handler(event: dict, context: Any) -> dict:
    status = event.get("status") or "processed"
    record = record_from_state(event, status=status)
    if record.gps and not record.place:
        # Offline, at processing time: searching "in Paris" must not need a network call per photo.
        place = reverse_geocode(record.gps.get("lat"), record.gps.get("lon"))
        record.place = place.to_dict() if place else None
    settings = Settings.from_env()
    recognizer = get_recognizer(settings.recognizer)
    # filed_as: a face the user's unmerge moved since indexing (even during this write) is filed where
    # the recognizer has it, not where the state says; asked only for photos with faces
    record = persist_photo(Catalog(settings.table), record, bucket=event.get("bucket"),  # + person rows
                           keep_apart=recognizer.keep_apart, filed_as=recognizer.filed_as)
    return result_summary(record)
