"""The Rekognition emulator (local/rekognition_emulator.py) keeps the collection rules the real recognizer
relies on, and answers faults the way the service does."""

from __future__ import annotations

import boto3
import pytest

from shoebox.errors import RecognitionThrottled
from shoebox.local.rekognition_emulator import Analysis, RekognitionEmulator, SeenFace
from shoebox.recognition.base import ImageRef
from shoebox.recognition.rekognition import CLIENT_CONFIG, RekognitionRecognizer

BOX = {"Left": 0.1, "Top": 0.1, "Width": 0.2, "Height": 0.2}


@pytest.fixture
def setup(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    images = {}  # key -> the people it shows (the "pixels")
    faults: list[str] = []
    emulator = RekognitionEmulator(read_object=lambda bucket, key: images[key].encode(),
                                   analyse=lambda data: Analysis(
                                       [{"Name": "Person", "Confidence": 99.0, "Parents": []}],
                                       [SeenFace(BOX, who) for who in data.decode().split(",") if who]),
                                   fault=lambda operation, photo: faults.pop(0) if faults and
                                   operation == "DetectLabels" else None)
    client = boto3.session.Session().client("rekognition", region_name="us-east-1", config=CLIENT_CONFIG)
    emulator.attach(client)
    return RekognitionRecognizer("faces", client=client, grouping="users"), emulator, images, faults


def test_faces_of_one_person_group_into_one_user_and_leave_cleanly(setup):
    rec, emulator, images, _ = setup
    images.update({"a.jpg": "ann", "b.jpg": "ann,bob"})
    first = rec.index_faces(ImageRef("bucket", "a.jpg"), photo_id="originals/a.jpg")
    second = rec.index_faces(ImageRef("bucket", "b.jpg"), photo_id="originals/b.jpg")
    assert second[0].person_id == first[0].person_id != second[1].person_id
    assert {f.photo for f in emulator.faces.values()} == {"originals/a.jpg", "originals/b.jpg"}
    # an associated face cannot be deleted: the recognizer disassociates it first, as on AWS
    rec.remove_faces([f.face_id for f in second])
    assert set(emulator.faces) == {first[0].face_id}
    assert emulator.calls[("DisassociateFaces", "originals/b.jpg")] == 2  # one per user


def test_a_throttle_is_an_error_response_the_recognizer_calls_retryable(setup):
    rec, emulator, images, faults = setup
    images["a.jpg"] = "ann"
    faults.append("ThrottlingException")
    with pytest.raises(RecognitionThrottled, match="DetectLabels ThrottlingException"):
        rec.detect_labels(ImageRef("bucket", "a.jpg"))
    assert [label.name for label in rec.detect_labels(ImageRef("bucket", "a.jpg"))] == ["Person"]
    assert emulator.errors[("DetectLabels", "a.jpg", "ThrottlingException")] == 1
    assert emulator.calls[("DetectLabels", "a.jpg")] == 1
