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
