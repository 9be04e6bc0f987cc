"""IndexFaces: faces into the collection, grouped into people. Runs only when a Person was seen."""

from __future__ import annotations

from typing import Any

from shoebox.config import Settings
from shoebox.recognition import ImageRef, get_recognizer
from shoebox.steps.common import step
from shoebox.steps.counting import count_calls
from shoebox.steps.state import PhotoState


@step("index_faces")
def handler(event: dict, context: Any) -> dict:
    settings = Settings.from_env()
    recognizer = get_recognizer(settings.recognizer)
    state = PhotoState.from_event(event)
    image = ImageRef(bucket=state.bucket, key=state.thumbnails["view"]["key"])
    # Last time's faces are not removed here but by whichever step replaces the catalog row (Persist,
    # RecordFailure): only it knows which row it replaced; another run of this photo may write in between
    with count_calls(recognizer, event) as calls:
        faces = [face.to_dict() for face in recognizer.index_faces(image, photo_id=state.key)]
    return state.with_(faces=faces, recognition_calls=calls).to_event()
