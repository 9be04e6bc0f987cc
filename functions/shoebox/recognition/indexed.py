"""The ``hybrid`` and ``local`` recognizers on AWS: faces detected and embedded by the offline models
(YuNet + SFace, the animal check) in the IndexFaces function and grouped in the DynamoDB face index
(``dynamo_index.py``); labels from Rekognition DetectLabels (``hybrid``) or from the offline label model
(``local``). No Rekognition collection is used: faces and people live in the user's own table.

The model code is imported only when a face or (``local``) a label is asked for, so Persist, RemovePhoto
and RecordFailure, which only file, remove or keep faces apart, need numpy and boto3, not the models."""

from __future__ import annotations

from typing import Any

from shoebox.config import setting
from shoebox.recognition.base import CallCounter, Face, FaceMove, ImageRef, Label, PeopleMatch
from shoebox.recognition.dynamo_index import DynamoFaceIndex
from shoebox.recognition.grouping import DEFAULT_MERGE_THRESHOLD, DEFAULT_THRESHOLD

MODES = ("hybrid", "local")


class IndexedRecognizer(CallCounter):
    def __init__(self, mode: str, index: DynamoFaceIndex, *, labels: Any | None = None,
                 local_options: dict | None = None):
        if mode not in MODES:
            raise ValueError(f"IndexedRecognizer mode must be one of {MODES}, not {mode!r}")
        super().__init__()
        self.name = mode
        self.index = index
        self._rekognition = labels  # hybrid: a RekognitionRecognizer used for DetectLabels only
        self._local_options = local_options or {}
        self._offline: Any | None = None

    @classmethod
    def from_env(cls, mode: str) -> "IndexedRecognizer":
        from shoebox.config import getenv

        threshold = float(setting("SHOEBOX_FACE_THRESHOLD", DEFAULT_THRESHOLD))
        raw = (setting("SHOEBOX_FACE_MERGE_THRESHOLD") or "").strip()
        merge = (None if raw.lower() in ("off", "none") else float(raw)) if raw else DEFAULT_MERGE_THRESHOLD
        index = DynamoFaceIndex(getenv("SHOEBOX_TABLE", "") or "", threshold=threshold, merge_threshold=merge)
        labels = None
        if mode == "hybrid":
            from shoebox.recognition.rekognition import RekognitionRecognizer

            labels = RekognitionRecognizer.from_env(labels_only=True)
        return cls(mode, index, labels=labels, local_options={
            "min_confidence": float(setting("SHOEBOX_LABELS_MIN_CONFIDENCE", 30)),
            "max_labels": int(setting("SHOEBOX_LABELS_MAX", 12))})

    @property
    def offline(self) -> Any:
        """The offline recognizer (models loaded lazily, once per process) filing into this index."""
        if self._offline is None:
            from shoebox.recognition.local import LocalRecognizer

            self._offline = LocalRecognizer(index=self.index,
                                            person_label=self.name == "local", **self._local_options)
        return self._offline

    def _via(self, delegate: Any, call: Any) -> Any:
        """Run ``call`` on a delegate and count its calls as this recognizer's (per-photo accounting)."""
        with delegate.track() as used:
            result = call()
        for api, n in used.items():
            for _ in range(n):
                self._count(api)
        return result

    # ------------------------------------------------------------ Recognizer
    def detect_labels(self, image: ImageRef) -> list[Label]:
        source = self._rekognition if self.name == "hybrid" else self.offline
        return self._via(source, lambda: source.detect_labels(image))

    def index_faces(self, image: ImageRef, photo_id: str) -> list[Face]:
        return self._via(self.offline, lambda: self.offline.index_faces(image, photo_id))

    def remove_faces(self, face_ids: list[str]) -> None:
        if face_ids:
            self.index.remove(list(face_ids))
        self._count("DeleteFaces")

    def keep_apart(self, person_ids: list[str]) -> list[FaceMove]:
        ids = list(dict.fromkeys(person_ids))
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                self.index.keep_apart(a, b)
        return []  # the DynamoDB index leaves merged faces where they were filed (dynamo_index.keep_apart)

    def filed_as(self, face_ids: list[str]) -> dict[str, str]:
        return self.index.filed_as(list(face_ids))

    def similar_people(self, person_ids: list[str]) -> list[PeopleMatch]:
        return [PeopleMatch(a, b, sim) for a, b, sim in self.index.similar()]

    def people(self) -> dict[str, list[str]]:
        return self.index.people()


__all__ = ["IndexedRecognizer", "MODES"]
