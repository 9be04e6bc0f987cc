"""Step handlers are thin Powertools handlers: metrics in Lambda, silence in the local runtime."""

from __future__ import annotations

import json

from shoebox.steps.common import step, thumbnail_keys


class Context:
    function_name = "fn"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:fn"
    aws_request_id = "req"


def test_metrics_are_emitted_in_lambda_and_not_locally(monkeypatch, capsys):
    @step("demo")
    def handler(event, context):
        return {"ok": event["key"]}

    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    assert handler({"key": "k"}, Context()) == {"ok": "k"}
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert emf, "no EMF line on stdout"
    assert emf[-1]["demo.invocations"] in (1.0, [1.0])

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    assert handler({"key": "k"}, Context()) == {"ok": "k"}
    assert capsys.readouterr().out == ""


def test_thumbnail_keys_mirror_the_original_under_thumbnails():
    assert thumbnail_keys("originals/2006/10/04/IMG_00001.NEF") == (
        "thumbnails/2006/10/04/IMG_00001.NEF.jpg", "thumbnails/2006/10/04/IMG_00001.NEF.sm.jpg")


def test_removal_takes_only_a_404_for_a_deleted_original(monkeypatch):
    """A 403 on the original (a deny, an unreadable key) must not pass for "deleted": the removal would
    wipe the photo's rows, faces and thumbnails. The role may list the bucket, so a missing key is 404."""
    import boto3
    import pytest
    from botocore.exceptions import ClientError
    from botocore.stub import Stubber

    from shoebox import aws
    from shoebox.steps.remove_photo import still_there

    s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    monkeypatch.setattr(aws, "client", lambda name, **kw: s3)
    request = {"Bucket": "b", "Key": "originals/a.jpg"}
    with Stubber(s3) as stub:
        stub.add_client_error("head_object", "404", http_status_code=404, expected_params=request)
        stub.add_client_error("head_object", "403", http_status_code=403, expected_params=request)
        stub.add_response("head_object", {"ContentLength": 1}, request)
        assert still_there("b", "originals/a.jpg") is False
        with pytest.raises(ClientError):
            still_there("b", "originals/a.jpg")
        assert still_there("b", "originals/a.jpg") is True
