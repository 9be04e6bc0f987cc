"""The hybrid/local recognizers on AWS (recognition/indexed.py): offline face models, faces filed in the
DynamoDB face index, labels from Rekognition (hybrid). Run on the local runtime's moto S3/DynamoDB/
Rekognition, reading the view images from S3 as the Lambda does."""

from __future__ import annotations

import subprocess
import sys

import pytest

from shoebox import aws
from shoebox.recognition import ImageRef
from shoebox.recognition.dynamo_index import DynamoFaceIndex
from shoebox.recognition.indexed import IndexedRecognizer
from shoebox.recognition.local.evaluate import view_jpeg
from shoebox.recognition.rekognition import RekognitionRecognizer


@pytest.fixture
def rt(home):
    from shoebox.local import LocalRuntime

    with LocalRuntime(home, recognizer="none", workflows=False) as runtime:
        yield runtime


def put_view(rt, path) -> ImageRef:
    key = f"thumbnails/{path.name}.jpg"
    aws.client("s3").put_object(Bucket=rt.bucket, Key=key, Body=view_jpeg(path))
    return ImageRef(rt.bucket, key)  # no bytes: the recognizer reads S3 like the Lambda


def test_hybrid_groups_real_faces_in_dynamodb_and_labels_come_from_rekognition(rt, real_faces):
    rec = IndexedRecognizer("hybrid", DynamoFaceIndex(rt.table), labels=RekognitionRecognizer("(none)"))
    names = ["barack_obama_1.jpg", "barack_obama_2.jpg", "bald_bruce_willis_1.jpg", "barack_obama_3.jpg"]
    people = {}
    for name in names:
        with rec.track() as used:
            faces = rec.index_faces(put_view(rt, real_faces / name), photo_id=f"originals/{name}")
        assert len(faces) == 1 and faces[0].face_id.startswith("f-")
        assert used == {"DetectFaces": 1, "IndexFaces": 1}  # offline work, no Rekognition face call
        people[name] = faces[0].person_id
    assert people["barack_obama_1.jpg"] == people["barack_obama_2.jpg"] == people["barack_obama_3.jpg"]
    assert people["bald_bruce_willis_1.jpg"] != people["barack_obama_1.jpg"]
    assert sorted(map(len, rec.people().values())) == [1, 3]

    with rec.track() as used:
        labels = rec.detect_labels(put_view(rt, real_faces / names[0]))
    assert used == {"DetectLabels": 1} and labels  # moto's Rekognition answers DetectLabels

    gone = rec.index_faces(put_view(rt, real_faces / names[2]), photo_id=f"originals/{names[2]}")
    rec.remove_faces([gone[0].face_id])
    assert sorted(map(len, rec.people().values())) == [3]


def test_get_recognizer_picks_the_dynamodb_index_for_hybrid_and_for_local_on_aws(monkeypatch):
    from shoebox.recognition import registry

    monkeypatch.setenv("SHOEBOX_TABLE", "t")
    registry.get_recognizer.cache_clear()
    try:
        assert isinstance(registry.get_recognizer("hybrid"), IndexedRecognizer)
        monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
        assert not isinstance(registry.get_recognizer("local"), IndexedRecognizer)  # the local runtime: files
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "shoebox-IndexFacesFunction")
        registry.get_recognizer.cache_clear()
        local = registry.get_recognizer("local")
        assert isinstance(local, IndexedRecognizer) and local.name == "local"
    finally:
        registry.get_recognizer.cache_clear()


def test_functions_that_only_file_faces_do_not_import_the_models():
    """Persist, RemovePhoto and RecordFailure use the recognizer for the index only: their package holds
    no OpenCV or onnxruntime (IndexFaces carries the models in its own)."""
    code = ("import sys; import shoebox.steps.persist, shoebox.steps.remove_photo, shoebox.steps.record_failure;"
            "from shoebox.recognition.indexed import IndexedRecognizer;"
            "print(sorted(m for m in ('cv2', 'onnxruntime', 'onnx') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_deployed_stacks_mode_comes_from_its_recognizer_parameter():
    from shoebox.recognition.registry import stack_mode

    assert stack_mode({"Parameters": [{"ParameterKey": "Recognizer", "ParameterValue": "hybrid"}]}) == "hybrid"
    assert stack_mode({"Parameters": [{"ParameterKey": "LogLevel", "ParameterValue": "INFO"}]}) == "rekognition"
    assert stack_mode({}) == "rekognition"  # a stack deployed before the parameter existed


def test_people_commands_on_a_hybrid_stack_ask_its_dynamodb_face_index(rt, monkeypatch):
    import numpy as np

    from shoebox.recognition import registry

    rng = np.random.default_rng(3)
    base_vec = rng.normal(size=128)
    emb = lambda: (v := base_vec + rng.normal(0, 0.01, 128)) / np.linalg.norm(v)  # noqa: E731
    box = {"left": 0.1, "top": 0.1, "width": 0.2, "height": 0.2}
    a = DynamoFaceIndex(rt.table).add("a.jpg", [(box, 99.0, emb())])[0]
    deployed = {"hybrid-stack": "hybrid", "old-stack": "rekognition"}
    monkeypatch.setattr(registry, "deployed_mode", deployed.__getitem__)  # DescribeStacks' Recognizer
    registry._mode_of.cache_clear()
    registry.index_recognizer.cache_clear()
    try:
        assert registry.stack_index_recognizer("old-stack", rt.table) is None  # its collection answers
        rec = registry.stack_index_recognizer("hybrid-stack", rt.table)
        assert rec.filed_as([a.face_id, "f-gone"]) == {a.face_id: a.person_id}
        assert rec.similar_people([a.person_id]) == []  # one person: nobody to compare with
        assert rec.keep_apart([a.person_id, "p-other"]) == []
    finally:
        registry._mode_of.cache_clear()
        registry.index_recognizer.cache_clear()
