"""Pure: the state machine's state -> a PhotoRecord (shared by persist and record_failure)."""

from __future__ import annotations

import json
from typing import Any

from shoebox import PIPELINE_VERSION
from shoebox.models import PhotoRecord


def record_from_state(state: dict, *, status: str) -> PhotoRecord:
    exif = state.get("exif") or {}
    return PhotoRecord(
        key=state["key"],
        status=status,
        etag=state.get("etag") or (state.get("object") or {}).get("etag"),
        size=state.get("size") if state.get("size") is not None else (state.get("object") or {}).get("size"),
        format=state.get("format"),
        kind=state.get("kind"),
        width=state.get("width"),
        height=state.get("height"),
        taken_at=exif.get("taken_at"),
        camera=exif.get("camera"),
        lens=exif.get("lens"),
        gps=exif.get("gps"),
        place=state.get("place"),
        labels=state.get("labels") or [],
        faces=state.get("faces") or [],
        thumbnails=state.get("thumbnails") or {},
        error=state.get("error"),
        execution=state.get("execution"),
        recognition_calls=state.get("recognition_calls") or {},
        pipeline_version=PIPELINE_VERSION,
        sha256=state.get("sha256"),
        render_path=state.get("render_path"),
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
