"""Several runs of one photo at once: a second delivery of the upload, a re-upload while the first version
is processed, a delete while it is processed. The last writer is always the newest version's run (or the
removal), and no run leaves faces, rows or thumbnails behind (catalog/lease.py, steps/versions.py)."""

from __future__ import annotations

import io
import json
import threading

import pytest
from PIL import Image

from photo_factory import jpeg_bytes
from shoebox.catalog import Catalog
from shoebox.catalog.people import People
from shoebox.executions import execution_name
from shoebox.local import router
from shoebox.local.rekognition_emulator import Analysis, RekognitionEmulator, SeenFace

RED, BLUE = (200, 30, 30), (30, 30, 200)
KEY = "originals/2020/05/05/run.jpg"


def colour(data: bytes) -> tuple[int, ...]:
    """The colour of a one-colour picture, to the nearest 50 (JPEG moves it a little)."""
    r, g, b = Image.open(io.BytesIO(data)).convert("RGB").resize((1, 1)).getpixel((0, 0))
    return tuple(50 * round(c / 50) for c in (r, g, b))


@pytest.fixture
def rt(home):
    """The local runtime with the real rekognition recognizer against the emulated collection: each
    picture shows one face, of the person its colour stands for."""
    from shoebox import aws
    from shoebox.local import LocalRuntime
    from shoebox.recognition.registry import get_recognizer

    with LocalRuntime(home, recognizer="rekognition", retry_sleep_scale=0, persist=False) as runtime:
        s3 = aws.client("s3")
        runtime.emulator = RekognitionEmulator(
            read_object=lambda bucket, key: s3.get_object(Bucket=bucket, Key=key)["Body"].read(),
            analyse=lambda data: Analysis([{"Name": "Person", "Confidence": 99.0, "Parents": []}],
                                          [SeenFace({"Left": 0.2, "Top": 0.2, "Width": 0.3, "Height": 0.3},
                                                    str(colour(data)))]))
        runtime.emulator.attach(get_recognizer("rekognition").client)
        try:
            yield runtime
        finally:
            runtime.emulator.detach()


def settle(rt) -> None:
    seen: set[str] = set()
    while set(a for arns in list(rt.started.values()) for a in arns) - seen:
        arns = {a for arns in list(rt.started.values()) for a in arns}
        rt.wait(arns, timeout=60)
        seen = arns


def faces_in_collection(rt, key: str) -> list[str]:
    return sorted(f.signature for f in rt.emulator.faces.values() if f.photo == key)


def view_colour(rt, key: str) -> tuple[int, ...]:
    view = "thumbnails/" + key[len("originals/"):] + ".jpg"
    return colour(rt.s3.get_object(Bucket=rt.bucket, Key=view)["Body"].read())


def test_two_deliveries_of_one_upload_leave_one_row_and_one_set_of_faces(rt):
    both_indexed = threading.Barrier(2, timeout=30)

    def meet_before_persist(spec, payload):  # both runs have indexed their faces before either persists
        if spec.logical_id == "PersistFunction":
            both_indexed.wait()

    rt.bridge.interceptors.append(meet_before_persist)
    first = rt.upload(jpeg_bytes(color=RED), KEY)
    event = rt.sfn.describe_execution(executionArn=first)["input"]
    second = rt.sfn.start_execution(stateMachineArn=rt.state_machine_arn(), name=execution_name(KEY),
                                    input=event)["executionArn"]
    assert rt.wait([first, second]) == {first: "SUCCEEDED", second: "SUCCEEDED"}
    record = Catalog(rt.table).get_photo(KEY)
    # the row's faces are the only ones of the photo in the collection: the other run's went with its row
    assert [f.face_id for f in rt.emulator.faces.values() if f.photo == KEY] == [f["face_id"] for f in record.faces]
    (person,) = People(Catalog(rt.table)).list_people()
    assert (person.faces, person.photos) == (1, 1)


