"""The real process_photo ASL, run by moto's interpreter, started by an S3 upload (nothing else called)."""

from __future__ import annotations

import io
import json
from datetime import datetime

from PIL import Image

from photo_factory import jpeg_bytes
from shoebox import executions as views
from shoebox.catalog import Catalog
from shoebox.errors import RecognitionThrottled


def test_upload_runs_every_state_and_writes_thumbnails_and_catalog_row(runtime):
    key = "originals/2006/10/04/IMG_00001.jpg"
    runtime.s3.put_object(Bucket=runtime.bucket, Key=key, Body=jpeg_bytes((2400, 1600), when=datetime(2006, 10, 4, 14, 3)))
    runtime.wait_queued()  # its event went through the upload queue and its starter
    arns = runtime.started[key]  # the upload alone started it
    assert len(arns) == 1
    assert runtime.wait(arns) == {arns[0]: "SUCCEEDED"}

    record = runtime.execution_record(arns[0])
    entered = [s["name"] for s in views.states(record["events"])]
    assert entered == ["ExtractObject", "Classify", "IsVideo", "Thumbnail", "DetectLabels", "PersonSeen", "Persist", "Done"]
    assert all(s["status"] == "succeeded" for s in views.states(record["events"]))

    view = Image.open(io.BytesIO(runtime.s3.get_object(Bucket=runtime.bucket, Key="thumbnails/2006/10/04/IMG_00001.jpg.jpg")["Body"].read()))
    grid = Image.open(io.BytesIO(runtime.s3.get_object(Bucket=runtime.bucket, Key="thumbnails/2006/10/04/IMG_00001.jpg.sm.jpg")["Body"].read()))
    assert view.size == (1920, 1280) and grid.size == (320, 213)

    photo = Catalog(runtime.table).get_photo(key)
    assert photo.status == "processed" and photo.format == "jpeg"
    assert photo.taken_at.startswith("2006-10-04T14:03")
    assert photo.thumbnails["view"] == {"key": "thumbnails/2006/10/04/IMG_00001.jpg.jpg", "width": 1920, "height": 1280}
    assert photo.execution == arns[0]
    assert json.loads(record["describe"]["output"])["status"] == "processed"


def test_a_transient_throttle_is_retried_and_recovers(runtime):
    attempts = {"n": 0}

    def throttle_first_label_call(spec, payload):
        if spec.logical_id == "DetectLabelsFunction":
            attempts["n"] += 1
            if attempts["n"] == 1:
                raise RecognitionThrottled("Rekognition ThrottlingException: Rate exceeded")

    runtime.bridge.interceptors.append(throttle_first_label_call)
    arn = runtime.upload(jpeg_bytes(), "originals/2020/01/01/throttled.jpg")
    assert runtime.wait([arn])[arn] == "SUCCEEDED"
    assert attempts["n"] == 2
    labels_state = next(s for s in views.states(runtime.execution_record(arn)["events"]) if s["name"] == "DetectLabels")
    assert labels_state["retries"] == 1 and labels_state["status"] == "succeeded"
    assert "RecognitionThrottled" in labels_state["error"]
    assert Catalog(runtime.table).get_photo("originals/2020/01/01/throttled.jpg").status == "processed"


