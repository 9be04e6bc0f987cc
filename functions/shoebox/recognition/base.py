"""The recognizer interface. Every backend returns these shapes (modelled on Rekognition's)."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Protocol


@dataclass(frozen=True)
class Label:
    name: str  # Rekognition-style name: "Dog", "Beach", "Person"
    confidence: float  # 0..100
    parents: list[str] = field(default_factory=list)  # e.g. ["Animal", "Pet", "Mammal"]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Face:
    face_id: str
    bbox: dict[str, float]  # {"left", "top", "width", "height"}, ratios of the image like Rekognition
    confidence: float  # 0..100
    person_id: str | None = None  # the face group this face was assigned to

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class FaceMatch:
    face_id: str
    person_id: str
    similarity: float


@dataclass
class ImageRef:
    """Where the image to analyse lives. Backends read what they need: Rekognition uses the S3 object,
    local backends call ``read()`` for the bytes (the view JPEG), fetched once and only if asked."""

    bucket: str
    key: str
    data: bytes | None = None

    def read(self) -> bytes:
        if self.data is None:
            from shoebox import aws

            self.data = aws.client("s3").get_object(Bucket=self.bucket, Key=self.key)["Body"].read()
        return self.data


class Recognizer(Protocol):
    name: str

    def detect_labels(self, image: ImageRef) -> list[Label]:
        """Labels for the image, most confident first."""

    def index_faces(self, image: ImageRef, photo_id: str) -> list[Face]:
        """Detect faces, add them to the face index and assign each to a person (new or existing)."""

    def remove_faces(self, face_ids: list[str]) -> None:
        """Forget faces (photo deleted or re-indexed)."""

    def calls(self) -> dict[str, int]:
        """API calls made so far by this instance, by name (for cost accounting)."""


class NoRecognizer:
    """Recognition off: steps record that, and no call is made."""

    name = "none"

    def detect_labels(self, image: ImageRef) -> list[Label]:
        return []

    def index_faces(self, image: ImageRef, photo_id: str) -> list[Face]:
        return []

    def remove_faces(self, face_ids: list[str]) -> None:
        return None

    def calls(self) -> dict[str, int]:
        return {}


@lru_cache(maxsize=None)
def get_recognizer(name: str | None = None) -> Recognizer:
    """The backend named by ``SHOEBOX_RECOGNIZER`` (rekognition | local | none). Built once per process
    because local models are expensive to load."""
    name = (name or os.environ.get("SHOEBOX_RECOGNIZER", "rekognition")).lower()
    if name == "none":
        return NoRecognizer()
    if name == "rekognition":
        from shoebox.recognition.rekognition import RekognitionRecognizer

        return RekognitionRecognizer.from_env()
    if name == "local":
        from shoebox.recognition.local import LocalRecognizer

        return LocalRecognizer.from_env()
    raise ValueError(f"unknown recognizer {name!r}: expected rekognition, local or none")
