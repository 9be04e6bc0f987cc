"""The offline models without OpenCV (imageops.py, faces.py, labels.py) against OpenCV itself, which the
models were tuned with: decoding, area resizing and warping give the same pixels; YuNet's decoded rows and
SFace's features agree within float tolerance; the whole face pipeline finds the same faces with the
same embeddings on the real photos. OpenCV is a dev dependency only: the IndexFaces Lambda carries none."""

from __future__ import annotations

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from shoebox.recognition.local import _faces, imageops  # noqa: E402
from shoebox.recognition.local.evaluate import OpenCVFaces, view_jpeg  # noqa: E402
from shoebox.recognition.local.faces import align_crop  # noqa: E402
from shoebox.recognition.local.labels import face_crop, preprocess  # noqa: E402


@pytest.fixture(scope="module")
def photos(real_faces):
    """Every face photo as the pipeline's 1920 px view image (bytes), and decoded both ways."""
    names = sorted(p.name for p in real_faces.glob("*.jpg"))
    views = [view_jpeg(real_faces / n) for n in names]
    return names, views


def cos(a, b) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_decoding_gives_opencvs_pixels(photos):
    for data in photos[1][:20]:
        ours = imageops.decode(data)
        theirs = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)[:, :, ::-1]
        assert np.array_equal(ours, theirs)


def test_area_resize_and_warp_give_opencvs_pixels(photos):
    rng = np.random.default_rng(3)
    img = imageops.decode(photos[1][0])
    h, w = img.shape[:2]
    for size in [(1280, round(1280 * h / w)), (w // 2, h // 2), (w // 4, h // 4), (320, 213), (224, 224),
                 (97, 61), (300, 1200), (2 * w // 3, h // 5)]:
        theirs = cv2.resize(np.ascontiguousarray(img), size, interpolation=cv2.INTER_AREA)
        assert np.array_equal(imageops.resize_area(img, size), theirs), size
    crop = img[100:190, 300:350]  # enlarged to the label model's 224 × 224 (a small face's crop)
    theirs = cv2.resize(np.ascontiguousarray(crop), (224, 224), interpolation=cv2.INTER_AREA)
    assert np.array_equal(imageops.resize_area(crop, (224, 224)), theirs)
    theirs = cv2.resize(np.ascontiguousarray(crop), (224, 300), interpolation=cv2.INTER_LINEAR)
    diff = np.abs(imageops.resize_linear(crop, (224, 300)).astype(int) - theirs)
    assert diff.max() <= 1 and (diff > 0).mean() < 0.01  # OpenCV's SIMD rounding, in a few pixels
    for _ in range(20):  # similarity transforms, some reaching past the image's edges
        angle, scale = rng.uniform(-0.6, 0.6), rng.uniform(0.2, 3)
        m = np.array([[scale * np.cos(angle), -scale * np.sin(angle), rng.uniform(-w / 2, 50)],
                      [scale * np.sin(angle), scale * np.cos(angle), rng.uniform(-h / 2, 50)]])
        theirs = cv2.warpAffine(np.ascontiguousarray(img), m, (112, 112), flags=cv2.INTER_LINEAR)
        assert np.array_equal(imageops.warp_affine(img, m, (112, 112)), theirs)


def test_face_detection_alignment_and_embedding_match_opencv(photos):
    """Stage by stage on every photo, each stage fed the same input: YuNet's rows (boxes, landmarks,
    scores), the aligned crop, SFace's feature; then the whole pipeline end to end."""
    ref, engine = OpenCVFaces(), _faces()
    faces = 0
    for name, data in zip(*photos):
        bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        small_cv, rows_cv = ref.detect(bgr)
        small, rows = engine.detect(imageops.decode(data))
        assert np.array_equal(small, small_cv[:, :, ::-1]), name
        assert rows.shape == rows_cv.shape, name
        order, order_cv = np.lexsort(rows[:, :2].T), np.lexsort(rows_cv[:, :2].T)
        assert np.allclose(rows[order, :14], rows_cv[order_cv, :14], atol=0.05), name
        assert np.allclose(rows[order, 14], rows_cv[order_cv, 14], atol=1e-4), name
        for row in rows_cv:  # the same landmarks into both aligners and the same crop into both embedders
            crop_cv = ref.rec.alignCrop(small_cv, row)
            crop = align_crop(small, row)
            assert np.abs(crop.astype(int) - crop_cv[:, :, ::-1]).max() <= 1, name
            assert cos(engine.embed(crop_cv[:, :, ::-1]), ref.rec.feature(crop_cv).reshape(-1)) > 0.99999, name
        ours = [f.embedding for f in engine.faces(imageops.decode(data))]
        theirs = ref.embeddings(small_cv, rows_cv[np.argsort(rows_cv[:, 0])])
        assert len(ours) == len(theirs), name
        for a, b in zip(ours, theirs):
            assert cos(a, b) > 0.9999, name
        faces += len(ours)
    assert faces >= 140  # the set's 145 faces


def test_label_inputs_match_opencvs(photos):
    """The label model's two views and a face's crop for the animal check, as OpenCV resized them."""
    img = imageops.decode(photos[1][3])
    bgr = np.ascontiguousarray(img[:, :, ::-1])
    h, w = img.shape[:2]
    scale = 256 / min(h, w)
    nw, nh = round(w * scale), round(h * scale)
    im = cv2.resize(bgr, (nw, nh), interpolation=cv2.INTER_AREA)
    y, x = (nh - 224) // 2, (nw - 224) // 2
    whole = cv2.resize(im, (224, 224), interpolation=cv2.INTER_AREA)
    views = preprocess(img)
    for view, theirs in zip(views, (im[y:y + 224, x:x + 224], whole)):
        assert np.array_equal(view, ((theirs[:, :, ::-1].astype(np.float32) - 127) / 128).transpose(2, 0, 1))
    for bbox in ({"left": 0.4, "top": 0.2, "width": 0.02, "height": 0.03}, {"left": 0.1, "top": 0.1, "width": 0.5, "height": 0.7}):
        bw, bh = bbox["width"] * w, bbox["height"] * h
        cx, cy = bbox["left"] * w + bw / 2, bbox["top"] * h + bh / 2
        half = max(bw, bh) * 1.6 / 2
        x0, y0, x1, y1 = int(max(0, cx - half)), int(max(0, cy - half)), int(min(w, cx + half)), int(min(h, cy + half))
        step = max(1, min(y1 - y0, x1 - x0) // 448)
        theirs = cv2.resize(np.ascontiguousarray(bgr[y0:y1:step, x0:x1:step]), (224, 224), interpolation=cv2.INTER_AREA)
        assert np.array_equal(face_crop(img, bbox), ((theirs[:, :, ::-1].astype(np.float32) - 127) / 128).transpose(2, 0, 1))
