"""Backfill end to end in the local runtime: the real backfill ASL, CheckDone and the per-photo steps."""

from __future__ import annotations

import json
import random

import pytest
from typer.testing import CliRunner

from shoebox.backfill.run import local_target, run_backfill, run_status
from shoebox.catalog import Catalog
from shoebox.local import router
from photo_factory import jpeg_bytes

BAD = {  # not images; each must end as a recorded failure, never kill the run
    "originals/2019/03/notes.jpg": b"just some text, not a photo\n" * 4,
    "originals/2019/05/noise.jpg": random.Random(7).randbytes(3000),
    "originals/2019/07/page.jpg": b"<!doctype html><html><body>404</body></html>",
    "originals/2019/09/archive.jpg": b"PK\x03\x04" + bytes(200),
    "originals/2019/11/empty.jpg": b"",
}


def seed(rt, objects: dict[str, bytes]) -> None:
    """Objects already in the bucket before the backfill: the upload rule must not process them."""
    router.paused.set()
    try:
        for key, body in objects.items():
            rt.s3.put_object(Bucket=rt.bucket, Key=key, Body=body)
    finally:
        router.paused.clear()


def photos(n: int) -> dict[str, bytes]:
    return {f"originals/20{10 + i % 10:02d}/{1 + i % 12:02d}/{i:04d}.jpg":
            jpeg_bytes((48, 32), color=(i % 256, (7 * i) % 256, 90)) for i in range(n)}


def run(rt, **kwargs) -> dict:
    return run_backfill(local_target(rt), kwargs.pop("prefix", None), max_concurrency=8, poll_s=5, **kwargs)


def test_acceptance_200_with_5_bad_then_resume(runtime):
    rt = runtime
    seed(rt, {**photos(195), **BAD})
    catalog = Catalog(rt.table)

    first = run(rt)
    assert (first["status"], first["processed"], first["skipped"], first["failed"]) == ("SUCCEEDED", 195, 0, 5)
    assert sorted(f["key"] for f in first["failures"]) == sorted(BAD)
    failed = {r.key: r.error for r in catalog.list_failed()}
    assert set(failed) == set(BAD)  # in the catalog's failed index, with their reasons
    assert "zero-byte" in failed["originals/2019/11/empty.jpg"]
    assert all(err.startswith("UnsupportedFormat") for err in failed.values())

    second = run(rt)
    assert (second["status"], second["processed"], second["skipped"], second["failed"]) == ("SUCCEEDED", 0, 200, 0)
    assert second["expected_skips"] == 200
    assert second["skips"] == {"already processed": 195, "already failed": 5}

    gone = sorted(photos(195))[10:13]
    for key in gone:
        catalog.delete_photo(key)
    third = run(rt)
    assert (third["processed"], third["skipped"], third["failed"]) == (3, 197, 0)
    redone = [k for k in photos(195) if catalog.get_photo(k).execution in third["executions"]]
    assert sorted(redone) == gone

    # status of a finished run: what was saved at its end
    assert run_status(local_target(rt), third["run"])["processed"] == 3


def test_retry_failed_and_changed_objects(runtime):
    rt = runtime
    seed(rt, {**photos(4), "originals/2019/03/notes.jpg": BAD["originals/2019/03/notes.jpg"]})
    assert run(rt)["failed"] == 1
    # a photo replaced with different content is redone; the failed one is kept as failed ...
    seed(rt, {sorted(photos(4))[0]: jpeg_bytes((40, 30), color=(1, 2, 3))})
    again = run(rt)
    assert (again["processed"], again["skipped"], again["failed"]) == (1, 4, 0)
    assert again["skips"] == {"already processed": 3, "already failed": 1}
    # ... until asked: retried (and still failing, recorded again by this run)
    retried = run(rt, retry_failed=True)
    assert (retried["processed"], retried["skipped"], retried["failed"]) == (0, 4, 1)
    # fixed at the source (new content, new ETag): processed without asking
    seed(rt, {"originals/2019/03/notes.jpg": jpeg_bytes((40, 30))})
    fixed = run(rt)
    assert (fixed["processed"], fixed["skipped"], fixed["failed"]) == (1, 4, 0)
    assert Catalog(rt.table).list_failed() == []


@pytest.fixture
def unsaved_runtime(home):
    """persist=False: the local state store cannot save a folder-marker key ("originals/2021/") as a file."""
    from shoebox.local import LocalRuntime

    with LocalRuntime(home, recognizer="none", retry_sleep_scale=0, persist=False) as rt:
        yield rt


