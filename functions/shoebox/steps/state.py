"""The state one process-photo execution carries from step to step, typed.

In statemachine/process_photo.asl.json every Task invokes its Lambda with ``Payload.$: "$"`` and keeps
``OutputPath: "$.Payload"``: what a step returns is the next state's whole input. Each handler reads a
``PhotoState`` from its event and returns ``state.with_(…).to_event()``, so the fields below are all a
step can find, and where each comes from. tests/steps/samples/ holds one input and output per step,
checked against the ASL's paths by tests/steps/test_samples.py.

Fields a step has not set stay out of the JSON (not ``null``), as do unknown fields a caller added
(backfill's, a retry's): they are carried through unchanged in ``extra``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PhotoState:
    key: str  # originals/…; URL-encoded as in the event until Classify finds the object's own key
    # ExtractObject (from the S3 event)
    bucket: str | None = None
    object: dict | None = None  # the event's detail.object: size, etag, sequencer, version-id
    execution: str | None = None
    item_execution: str | None = None  # a backfill item's own execution (CheckDone hands on $$.Execution.Id)
    # Classify
    etag: str | None = None
    size: int | None = None
    format: str | None = None  # shoebox.formats name
    kind: str | None = None  # lossy | raw | video (IsVideo reads it) | unsupported
    ingest: dict | None = None  # what `shoebox ingest` stored beside the original (S3 user metadata)
    status: str | None = None  # "skipped" for a video; Persist defaults to "processed"
    error: str | None = None
    # Thumbnail
    sha256: str | None = None
    width: int | None = None
    height: int | None = None
    render_path: str | None = None
    thumbnails: dict | None = None  # {"view": {key, width, height}, "grid": {…}}
    exif: dict | None = None  # taken_at, taken_source, camera, lens, gps
    # DetectLabels
    recognizer: str | None = None
    labels: list | None = None  # [{name, confidence, parents}]
    recognition_calls: dict | None = None  # {api: count}, added to by DetectLabels and IndexFaces
    person_seen: bool | None = None  # PersonSeen reads it
    # IndexFaces
    faces: list | None = None  # [{face_id, bbox, confidence, person_id, aliases?}]
    # a Task's Catch: {"<step>": {"Error", "Cause"}} (ResultPath $.failure.<step>)
    failure: dict | None = None
    place: dict | None = None  # set by a caller that knows it already; else Persist geocodes the GPS
    extra: dict = field(default_factory=dict)
    present: frozenset[str] = frozenset()  # the fields the JSON holds

    @classmethod
    def from_event(cls, event: dict) -> PhotoState:
        known = {name: event[name] for name in FIELDS if name in event}
        extra = {name: value for name, value in event.items() if name not in FIELDS}
        return cls(**known, extra=extra, present=frozenset(known))

    def with_(self, **changes: Any) -> PhotoState:
        """This state with these fields set (and so in the JSON)."""
        return dataclasses.replace(self, **changes, present=self.present | frozenset(changes))

    def to_event(self) -> dict:
        return {**self.extra, **{name: getattr(self, name) for name in FIELDS if name in self.present}}

    @property
    def processed_etag(self) -> str | None:
        """The ETag this run processed: Classify's, else the event's."""
        return self.etag or (self.object or {}).get("etag")

    @property
    def object_size(self) -> int | None:
        return self.size if self.size is not None else (self.object or {}).get("size")


FIELDS = tuple(f.name for f in dataclasses.fields(PhotoState) if f.name not in ("extra", "present"))
