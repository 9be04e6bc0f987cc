"""A run whose original changed or was deleted while it worked: it writes nothing, and takes back what it
added (the faces it indexed; after a delete, whatever of the photo is still there)."""

from __future__ import annotations

from shoebox.catalog import Catalog
from shoebox.recognition import Recognizer
from shoebox.steps.common import logger
from shoebox.steps.remove_photo import remove_derived
from shoebox.steps.state import PhotoState


def drop_run(state: PhotoState, why: str, catalog: Catalog, recognizer: Recognizer) -> dict:
    """Call under the photo's lease, once :func:`versions.superseded` said ``why``."""
    own = [face["face_id"] for face in state.faces or [] if face.get("face_id")]
    if own:
        recognizer.remove_faces(own)
    if why == "deleted":  # the removal may have run before this run's thumbnails or row were written
        remove_derived(catalog, recognizer, state.bucket, state.key)
    logger.info("superseded", extra={"why": why})
    return {"key": state.key, "status": "superseded", "error": f"PhotoChanged: the original was {why} "
            "while this run processed it", "execution": state.execution}
