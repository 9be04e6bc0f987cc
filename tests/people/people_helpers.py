"""Helpers for the people tests: the real face set, synthetic view images, writing photos like persist."""

from __future__ import annotations

import io
import json
from pathlib import Path


from shoebox.catalog import Catalog
from shoebox.catalog.people import People
from shoebox.catalog.photos import persist_photo
from shoebox.models import PhotoRecord

TESTS = Path(__file__).resolve().parents[1]


def view_with_box(bbox: dict, size=(400, 300)) -> bytes:
    """A blue view image with the face box painted red (so a crop's content can be checked)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, (0, 0, 255))
    w, h = size
    ImageDraw.Draw(image).rectangle(
        [bbox["left"] * w, bbox["top"] * h, (bbox["left"] + bbox["width"]) * w, (bbox["top"] + bbox["height"]) * h],
        fill=(255, 0, 0))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


class Photos:
    """Writes photos as the persist step does (put_photo + person rows), with a synthetic view image."""

    def __init__(self, rt):
        self.rt = rt
        self.catalog = Catalog(rt.table)
        self.people = People(self.catalog, s3=rt.s3, bucket=rt.bucket)
        self.n = 0

    def record(self, key: str, faces: list[tuple[str, dict]], taken_at: str = "2020-01-01T10:00:00",
               status: str = "processed") -> PhotoRecord:
        view_key = "thumbnails/" + key.split("/", 1)[1] + ".jpg"
        face_dicts = []
        for person, bbox, *aliases in faces:  # (person, bbox[, aliases the recognizer merged into person])
            self.n += 1
            face_dicts.append({"face_id": f"f-{self.n:04d}", "bbox": bbox, "confidence": 99.0, "person_id": person,
                               "aliases": aliases[0] if aliases else []})
        if faces:
            self.rt.s3.put_object(Bucket=self.rt.bucket, Key=view_key, Body=view_with_box(faces[0][1]))
        return PhotoRecord(key=key, status=status, taken_at=taken_at, faces=face_dicts, format="jpeg",
                           labels=[{"name": "Person", "confidence": 99.0, "parents": []}] if faces else [],
                           thumbnails={"view": {"key": view_key, "width": 400, "height": 300},
                                       "grid": {"key": view_key.replace(".jpg", ".sm.jpg")}})

    def persist(self, key: str, faces: list[tuple[str, dict]], **kw) -> PhotoRecord:
        record = self.record(key, faces, **kw)
        persist_photo(self.catalog, record, bucket=self.rt.bucket)
        return record

    def raw_rows(self, pk: str) -> list[dict]:
        return list(self.catalog._query(KeyConditionExpression="pk = :pk",
                                        ExpressionAttributeValues={":pk": {"S": pk}}))


BOX = {"left": 0.4, "top": 0.2, "width": 0.2, "height": 0.3}
BOX2 = {"left": 0.05, "top": 0.1, "width": 0.15, "height": 0.2}


def dump(value) -> str:
    return json.dumps(value, sort_keys=True)
