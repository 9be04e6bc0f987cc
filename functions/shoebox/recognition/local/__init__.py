"""The offline ``local`` recognizer: labels from EfficientNet-Lite0, faces from YuNet + SFace, people from
an incremental face index under ``$SHOEBOX_HOME/faces/``. All models come from installed wheels; nothing
is downloaded. See docs/recognition.md."""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from shoebox import compute
from shoebox.config import setting, shoebox_home
from shoebox.recognition.base import CallCounter, Face, FaceMove, ImageRef, Label, PeopleMatch
from shoebox.recognition.local.faces import DetectedFace, FaceEngine, decode
from shoebox.recognition.local.index import DEFAULT_MERGE_THRESHOLD, DEFAULT_THRESHOLD, FaceIndex
from shoebox.recognition.local.labels import DEFAULT_MAX_LABELS, DEFAULT_MIN_CONFIDENCE, LabelModel

__all__ = ["LocalRecognizer"]

_models_lock = threading.Lock()
_label_model: LabelModel | None = None
_face_engine: FaceEngine | None = None


def _labels() -> LabelModel:
    global _label_model
    if _label_model is None:
        with _models_lock:
            if _label_model is None:
                # a pool worker is one of several single-threaded processes (see shoebox.compute)
                _label_model = LabelModel(threads=1 if compute.in_worker() else 2)
    return _label_model


def _faces() -> FaceEngine:
    global _face_engine
    if _face_engine is None:
        with _models_lock:
            if _face_engine is None:
                _face_engine = FaceEngine(threads=1 if compute.in_worker() else 2)
    return _face_engine


# YuNet also finds the faces of dogs, pandas, koalas…; on a face's crop the label model puts ≥ 0.81 of
# its belief on animals for those, ≤ 0.47 for each of the 159 people's faces in the test photos
# (docs/recognition.md). Nearer the people's side's end would risk losing a person's face.
ANIMAL_FACE_SHARE = 0.65


def people_faces(img: np.ndarray, faces: list[DetectedFace]) -> list[DetectedFace]:
    """The faces that are a person's: those whose crop the label model does not read as an animal."""
    if not faces:
        return faces
    shares = _labels().animal_shares(img, [f.bbox for f in faces])
    return [f for f, share in zip(faces, shares) if share < ANIMAL_FACE_SHARE]


def analyze(data: bytes, min_confidence: float, max_labels: int, with_faces: bool) -> tuple[list[Label], list[DetectedFace]]:
    """Pure: labels (and faces with embeddings) of one image. Runs in a compute worker when a pool is up."""
    img = decode(data)
    model = _labels()
    labels = model.labels(model.probabilities(img), min_confidence, max_labels)
    return labels, (people_faces(img, _faces().faces(img)) if with_faces else [])


def detect_faces(data: bytes) -> list[DetectedFace]:
    """Pure: faces with embeddings of one image."""
    img = decode(data)
    return people_faces(img, _faces().faces(img))


def _merge_threshold(value: str | None) -> float | None:
    if value is None or not value.strip():
        return DEFAULT_MERGE_THRESHOLD
    return None if value.strip().lower() in ("off", "none") else float(value)


