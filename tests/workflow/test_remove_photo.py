"""Deleting an original removes what was derived from it: catalog rows, thumbnails, faces, search hits."""

from __future__ import annotations

from datetime import datetime

from photo_factory import jpeg_bytes
from shoebox.catalog import Catalog
from shoebox.search.execute import Searcher


def test_deleting_an_original_removes_its_rows_and_thumbnails(runtime):
    keep, gone = "originals/2007/07/14/keep.jpg", "originals/2007/07/15/gone.jpg"
    runtime.wait([runtime.upload(jpeg_bytes(when=datetime(2007, 7, 14, 9, 0)), keep),
                  runtime.upload(jpeg_bytes(when=datetime(2007, 7, 15, 9, 0)), gone)])
    catalog = Catalog(runtime.table)
    assert {r["key"] for r in Searcher(catalog).search("2007").rows} == {keep, gone}

    runtime.s3.delete_object(Bucket=runtime.bucket, Key=gone)  # what a user does in the S3 console
    (arn,) = [a for a in runtime.started[gone] if "RemovePhotoStateMachine" in a]
    assert runtime.wait([arn])[arn] == "SUCCEEDED"

    assert catalog.get_photo(gone) is None
    assert [r["key"] for r in Searcher(catalog).search("2007").rows] == [keep]
    listed = {o["Key"] for o in runtime.s3.list_objects_v2(Bucket=runtime.bucket).get("Contents", [])}
    assert listed == {keep, "thumbnails/2007/07/14/keep.jpg.jpg", "thumbnails/2007/07/14/keep.jpg.sm.jpg"}
    assert catalog.get_photo(keep).status == "processed"


def test_deleting_a_thumbnail_starts_nothing(runtime):
    key = "originals/2007/07/14/keep.jpg"
    runtime.wait([runtime.upload(jpeg_bytes(), key)])
    runtime.s3.delete_object(Bucket=runtime.bucket, Key="thumbnails/2007/07/14/keep.jpg.jpg")
    assert list(runtime.started) == [key] and len(runtime.started[key]) == 1


def test_a_url_encoded_key_in_the_event_removes_the_photo_it_stands_for(runtime):
    """EventBridge may send "my+photo.jpg" for "my photo.jpg": the removal acts on the cataloged one."""
    from shoebox.steps import remove_photo

    class Context:
        function_name, memory_limit_in_mb, aws_request_id = "fn", 128, "req"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:fn"

    key, encoded = "originals/2007/07/14/my photo.jpg", "originals/2007/07/14/my+photo.jpg"
    runtime.wait([runtime.upload(jpeg_bytes(), key)])
    catalog = Catalog(runtime.table)
    record = catalog.get_photo(key)
    # the original is still there: kept, whichever name the event used
    assert remove_photo.handler({"bucket": runtime.bucket, "key": encoded}, Context()) == {"key": key, "status": "kept"}
    # gone (its own removal ran), and its record back as if that event had been lost
    runtime.s3.delete_object(Bucket=runtime.bucket, Key=key)
    runtime.wait([a for a in runtime.started[key] if "RemovePhotoStateMachine" in a])
    catalog.put_photo(record)
    out = remove_photo.handler({"bucket": runtime.bucket, "key": encoded}, Context())
    assert (out["key"], out["status"], out["was_cataloged"]) == (key, "removed", True)
    assert catalog.get_photo(key) is None
