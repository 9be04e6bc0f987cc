"""People's cover images: a square crop of one face, kept in the bucket under thumbnails/people/."""

from __future__ import annotations

import io
from typing import Any

from botocore.exceptions import ClientError

from shoebox.s3_layout import ORIGINALS, PEOPLE_CROPS

CROP_SIZE = 160  # px, square
CROP_MARGIN = 1.6  # crop side = this × the face's longer side


def crop_key(person_id: str) -> str:
    return f"{PEOPLE_CROPS}{person_id}.jpg"


def make_crop(view_jpeg: bytes, bbox: dict, size: int = CROP_SIZE) -> bytes:
    """A square JPEG of ``size`` px around the face (bbox as ratios of the view image), kept inside the
    image: the square shifts rather than padding when the face is near an edge."""
    from PIL import Image

    image = Image.open(io.BytesIO(view_jpeg))
    image.draft("RGB", (size * 4, size * 4))  # JPEG: decode at a reduced scale; ratios are unaffected
    image = image.convert("RGB")
    w, h = image.size
    left, top = float(bbox["left"]) * w, float(bbox["top"]) * h
    fw, fh = float(bbox["width"]) * w, float(bbox["height"]) * h
    cx, cy = left + fw / 2, top + fh / 2
    side = min(max(fw, fh, 1.0) * CROP_MARGIN, w, h)
    x0 = min(max(cx - side / 2, 0.0), w - side)
    y0 = min(max(cy - side / 2, 0.0), h - side)
    crop = image.crop((round(x0), round(y0), round(x0 + side), round(y0 + side)))
    crop = crop.resize((size, size), Image.LANCZOS)
    out = io.BytesIO()
    crop.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


class Covers:
    """Cover crops in the photo bucket (``bucket``, else the function's SHOEBOX_BUCKET; none: no covers)."""

    def __init__(self, s3: Any = None, bucket: str | None = None) -> None:
        self._s3 = s3
        self._bucket = bucket

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            from shoebox import aws

            self._s3 = aws.client("s3")
        return self._s3

    @property
    def bucket(self) -> str | None:
        if self._bucket:
            return self._bucket
        from shoebox.config import Settings

        return Settings.from_env().bucket or None

    def make(self, person_id: str, photo_key: str, view_key: str, face: dict) -> dict | None:
        """Crop the face from the photo's view image; the cover to store on the person, None if it could
        not be made (no bucket, or a missing or unreadable view: retried later, never failing a photo)."""
        bucket = self.bucket
        if not bucket:
            return None
        try:
            view = self.s3.get_object(Bucket=bucket, Key=view_key)["Body"].read()
            data = make_crop(view, face["bbox"])
        except Exception:  # a missing or unreadable view must not fail the photo; the cover is retried later
            return None
        target = crop_key(person_id)
        assert target.startswith(PEOPLE_CROPS) and not target.startswith(ORIGINALS)
        self.s3.put_object(Bucket=bucket, Key=target, Body=data, ContentType="image/jpeg",
                           CacheControl="max-age=3600")
        return {"key": photo_key, "face_id": face["face_id"], "bbox": face["bbox"], "crop": target}

    def delete(self, person_id: str) -> None:
        bucket = self.bucket
        if bucket:
            self.s3.delete_object(Bucket=bucket, Key=crop_key(person_id))

    def missing(self, cover: dict) -> bool:
        """Whether a stored cover's crop object is gone (False without a bucket to look in)."""
        bucket = self.bucket
        if not bucket:
            return False
        try:
            self.s3.head_object(Bucket=bucket, Key=cover["crop"])
        except ClientError:
            return True
        return False