def test_bad_inputs_each_get_a_recorded_outcome(unsaved_runtime):
    rt = unsaved_runtime
    mp4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + bytes(4096)
    odd = "originals/2021/02/Ünïcødé name + plus %20 (1) #2 & 'quote'.jpg"
    vanish = "originals/2021/04/vanishes.jpg"
    seed(rt, {
        "originals/2021/01/clip.mp4": mp4,  # stands in for a 2 GB video: classify reads the first 64 KiB only
        odd: jpeg_bytes((40, 30)),
        "originals/2021/03/zero.jpg": b"",
        "originals/2021/": b"",  # a folder marker, as the S3 console makes
        vanish: jpeg_bytes((40, 30)),
    })

    def delete_after_listing(spec, payload):  # unreadable: gone between the listing and its processing
        # CheckDone gets {"item": the Map item, "item_execution": the child's own execution}
        if spec.logical_id == "CheckDoneFunction" and payload["item"].get("key") == vanish:
            rt.s3.delete_object(Bucket=rt.bucket, Key=vanish)

    rt.bridge.interceptors.append(delete_after_listing)
    result = run(rt, prefix="2021/")
    # the vanished photo is not a failure to retry: its run found it deleted and wrote nothing
    assert (result["processed"], result["skipped"], result["failed"]) == (1, 3, 1)
    assert result["skips"] == {"folder marker": 1, "deleted since listed": 1, "SkippedMedia: " + Catalog(
        rt.table).get_photo("originals/2021/01/clip.mp4").error.split(": ", 1)[1]: 1}
    catalog = Catalog(rt.table)
    assert catalog.get_photo(odd).status == "processed"
    assert catalog.get_photo("originals/2021/01/clip.mp4").status == "skipped"
    errors = {f["key"]: f["error"] for f in result["failures"]}
    assert "zero-byte" in errors["originals/2021/03/zero.jpg"]
    assert catalog.get_photo(vanish) is None

    assert run(rt, prefix="originals/1999/")["status"] == "EMPTY"  # an empty prefix: nothing to do, no error


def test_a_listing_longer_than_one_page_is_one_run(runtime):
    # ListObjectsV2 pages hold 1,000 keys; the ItemReader must read them all (moto_patches makes moto do so).
    rt = runtime
    from shoebox.local import router

    router.paused.set()
    try:
        for i in range(1000):  # folder markers: listed, then skipped by CheckDone without touching the photo steps
            rt.s3.put_object(Bucket=rt.bucket, Key=f"originals/2001/{i:04d}/", Body=b"")
    finally:
        router.paused.clear()
    seed(rt, photos(3))
    result = run_backfill(local_target(rt), None, max_concurrency=8, poll_s=5)
    assert len(result["executions"]) == 1
    assert (result["processed"], result["failed"]) == (3, 0)
    assert result["skipped"] == 1000


def test_cli_json_shapes(home, service):
    from shoebox.cli.main import app

    seed(service.runtime, {**photos(6), "originals/2019/03/notes.jpg": BAD["originals/2019/03/notes.jpg"]})
    cli = CliRunner()
    done = cli.invoke(app, ["backfill", "--json"])
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert list(result) == ["run", "status", "processed", "skipped", "failed", "duration_s"]
    # 1 of 7 failed is more than the template's 5 % tolerance: FAILED, as AWS would say (moto ignores it)
    assert (result["status"], result["processed"], result["skipped"], result["failed"]) == ("FAILED", 6, 0, 1)
    assert done.exit_code == 2

    status = cli.invoke(app, ["backfill", "status", result["run"], "--json"])
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout.strip().splitlines()[-1]) == result

    plan = cli.invoke(app, ["backfill", "--plan", "--json"])
    assert plan.exit_code == 0, plan.output
    estimate = json.loads(plan.stdout.strip().splitlines()[-1])
    assert list(estimate) == ["photos", "gigabytes", "duration_s", "max_concurrency", "cost_usd", "recognizer", "modes"]
    assert estimate["photos"] == 7  # measured from the bucket
    assert list(estimate["cost_usd"]) == ["total", "rekognition", "lambda", "stepfunctions", "dynamodb",
                                          "s3_requests", "s3_storage_monthly"]
    given = json.loads(cli.invoke(app, ["backfill", "--plan", "--photos", "60000", "--gigabytes", "200",
                                        "--json"]).stdout)
    assert (given["photos"], given["max_concurrency"], given["cost_usd"]["total"]) == (60000, 16, 148.56)
    assert given["recognizer"] == "rekognition" and given["modes"]["rekognition"]["total"] == 148.56
    assert given["modes"]["hybrid"]["total"] <= 72 and given["modes"]["local"]["total"] < 10
    hybrid = json.loads(cli.invoke(app, ["backfill", "--plan", "--photos", "60000", "--gigabytes", "200",
                                         "--recognizer", "hybrid", "--json"]).stdout)
    assert hybrid["cost_usd"]["total"] == given["modes"]["hybrid"]["total"]

    bad = cli.invoke(app, ["backfill", "--prefix", "thumbnails/"])
    assert bad.exit_code == 1