def test_a_corrupt_jpeg_ends_in_record_failure_with_a_readable_reason(runtime):
    good = jpeg_bytes((1200, 900))
    arn = runtime.upload(good[: len(good) // 2], "originals/2020/01/01/broken.jpg")
    assert runtime.wait([arn])[arn] == "FAILED"
    detail = views.detail(runtime.execution_record(arn))
    by_name = {s["name"]: s for s in detail["states"]}
    assert by_name["Thumbnail"]["status"] == "failed"
    assert "RecordFailure" in by_name and by_name["RecordFailure"]["status"] == "succeeded"
    assert detail["error"].startswith("ImageError: truncated jpeg")
    failed = Catalog(runtime.table).list_failed()
    assert [(r.key, r.failed_step) for r in failed] == [("originals/2020/01/01/broken.jpg", "thumbnail")]
    assert failed[0].error.startswith("ImageError: truncated jpeg")


def test_writing_thumbnails_never_starts_an_execution(runtime):
    runtime.s3.put_object(Bucket=runtime.bucket, Key="thumbnails/2020/01/01/x.jpg.jpg", Body=jpeg_bytes())
    runtime.s3.put_object(Bucket=runtime.bucket, Key="backfill/run/manifest.json", Body=b"{}")
    assert runtime.started == {}
    assert runtime.sfn.list_executions(stateMachineArn=runtime.state_machine_arn())["executions"] == []


def test_each_bad_input_fails_alone_and_good_photos_still_process(runtime):
    uploads = {
        "originals/2020/02/02/empty.jpg": b"",
        "originals/2020/02/02/notes.NEF": b"just some text\n" * 10,
        "originals/2020/02/02/random.jpg": bytes(range(256)) * 40,
        "originals/2020/02/02/good.jpg": jpeg_bytes(),
    }
    arns = {key: runtime.upload(body, key) for key, body in uploads.items()}
    statuses = runtime.wait(arns.values())
    assert statuses[arns["originals/2020/02/02/good.jpg"]] == "SUCCEEDED"
    catalog = Catalog(runtime.table)
    errors = {key: catalog.get_photo(key).error for key in uploads}
    assert errors["originals/2020/02/02/empty.jpg"] == "UnsupportedFormat: zero-byte object"
    assert errors["originals/2020/02/02/notes.NEF"].startswith("UnsupportedFormat: not an image")
    assert errors["originals/2020/02/02/random.jpg"].startswith("UnsupportedFormat")
    assert errors["originals/2020/02/02/good.jpg"] is None
    assert {r.key for r in catalog.list_failed()} == set(uploads) - {"originals/2020/02/02/good.jpg"}


def test_reprocessing_replaces_rows_instead_of_duplicating(runtime):
    key = "originals/2019/05/05/again.jpg"
    first = runtime.upload(jpeg_bytes(when=datetime(2019, 5, 5, 9, 0)), key)
    runtime.wait([first])
    second = runtime.upload(jpeg_bytes(when=datetime(2018, 4, 4, 9, 0), color=(10, 200, 10)), key)
    runtime.wait([second])
    catalog = Catalog(runtime.table)
    assert [r["key"] for r in catalog.query_partition("YEAR#2018")] == [key]
    assert list(catalog.query_partition("YEAR#2019")) == []
    assert catalog.get_photo(key).execution == second


def test_a_photo_that_fails_after_indexing_faces_keeps_none(runtime, monkeypatch):
    import shoebox.steps.detect_labels as detect_labels
    import shoebox.steps.index_faces as index_faces
    import shoebox.steps.record_failure as record_failure
    from shoebox.catalog.people import People
    from shoebox.recognition.base import Face, Label, NoRecognizer

    removed: list[str] = []

    class OneFace(NoRecognizer):
        name = "one-face"

        def detect_labels(self, image):
            return [Label("Person", 99.0)]

        def index_faces(self, image, photo_id):
            return [Face("f-1", {"left": 0.1, "top": 0.1, "width": 0.2, "height": 0.2}, 99.0, "p-ann")]

        def remove_faces(self, face_ids):
            removed.extend(face_ids)

    recognizer = OneFace()
    for module in (detect_labels, index_faces, record_failure):
        monkeypatch.setattr(module, "get_recognizer", lambda name=None: recognizer)

    def persist_breaks(spec, payload):
        if spec.logical_id == "PersistFunction":
            raise RuntimeError("table unavailable")

    runtime.bridge.interceptors.append(persist_breaks)
    key = "originals/2020/04/04/ann.jpg"
    arn = runtime.upload(jpeg_bytes(), key)
    assert runtime.wait([arn])[arn] == "FAILED"
    photo = Catalog(runtime.table).get_photo(key)
    assert photo.status == "failed" and photo.failed_step == "persist" and photo.faces == []
    assert removed == ["f-1"]  # the face IndexFaces added is forgotten again
    assert all(p["photos"] == 0 for p in People(Catalog(runtime.table)).list_people(include_empty=True))


def test_a_lambda_service_error_is_retried_under_its_lambda_name(runtime):
    """The Invoke call itself fails (the function never runs): Step Functions sees Lambda.ServiceException,
    which the Retry lists, and the photo is processed once the service answers again."""
    from shoebox.local.lambda_bridge import InvokeError

    ran = {"n": 0}

    def service_error_once(spec, payload):
        if spec.logical_id == "ThumbnailFunction":
            ran["n"] += 1
            if ran["n"] == 1:
                raise InvokeError("ServiceException", 500, "Lambda is unavailable")

    runtime.bridge.interceptors.append(service_error_once)
    arn = runtime.upload(jpeg_bytes(), "originals/2020/01/02/service.jpg")
    assert runtime.wait([arn])[arn] == "SUCCEEDED"
    state = next(s for s in views.states(runtime.execution_record(arn)["events"]) if s["name"] == "Thumbnail")
    assert state["retries"] == 1 and state["error"].startswith("recovered after 1 retry: Lambda.ServiceException")
    assert [i.function for i in runtime.bridge.invocations].count("ThumbnailFunction") == 1  # never ran on the 500


def test_the_row_carries_the_etag_of_the_uploaded_version(runtime):
    """AWS's S3 event names it ``etag`` (moto's ``eTag``): the run knows which version it processed."""
    key = "originals/2020/01/03/etag.jpg"
    arn = runtime.upload(jpeg_bytes(), key)
    runtime.wait([arn])
    event = json.loads(runtime.sfn.describe_execution(executionArn=arn)["input"])
    etag = runtime.s3.head_object(Bucket=runtime.bucket, Key=key)["ETag"].strip('"')
    assert event["detail"]["object"]["etag"] == etag and "eTag" not in event["detail"]["object"]
    assert Catalog(runtime.table).get_photo(key).etag == etag