@pytest.mark.parametrize("step", ["ClassifyFunction", "ThumbnailFunction", "IndexFacesFunction", "PersistFunction"])
def test_a_delete_while_the_photo_is_processed_leaves_nothing(rt, step):
    done = []

    def delete_before(spec, payload):  # the user deletes it, and the removal runs to its end, before `step`
        if spec.logical_id == step and not done:
            done.append(True)
            rt.s3.delete_object(Bucket=rt.bucket, Key=KEY)
            rt.wait([a for a in rt.started[KEY] if "RemovePhoto" in a], timeout=60)

    rt.bridge.interceptors.append(delete_before)
    arn = rt.upload(jpeg_bytes(color=RED), KEY)
    settle(rt)
    assert done and rt.wait([arn])[arn] == "SUCCEEDED"  # not a failed photo: a deleted one
    catalog = Catalog(rt.table)
    assert catalog.get_photo(KEY) is None and catalog.list_failed() == []
    assert rt.s3.list_objects_v2(Bucket=rt.bucket).get("KeyCount") == 0  # no thumbnail, no cover crop
    assert faces_in_collection(rt, KEY) == []
    assert all(p.faces == 0 for p in People(catalog).list_people(include_empty=True))


def test_a_reupload_while_the_first_version_is_processed_ends_with_the_new_version(rt):
    done = []

    def reupload_before_persist(spec, payload):  # version 2 is uploaded and fully processed first
        if spec.logical_id == "PersistFunction" and not done:
            done.append(rt.upload(jpeg_bytes(color=BLUE), KEY))
            rt.wait(done, timeout=60)

    rt.bridge.interceptors.append(reupload_before_persist)
    first = rt.upload(jpeg_bytes(color=RED), KEY)
    settle(rt)
    assert rt.wait([first, done[0]]) == {first: "SUCCEEDED", done[0]: "SUCCEEDED"}
    record = Catalog(rt.table).get_photo(KEY)
    assert record.etag == rt.s3.head_object(Bucket=rt.bucket, Key=KEY)["ETag"].strip('"')
    assert record.execution == done[0]
    assert view_colour(rt, KEY) == colour(jpeg_bytes(color=BLUE))
    assert faces_in_collection(rt, KEY) == [str(colour(jpeg_bytes(color=BLUE)))]


def test_thumbnails_of_an_earlier_version_never_overwrite_the_newer_ones(rt, monkeypatch):
    from shoebox.steps import thumbnail

    real_render, done = thumbnail.render, []

    def render_while_reuploaded(source, **kwargs):  # version 2 comes and is processed while 1 renders
        rendition = real_render(source, **kwargs)
        if not done:
            done.append(rt.upload(jpeg_bytes(color=BLUE), KEY))
            rt.wait(done, timeout=60)
        return rendition

    monkeypatch.setattr(thumbnail, "render", render_while_reuploaded)
    first = rt.upload(jpeg_bytes(color=RED), KEY)
    settle(rt)
    assert rt.wait([first])[first] == "SUCCEEDED"
    assert view_colour(rt, KEY) == colour(jpeg_bytes(color=BLUE))
    assert Catalog(rt.table).get_photo(KEY).execution == done[0]


def test_a_failure_under_a_url_encoded_key_is_recorded_not_taken_for_a_delete(rt):
    """EventBridge may send "my+photo.jpg" for "my photo.jpg": Classify's failure is the photo's own."""

    key = "originals/2020/05/05/my photo.jpg"
    router.paused.set()  # only the event below starts a run
    try:
        rt.s3.put_object(Bucket=rt.bucket, Key=key, Body=b"not a picture at all" * 10)
    finally:
        router.paused.clear()
    etag = rt.s3.head_object(Bucket=rt.bucket, Key=key)["ETag"].strip('"')
    event = {"source": "aws.s3", "detail-type": "Object Created", "detail": {
        "bucket": {"name": rt.bucket}, "object": {"key": key.replace(" ", "+"), "size": 200, "etag": etag}}}
    arn = rt.sfn.start_execution(stateMachineArn=rt.state_machine_arn(), name=execution_name(key),
                                 input=json.dumps(event))["executionArn"]
    assert rt.wait([arn])[arn] == "FAILED"
    assert [r.error.split(":")[0] for r in Catalog(rt.table).list_failed()] == ["UnsupportedFormat"]
