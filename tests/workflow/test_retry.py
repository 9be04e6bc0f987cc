"""`shoebox retry` re-runs failed photos without touching their originals."""

from __future__ import annotations

import json

from photo_factory import jpeg_bytes
from typer.testing import CliRunner

from shoebox.cli.main import app


def test_retry_reruns_a_failed_photo_and_it_succeeds_once_the_cause_is_gone(home, tmp_path, service):
    key = "originals/2020/03/03/flaky.jpg"
    rt = service.runtime

    def broken_thumbnailer(spec, payload):
        if spec.logical_id == "ThumbnailFunction":
            raise RuntimeError("disk full")

    rt.bridge.interceptors.append(broken_thumbnailer)
    rt.wait([rt.upload(jpeg_bytes(), key)])
    rt.bridge.interceptors.remove(broken_thumbnailer)  # the cause is gone
    original_etag = rt.s3.head_object(Bucket=rt.bucket, Key=key)["ETag"]
    runner = CliRunner()
    failed = json.loads(runner.invoke(app, ["executions", "--failed", "--json"]).stdout)
    assert [f["key"] for f in failed] == [key] and "disk full" in failed[0]["error"]

    result = runner.invoke(app, ["retry", "--failed", "--json"])
    assert result.exit_code == 0, result.output
    assert [(r["key"], r["status"]) for r in json.loads(result.stdout)] == [(key, "processed")]
    shown = json.loads(runner.invoke(app, ["show", key, "--json"]).stdout)
    assert shown["status"] == "processed" and shown["error"] is None
    assert rt.s3.head_object(Bucket=rt.bucket, Key=key)["ETag"] == original_etag
    versions = rt.s3.list_object_versions(Bucket=rt.bucket, Prefix=key)["Versions"]
    assert len(versions) == 1  # the original was never rewritten
