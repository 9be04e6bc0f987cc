"""The `local` mode as it runs on AWS, end to end through the real ASL: the offline models in DetectLabels
and IndexFaces, faces filed in the DynamoDB face index (SHOEBOX_FACE_INDEX=dynamodb, what a Lambda
function gets), the catalog's people written by Persist from it. Same functions as the stack's."""

from __future__ import annotations

import pytest

from shoebox.recognition import registry
from shoebox.recognition.dynamo_index import DynamoFaceIndex
from shoebox.recognition.local.evaluate import view_jpeg


@pytest.fixture
def aws_local(home, monkeypatch):
    from shoebox.local import LocalRuntime

    pytest.importorskip("cv2")
    monkeypatch.setenv("SHOEBOX_FACE_INDEX", "dynamodb")
    registry.get_recognizer.cache_clear()  # built per process: not the file-index `local` of another test
    try:
        with LocalRuntime(home, recognizer="local", retry_sleep_scale=0) as rt:
            yield rt
    finally:
        registry.get_recognizer.cache_clear()


def test_people_come_from_the_dynamodb_face_index(aws_local, real_faces):
    rt = aws_local
    photos = {f"originals/2020/{name}": name for name in
              ("barack_obama_1.jpg", "barack_obama_2.jpg", "bald_bruce_willis_1.jpg")}
    arns = []
    for key, name in photos.items():
        rt.s3.put_object(Bucket=rt.bucket, Key=key, Body=view_jpeg(real_faces / name))
        rt.wait_queued()  # through the upload queue and its starter
        arns += rt.started[key]
    assert set(rt.wait(arns).values()) == {"SUCCEEDED"}

    from shoebox.catalog import Catalog
    from shoebox.catalog.people import People

    catalog = Catalog(rt.table)
    filed = {name: [f["person_id"] for f in catalog.get_photo(key).faces] for key, name in photos.items()}
    assert all(len(v) == 1 for v in filed.values())
    assert filed["barack_obama_1.jpg"] == filed["barack_obama_2.jpg"] != filed["bald_bruce_willis_1.jpg"]
    assert not (rt.home / "faces").exists()  # nothing in the file index: it is all in the table
    index = DynamoFaceIndex(rt.table).people()
    assert sorted(map(len, index.values())) == [1, 2]
    assert set(index) == {filed["barack_obama_1.jpg"][0], filed["bald_bruce_willis_1.jpg"][0]}
    listed = {p.id: p.photos for p in People(catalog).list_people()}
    assert listed == {filed["barack_obama_1.jpg"][0]: 2, filed["bald_bruce_willis_1.jpg"][0]: 1}
