"""The recognizer interface. Every backend returns these shapes (modelled on Rekognition's)."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
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
    # other group ids the recognizer has found to be this same person (the local backend's automatic
    # merges); earlier photos were stored under them, so the catalog folds them into person_id
    aliases: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class FaceMove:
    """A face the recognizer moved to another person when told to keep two people apart."""

    face_id: str
    photo_id: str
    person_id: str  # the person it belongs to now


@dataclass(frozen=True)
class PeopleMatch:
    """Two face groups the recognizer thinks may be one person, for the user to confirm or reject."""

    a: str
    b: str
    similarity: float  # 0..1: the local centroids' cosine, or Rekognition's SearchUsers Similarity / 100


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

    def keep_apart(self, person_ids: list[str]) -> list[FaceMove]:
        """The user says these face groups are different people (unmerged, or named differently): a
        recognizer that merges groups by itself must undo and never repeat a merge between them. Returns
        the faces that changed person as a result (the catalog moves them too)."""

    def filed_as(self, face_ids: list[str]) -> dict[str, str]:
        """face id → the person it is filed under now: what ``index_faces`` said, unless a ``keep_apart``
        moved it since (faces unknown to the recognizer are left out); the persist step files the photo
        accordingly."""

    def similar_people(self, person_ids: list[str]) -> list[PeopleMatch]:
        """Pairs of these people (the catalog's ids) that may be one person, most alike first; pairs
        the recognizer already keeps apart or has seen in one photo are left out (as far as it knows)."""

    def calls(self) -> dict[str, int]:
        """API calls made so far by this instance, by name (for cost accounting)."""

    def track(self) -> contextlib.AbstractContextManager[dict[str, int]]:
        """Calls made by the calling thread inside a ``with`` block (per-photo accounting)."""


class CallCounter:
    """Counts API calls per instance (``calls()``) and per block on the calling thread (``track()``), so a
    step can record exactly the calls made for its photo while other photos run on other threads."""

    def __init__(self) -> None:
        self._calls: Counter[str] = Counter()
        self._calls_lock = threading.Lock()
        self._trackers = threading.local()

    def _count(self, api: str) -> None:
        with self._calls_lock:
            self._calls[api] += 1
        for counter in getattr(self._trackers, "stack", ()):
            counter[api] += 1

    def calls(self) -> dict[str, int]:
        with self._calls_lock:
            return dict(self._calls)

    @contextlib.contextmanager
    def track(self) -> Iterator[dict[str, int]]:
        """``with rec.track() as used: ...``: ``used`` holds this thread's calls inside the block once it exits."""
        used: dict[str, int] = {}
        counter: Counter[str] = Counter()
        stack = getattr(self._trackers, "stack", None)
        if stack is None:
            stack = self._trackers.stack = []
        stack.append(counter)
        try:
            yield used
        finally:
            for index in range(len(stack) - 1, -1, -1):
                if stack[index] is counter:  # by identity: Counters compare by content
                    del stack[index]
                    break
            used.update(counter)


class NoRecognizer(CallCounter):
    """Recognition off: steps record that, and no call is made."""

    name = "none"

    def detect_labels(self, image: ImageRef) -> list[Label]:
        return []

    def index_faces(self, image: ImageRef, photo_id: str) -> list[Face]:
        return []

    def remove_faces(self, face_ids: list[str]) -> None:
        return None

    def keep_apart(self, person_ids: list[str]) -> list[FaceMove]:
        return []

    def filed_as(self, face_ids: list[str]) -> dict[str, str]:
        return {}

    def similar_people(self, person_ids: list[str]) -> list[PeopleMatch]:
        return []