class LocalRecognizer(CallCounter):
    """Implements ``shoebox.recognition.base.Recognizer`` offline. Models are loaded lazily, once per
    process, and shared by all instances and threads; each instance has its own call counters."""

    name = "local"

    def __init__(self, home: str | os.PathLike | None = None, *, min_confidence: float = DEFAULT_MIN_CONFIDENCE,
                 max_labels: int = DEFAULT_MAX_LABELS, face_threshold: float = DEFAULT_THRESHOLD,
                 merge_threshold: float | None = DEFAULT_MERGE_THRESHOLD, person_label: bool = True,
                 index: Any | None = None):
        # with an index given (the DynamoDB one, in a Lambda function) there is no home to look for
        self.home = Path(home) if home is not None else (shoebox_home() if index is None else None)
        self.min_confidence = min_confidence
        self.max_labels = max_labels
        self.person_label = person_label
        super().__init__()
        # another store with FaceIndex's API (the DynamoDB face index on AWS: recognition/indexed.py)
        self.index = index if index is not None else FaceIndex(
            self.home / "faces", threshold=face_threshold, merge_threshold=merge_threshold)
        self._detect_cache: OrderedDict[str, list[DetectedFace]] = OrderedDict()
        self._cache_lock = threading.Lock()

    @classmethod
    def from_env(cls) -> "LocalRecognizer":
        """SHOEBOX_HOME (config.shoebox_home), SHOEBOX_LABELS_MIN_CONFIDENCE (percent, default 30),
        SHOEBOX_LABELS_MAX (default 12), SHOEBOX_FACE_THRESHOLD (cosine, default 0.435),
        SHOEBOX_FACE_MERGE_THRESHOLD (cosine between two people's centroids, default 0.45; "off" disables)."""
        return cls(shoebox_home(),
                   min_confidence=float(setting("SHOEBOX_LABELS_MIN_CONFIDENCE", DEFAULT_MIN_CONFIDENCE)),
                   max_labels=int(setting("SHOEBOX_LABELS_MAX", DEFAULT_MAX_LABELS)),
                   face_threshold=float(setting("SHOEBOX_FACE_THRESHOLD", DEFAULT_THRESHOLD)),
                   merge_threshold=_merge_threshold(setting("SHOEBOX_FACE_MERGE_THRESHOLD")))

    # ------------------------------------------------------------ helpers
    @staticmethod
    def _bytes(image: ImageRef) -> bytes:
        if image.data is None:
            return image.read()  # fetched from S3 once, kept on the ref
        return image.data

    def _detected(self, data: bytes) -> list[DetectedFace]:
        """Faces with embeddings, memoised for the last few images so detect_labels (Person) followed by
        index_faces on the same view image runs the face models once."""
        key = hashlib.sha1(data).hexdigest()
        with self._cache_lock:
            if key in self._detect_cache:
                self._detect_cache.move_to_end(key)
                return self._detect_cache[key]
        faces = compute.run(detect_faces, data)
        self._remember(key, faces)
        return faces

    def _remember(self, key: str, faces: list[DetectedFace]) -> None:
        self._count("DetectFaces")
        with self._cache_lock:
            self._detect_cache[key] = faces
            while len(self._detect_cache) > 8:
                self._detect_cache.popitem(last=False)

    # ------------------------------------------------------------ Recognizer
    def detect_labels(self, image: ImageRef) -> list[Label]:
        data = self._bytes(image)
        labels, faces = compute.run(analyze, data, self.min_confidence, self.max_labels, self.person_label)
        self._count("DetectLabels")
        if self.person_label:
            self._remember(hashlib.sha1(data).hexdigest(), faces)
            if faces:
                conf = round(max(f.score for f in faces) * 100, 2)
                labels = [lb for lb in labels if lb.name != "Person"]
                labels.insert(0, Label(name="Person", confidence=conf, parents=[]))
                labels.sort(key=lambda lb: -lb.confidence)
        return labels

    def has_person(self, image: ImageRef) -> bool:
        """Whether a face is visible (runs face detection + embedding once; index_faces reuses it)."""
        return bool(self._detected(self._bytes(image)))

    def index_faces(self, image: ImageRef, photo_id: str) -> list[Face]:
        detected = self._detected(self._bytes(image))
        self._count("IndexFaces")
        indexed = self.index.add(photo_id, [(f.bbox, round(f.score * 100, 2), f.embedding) for f in detected])
        return [Face(face_id=f.face_id, bbox=f.bbox, confidence=f.confidence, person_id=f.person_id,
                     aliases=self.index.aliases(f.person_id)) for f in indexed]

    def remove_faces(self, face_ids: list[str]) -> None:
        if face_ids:
            self.index.remove(list(face_ids))
        self._count("DeleteFaces")

    def keep_apart(self, person_ids: list[str]) -> list[FaceMove]:
        ids = list(dict.fromkeys(person_ids))
        moved: dict[str, FaceMove] = {}
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                for f in self.index.keep_apart(a, b):
                    moved[f.face_id] = FaceMove(f.face_id, f.photo_id, f.person_id)
        return list(moved.values())

    def filed_as(self, face_ids: list[str]) -> dict[str, str]:
        return self.index.filed_as(list(face_ids))

    def similar_people(self, person_ids: list[str]) -> list[PeopleMatch]:
        """From the index's centroids (no model runs): its own groups, which the catalog folds onto its
        ids. ``person_ids`` is not needed here: every group the index has is one the catalog has, or
        will have once its photo is persisted."""
        return [PeopleMatch(a, b, sim) for a, b, sim in self.index.similar()]

    def people(self) -> dict[str, list[str]]:
        """person id → face ids currently in the index (for the people CLI and tests)."""
        return self.index.people()
