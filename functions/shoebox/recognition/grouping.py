"""What both face indexes share (the file index under SHOEBOX_HOME, recognition/local/index.py, and the
DynamoDB one, recognition/dynamo_index.py): the grouping thresholds and the record of an indexed face.
Importable without the offline models (no OpenCV, no onnxruntime)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

DEFAULT_THRESHOLD = 0.435  # cosine to a person's centroid; stricter than OpenCV's pairwise 0.363: see docs/recognition.md
DEFAULT_MERGE_THRESHOLD = 0.45  # cosine between two people's centroids for an automatic merge
# cosine between two people's centroids from which `shoebox people suggest` asks the user whether they are
# one person; on the face set a man's split groups (18 and 35 years old) meet at 0.34-0.35, while
# different people who never share a photo reach 0.43 (docs/recognition.md)
DEFAULT_SUGGEST_THRESHOLD = 0.30


@dataclass
class IndexedFace:
    face_id: str
    photo_id: str
    person_id: str
    bbox: dict[str, float]
    confidence: float
    embedding: np.ndarray
    joined: list[str] = field(default_factory=list)  # the merged group's ids when this face joined it
