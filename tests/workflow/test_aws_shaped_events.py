"""Events shaped as AWS sends them (issue 17): URL-encoded keys on the failure path, the upload ETag."""

from __future__ import annotations

import json

from aws_events import aws_event
from photo_factory import jpeg_bytes
from typer.testing import CliRunner

from shoebox.catalog import Catalog
from shoebox.executions import event_execution_name
from shoebox.cli.main import app
from shoebox.local import router

KEY = "originals/2020/01/02/my photo (1).jpg"


def test_a_failed_photo_with_an_encoded_key_is_recorded_under_its_key_and_retried(service):
    bad = b"not a photo at all\n" * 10
    rt = service.runtime
    router.paused.set()  # the object is there; the event below is the one that runs the workflow
    try:
        put = rt.s3.put_object(Bucket=rt.bucket, Key=KEY, Body=bad)
    finally:
        router.paused.clear()
    event = aws_event(rt.bucket, KEY, len(bad), put["ETag"].strip('"'))
    assert event["detail"]["object"]["key"] == "originals/2020/01/02/my+photo+%281%29.jpg"
    arn = rt.sfn.start_execution(stateMachineArn=rt.state_machine_arn(), input=json.dumps(event))["executionArn"]
    rt.wait([arn])
    catalog = Catalog(rt.table)
    row = catalog.get_photo(KEY)
    assert row is not None and row.status == "failed" and row.failed_step == "classify"
    assert row.error.startswith("UnsupportedFormat")
    assert catalog.get_photo(event["detail"]["object"]["key"]) is None
    assert [r.key for r in catalog.list_failed()] == [KEY]
    router.paused.set()  # the user fixes the file; `retry` (not the upload) must re-run it
    try:
        rt.s3.put_object(Bucket=rt.bucket, Key=KEY, Body=jpeg_bytes((64, 48)))
    finally:
        router.paused.clear()

    result = CliRunner().invoke(app, ["retry", "--json"])
    assert result.exit_code == 0, result.output
    [retried] = json.loads(result.stdout)
    assert (retried["key"], retried["status"], retried["error"]) == (KEY, "processed", None)


def test_retry_of_a_key_not_in_the_bucket_is_one_line(service):
    result = CliRunner().invoke(app, ["retry", "originals/2020/01/02/nope.jpg"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    assert result.output.strip().splitlines() == ["no such photo: originals/2020/01/02/nope.jpg (not in the bucket)"]


def test_local_s3_events_carry_the_fields_aws_sends(runtime):
    key = "originals/2021/05/06/a.jpg"
    arns = [runtime.upload(jpeg_bytes((64, 48), color=(n, 60, 40)), key) for n in (10, 200)]  # the same key twice
    runtime.wait(arns)
    # the event as the workflow got it (through the upload queue and its starter)
    seen = [json.loads(runtime.sfn.describe_execution(executionArn=arn)["input"]) for arn in arns]
    obj = seen[1]["detail"]["object"]
    head = runtime.s3.head_object(Bucket=runtime.bucket, Key=key)
    assert obj["etag"] == head["ETag"].strip('"') and "eTag" not in obj
    assert obj["size"] == head["ContentLength"] and obj["version-id"] == head["VersionId"]
    # S3's sequencer: a later event of the same key has a greater one, as hex and as a string
    first, second = (e["detail"]["object"]["sequencer"] for e in seen)
    assert int(first, 16) > 0 and int(second, 16) > int(first, 16) and second > first
    assert Catalog(runtime.table).get_photo(key).etag == obj["etag"]
    # readable, deterministic names: the key's date and file name, then a digest of key, ETag and sequencer
    names = [arn.rsplit(":", 1)[1] for arn in arns]
    assert names == [event_execution_name(key, e["detail"]["object"]["etag"], e["detail"]["object"]["sequencer"])
                     for e in seen]
    assert all(n.startswith("2021-05-06-a-jpg-") and len(n) <= 80 for n in names) and names[0] != names[1]


def test_classify_reads_the_etag_when_the_event_has_none(runtime):
    """Robust without the local fix too: an event without an ETag still gives the row S3's ETag."""
    router.paused.set()
    try:
        put = runtime.s3.put_object(Bucket=runtime.bucket, Key="originals/2021/05/07/b.jpg", Body=jpeg_bytes((64, 48)))
    finally:
        router.paused.clear()
    event = aws_event(runtime.bucket, "originals/2021/05/07/b.jpg", 0, "")
    del event["detail"]["object"]["etag"], event["detail"]["object"]["size"]
    arn = runtime.sfn.start_execution(stateMachineArn=runtime.state_machine_arn(), input=json.dumps(event))["executionArn"]
    runtime.wait([arn])
    row = Catalog(runtime.table).get_photo("originals/2021/05/07/b.jpg")
    assert row.status == "processed" and row.etag == put["ETag"].strip('"') and row.size > 0


def test_ingest_40_then_backfill_processes_0_and_skips_40(service, tmp_path):
    for i in range(40):
        (tmp_path / f"p{i:02d}.jpg").write_bytes(jpeg_bytes((48, 32), color=(i * 6, 90, 200 - i * 4)))
    runner = CliRunner()
    ingested = runner.invoke(app, ["ingest", str(tmp_path), "--json"])
    assert ingested.exit_code == 0, ingested.output
    assert sum(json.loads(l)["status"] == "processed" for l in ingested.stdout.splitlines()) == 40
    backfill = runner.invoke(app, ["backfill", "--json"])
    assert backfill.exit_code == 0, backfill.output
    summary = json.loads(backfill.stdout)
    assert (summary["processed"], summary["skipped"], summary["failed"]) == (0, 40, 0)
