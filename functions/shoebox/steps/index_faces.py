"""IndexFaces: faces into the collection, grouped into people. Runs only when a Person was seen."""

from __future__ import annotations

from typing import Any

from shoebox.catalog import Catalog
from shoebox.config import Settings
from shoebox.recognition import ImageRef, get_recognizer
from shoebox.steps.common import step
from shoebox.steps.counting import count_calls


@step("index_faces")
def handler(event: dict, context: Any) -> dict:
    settings = Settings.from_env()
    recognizer = get_recognizer(settings.recognizer)
    image = ImageRef(bucket=event["bucket"], key=event["thumbnails"]["view"]["key"])
    # Re-processing a photo replaces its faces. Index the new ones first, then forget last time's, so a
    # person whose only photo this is keeps their id (and name) instead of emptying and being re-created.
    previous = Catalog(settings.table).get_photo(event["key"])
    with count_calls(recognizer, event) as calls:
        faces = [face.to_dict() for face in recognizer.index_faces(image, photo_id=event["key"])]
        stale = [face["face_id"] for face in (previous.faces if previous else [])]
        if stale:
            recognizer.remove_faces(stale)
    return {**event, "faces": faces, "recognition_calls": calls}
