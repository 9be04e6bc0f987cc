"""DetectLabels: what is in the photo, on the view image. Decides whether faces are worth a call."""

from __future__ import annotations

from typing import Any

from shoebox.config import Settings
from shoebox.recognition import ImageRef, get_recognizer
from shoebox.steps.common import step
from shoebox.steps.counting import count_calls
from shoebox.steps.state import PhotoState


def person_seen(labels: list[dict]) -> bool:
    return any(label["name"] == "Person" or "Person" in label.get("parents", []) for label in labels)


@step("detect_labels")
def handler(event: dict, context: Any) -> dict:
    settings = Settings.from_env()
    recognizer = get_recognizer(settings.recognizer)
    state = PhotoState.from_event(event)
    image = ImageRef(bucket=state.bucket, key=state.thumbnails["view"]["key"])
    with count_calls(recognizer, event) as calls:
        labels = [label.to_dict() for label in recognizer.detect_labels(image)]
    seen = person_seen(labels)
    return state.with_(
        recognizer=recognizer.name,
        labels=labels,
        recognition_calls=calls,
        # The Choice state reads this: IndexFaces only when a Person was seen (unless configured off).
        person_seen=seen or (not settings.faces_only_with_person and recognizer.name != "none"),
    ).to_event()
