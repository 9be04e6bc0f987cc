"""After a restart, the uploads the last service did not finish.

The local service keeps objects and catalog items on disk (durable.py), but the upload queue's messages
and the running executions live in moto's memory: a ``kill -9`` (or a power cut) mid-upload left photos in
the bucket that nothing would process until the next ingest. On start, every original with no catalog row,
or a row of another version of the object (a re-upload whose run was lost), gets its "Object Created"
event again through the EventBridge rule, so it takes the upload path (queue, paced starts) like any
upload. Only lost work: a failed photo stays failed (``shoebox retry``), and a row of an older pipeline
version is not re-run on every start after an upgrade (that is the backfill's job, when asked for).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from shoebox.models import PhotoRecord
from shoebox.s3_layout import ORIGINALS
from shoebox.s3_events import UNFINISHED_SEQUENCER, object_created_detail


def unfinished(objects: Iterable[dict], rows: Mapping[str, PhotoRecord]) -> Iterator[dict]:
    """Pure: the listed originals (``{"Key", "ETag", "Size"}``) no run finished: no catalog row, or a row
    of another ETag. Folder markers are not photos."""
    for obj in objects:
        row = rows.get(obj["Key"])
        if obj["Key"].endswith("/"):
            continue
        # a row with no ETag (written before rows kept one) cannot tell: finished, not lost
        if row is None or (row.etag and row.etag.strip('"') != (obj.get("ETag") or "").strip('"')):
            yield obj


def stored_originals(bucket: Any) -> list[dict]:
    """The originals in moto's bucket object right now, as a listing gives them (``Key``, ``ETag``,
    ``Size``). Read from the backend, not through ListObjects, so the start can take this snapshot
    before it accepts any upload without costing a listing: what is in it was stored before, by the last
    runtime; what comes later has its own event."""
    out = []
    for name, key in list(bucket.keys.items()):
        if name.startswith(ORIGINALS) and hasattr(key, "etag") and not getattr(key, "is_delete_marker", False):
            out.append({"Key": name, "ETag": key.etag, "Size": key.size})
    return out


def resume_unfinished(originals: list[dict], events: Any, catalog: Any, bucket: str,
                      stop: threading.Event | None = None, batch: int = 100) -> int:
    """Sends the event of every unfinished one of ``originals`` (:func:`stored_originals` at the start)
    again; returns how many."""
    resumed = 0
    for first in range(0, len(originals), batch):
        if stop is not None and stop.is_set():  # the runtime stops: the next start resumes the rest
            break
        listed = originals[first:first + batch]
        rows = catalog.get_photos([obj["Key"] for obj in listed])
        todo = list(unfinished(listed, rows))
        for start in range(0, len(todo), 10):  # PutEvents takes 10 entries a call
            events.put_events(Entries=[{
                "Source": "aws.s3", "DetailType": "Object Created", "Resources": [f"arn:aws:s3:::{bucket}"],
                "Detail": json.dumps(object_created_detail(bucket, obj["Key"], obj["Size"], obj["ETag"],
                                                          "ShoeboxResume", UNFINISHED_SEQUENCER)),
            } for obj in todo[start:start + 10]])
        resumed += len(todo)
    return resumed
