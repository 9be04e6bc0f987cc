"""Pure: the state machine's state (a PhotoState) -> a PhotoRecord (shared by persist and record_failure)."""

from __future__ import annotations

import json
from typing import Any

from shoebox import PIPELINE_VERSION
from shoebox.models import PhotoRecord
from shoebox.steps.state import PhotoState
from shoebox.words import title_words


def capture(exif: dict, ingested: dict) -> tuple[str | None, str | None]:
    """(taken_at, source): the original's own EXIF first; else what ingest found beside it (XMP sidecar,
    file name, folder...), which knows more than the day in the key; else the key's day."""
    if exif.get("taken_at") and exif.get("taken_source", "exif") == "exif":
        return exif["taken_at"], "exif"
    if ingested.get("taken_at"):
        return ingested["taken_at"], ingested.get("taken_source")
    if exif.get("taken_at"):
        return exif["taken_at"], exif.get("taken_source") or "key"
    return None, None


def keyword_labels(labels: list[dict], keywords: list[str]) -> list[dict]:
    """The sidecar's keywords join the labels (so search finds them), once each, after the detected ones."""
    have = {str(label.get("name", "")).lower() for label in labels}
    extra = [{"name": k, "confidence": 100.0, "parents": [], "source": "keyword"}
             for k in dict.fromkeys(keywords) if k.lower() not in have]
    return labels + extra


def title_labels(labels: list[dict], title: str | None) -> list[dict]:
    """The title's words join the labels too ("Low tide" → Low, Tide), so a search for any of them finds
    the photo; ``show`` prints the title whole instead of these labels."""
    have = {str(label.get("name", "")).lower() for label in labels}
    extra = [{"name": w[:1].upper() + w[1:], "confidence": 100.0, "parents": [], "source": "title"}
             for w in title_words(title or "") if w not in have]
    return labels + extra


def record_from_state(state: PhotoState, *, status: str) -> PhotoRecord:
    exif = state.exif or {}
    ingested = state.ingest or {}
    taken_at, taken_source = capture(exif, ingested)
    keywords = list(ingested.get("keywords") or [])
    return PhotoRecord(
        key=state.key,
        status=status,
        etag=state.processed_etag,
        size=state.object_size,
        format=state.format,
        kind=state.kind,
        width=state.width,
        height=state.height,
        taken_at=taken_at,
        taken_source=taken_source,
        camera=exif.get("camera"),
        lens=exif.get("lens"),
        gps=exif.get("gps"),
        place=state.place,
        labels=title_labels(keyword_labels(state.labels or [], keywords), ingested.get("title")),
        faces=state.faces or [],
        thumbnails=state.thumbnails or {},
        error=state.error,
        execution=state.execution,
        recognition_calls=state.recognition_calls or {},
        pipeline_version=PIPELINE_VERSION,
        sha256=state.sha256,
        render_path=state.render_path,
        rating=ingested.get("rating"),
        title=ingested.get("title"),
        keywords=keywords,
        companion=ingested.get("companion"),
        # only when it is another execution than the run's (moto runs a Map's children inside the parent)
        item_execution=state.item_execution if state.item_execution != state.execution else None,
    )


def result_summary(record: PhotoRecord) -> dict[str, Any]:
    """What the execution outputs: the `shoebox ingest --json` fields the workflow knows."""
    return {
        "key": record.key,
        "status": record.status,
        "format": record.format,
        "thumbnails": {name: t.get("key") for name, t in record.thumbnails.items()},
        "labels": record.label_names,
        "people": record.people,
        "taken_at": record.taken_at,
        "error": record.error,
        "execution": record.execution,
    }


def describe_failure(failure: dict) -> tuple[str, str]:
    """{'thumbnail': {'Error': 'ImageError', 'Cause': '{"errorMessage": ...}'}} -> (step, "ImageError: ...")."""
    if not failure:
        return "unknown", "UnknownError: no failure details in the state"
    step_name, detail = next(iter(failure.items()))
    error = detail.get("Error") or "Error"
    cause = detail.get("Cause") or ""
    message = cause
    try:
        parsed = json.loads(cause)
        if isinstance(parsed, dict):
            message = parsed.get("errorMessage") or parsed.get("message") or cause
    except (TypeError, ValueError):
        pass
    return step_name, f"{error}: {message}".strip()
