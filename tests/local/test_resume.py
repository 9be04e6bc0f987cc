"""A restart resumes the uploads the last runtime did not finish (its queue and executions were in memory)."""

from __future__ import annotations

import time
from datetime import datetime

from photo_factory import jpeg_bytes

from shoebox import PIPELINE_VERSION
from shoebox.local import LocalRuntime, router
from shoebox.local.resume import unfinished
from shoebox.models import PhotoRecord


def _row(key: str, status: str, etag: str | None, version: int = PIPELINE_VERSION, error: str | None = None) -> PhotoRecord:
    return PhotoRecord(key=key, status=status, etag=etag, pipeline_version=version, error=error)


def test_unfinished_is_what_no_run_finished():
    objects = [{"Key": k, "ETag": f'"{e}"'} for k, e in [
        ("originals/a.jpg", "1"), ("originals/b.jpg", "2"), ("originals/c.jpg", "3"), ("originals/d.jpg", "4"),
        ("originals/e.jpg", "5"), ("originals/f.jpg", "6"), ("originals/g.jpg", "8"), ("originals/folder/", "7")]]
    rows = {"originals/a.jpg": _row("originals/a.jpg", "processed", "1"),
            "originals/b.jpg": _row("originals/b.jpg", "processed", "old"),  # re-uploaded, its run lost
            "originals/d.jpg": _row("originals/d.jpg", "failed", "4", error="UnsupportedFormat: a PDF"),
            "originals/e.jpg": _row("originals/e.jpg", "failed", "5", error="RecognitionThrottled: busy"),
            # an upgrade's new pipeline version is the backfill's to re-run, not every start's
            "originals/f.jpg": _row("originals/f.jpg", "processed", "6", version=PIPELINE_VERSION - 1),
            "originals/g.jpg": _row("originals/g.jpg", "processed", None)}  # an old row without an ETag
    assert [o["Key"] for o in unfinished(objects, rows)] == ["originals/b.jpg", "originals/c.jpg"]


def _status(rt: LocalRuntime, key: str) -> str | None:
    from shoebox import aws

    item = aws.client("dynamodb").get_item(TableName=rt.table, Key={"pk": {"S": f"PHOTO#{key}"}, "sk": {"S": "PHOTO"}})
    return item.get("Item", {}).get("status", {}).get("S")


def test_a_restart_processes_what_was_stored_but_never_processed(home):
    when = datetime(2007, 6, 1, 12, 0)
    lost = [f"originals/2007/06/01/LOST_{i}.jpg" for i in range(3)]
    with LocalRuntime(home, recognizer="none", retry_sleep_scale=0) as rt:
        done = "originals/2007/06/01/DONE.jpg"
        rt.wait([rt.upload(jpeg_bytes((64, 48), (10, 20, 30), when), done)])
        assert _status(rt, done) == "processed"
        router.paused.set()  # stored, but the events die with the runtime (a kill -9 before they started)
        try:
            for i, key in enumerate(lost):
                rt.s3.put_object(Bucket=rt.bucket, Key=key, Body=jpeg_bytes((64, 48), (40 * i, 90, 9), when))
        finally:
            router.paused.clear()
        assert all(_status(rt, key) is None for key in lost)
    with LocalRuntime(home, recognizer="none", retry_sleep_scale=0) as rt:
        new = "originals/2007/06/01/NEW.jpg"  # uploaded at once: its own event runs it, the resume does not
        rt.upload(jpeg_bytes((64, 48), (200, 9, 9), when), new)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not all(_status(rt, key) == "processed" for key in lost):
            time.sleep(0.2)
        assert {key: _status(rt, key) for key in lost} == dict.fromkeys(lost, "processed")
        rt.wait([arn for arns in rt.started.values() for arn in arns])
        assert rt.restored["resumed"] == 3 and _status(rt, new) == "processed"
        assert {key: len(arns) for key, arns in rt.started.items()} == dict.fromkeys([*lost, new], 1)  # DONE: none


def test_an_ingest_meeting_a_resumed_upload_follows_its_run_instead_of_starting_another(home):
    """Right after a restart, the resume and a re-ingest both want to finish the same lost upload: they
    name its run alike, so Step Functions starts it once and the ingest waits on that run."""
    from shoebox import aws
    from shoebox.cli.backends import Backend

    when = datetime(2007, 6, 1, 12, 0)
    lost = [f"originals/2007/06/01/LOST_{i}.jpg" for i in range(4)]
    with LocalRuntime(home, recognizer="none", retry_sleep_scale=0) as rt:
        router.paused.set()
        try:
            for i, key in enumerate(lost):
                rt.s3.put_object(Bucket=rt.bucket, Key=key, Body=jpeg_bytes((64, 48), (40 * i, 90, 9), when))
        finally:
            router.paused.clear()
    with LocalRuntime(home, recognizer="none", retry_sleep_scale=0) as rt:
        backend = Backend(aws.Endpoint(region="us-east-1"), "shoebox", outputs={
            "BucketName": rt.bucket, "TableName": rt.table, "ProcessPhotoStateMachineArn": rt.state_machine_arn()})
        followed = [backend.finish_photo(key) for key in lost]  # while the resume sends the same events
        rt.wait([arn for _, arn in followed])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(_status(rt, key) == "processed" for key in lost):
            time.sleep(0.2)
        rt.wait([arn for arns in rt.started.values() for arn in arns])
        names = [e["name"] for e in rt.sfn.list_executions(stateMachineArn=rt.state_machine_arn())["executions"]]
        assert sorted(names) == sorted(arn.rsplit(":", 1)[1] for _, arn in followed)  # one run each
        assert {key: _status(rt, key) for key in lost} == dict.fromkeys(lost, "processed")
        assert rt.restored["resumed"] == 4


def test_an_ingest_does_not_follow_a_finished_run_that_left_no_row(home):
    """The shared name is spent once its run ends: an object still without a row then gets a new run."""
    from shoebox import aws
    from shoebox.cli.backends import Backend

    key = "originals/2007/06/01/LOST.jpg"
    with LocalRuntime(home, recognizer="none", retry_sleep_scale=0) as rt:
        router.paused.set()
        try:
            rt.s3.put_object(Bucket=rt.bucket, Key=key, Body=jpeg_bytes((64, 48), (9, 90, 9), datetime(2007, 6, 1)))
        finally:
            router.paused.clear()
        backend = Backend(aws.Endpoint(region="us-east-1"), "shoebox", outputs={
            "BucketName": rt.bucket, "TableName": rt.table, "ProcessPhotoStateMachineArn": rt.state_machine_arn()})
        _, first = backend.finish_photo(key)
        assert rt.wait([first])[first] == "SUCCEEDED" and _status(rt, key) == "processed"
        aws.client("dynamodb").delete_item(TableName=rt.table, Key={"pk": {"S": f"PHOTO#{key}"}, "sk": {"S": "PHOTO"}})
        _, second = backend.finish_photo(key)
        assert second != first
        rt.wait([second])
        assert _status(rt, key) == "processed"
