"""Pure: execution history -> the console-like views."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from shoebox import executions as views

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def ev(i: int, etype: str, ms: int, **details) -> dict:
    return {"id": i, "type": etype, "timestamp": T0 + timedelta(milliseconds=ms), **details}


def test_states_with_a_retry_and_a_caught_failure():
    events = [
        ev(1, "ExecutionStarted", 0),
        ev(2, "TaskStateEntered", 1, stateEnteredEventDetails={"name": "DetectLabels"}),
        ev(3, "TaskScheduled", 2), ev(4, "TaskFailed", 5, taskFailedEventDetails={
            "error": "RecognitionThrottled", "cause": json.dumps({"errorMessage": "Rate exceeded"})}),
        ev(5, "TaskScheduled", 10), ev(6, "TaskSucceeded", 30),
        ev(7, "TaskStateExited", 31, stateExitedEventDetails={"name": "DetectLabels"}),
        ev(8, "TaskStateEntered", 32, stateEnteredEventDetails={"name": "Thumbnail"}),
        ev(9, "TaskScheduled", 33), ev(10, "TaskFailed", 40, taskFailedEventDetails={
            "error": "ImageError", "cause": json.dumps({"errorMessage": "truncated jpeg"})}),
        ev(11, "TaskStateEntered", 41, stateEnteredEventDetails={"name": "RecordFailure"}),
        ev(12, "TaskScheduled", 42), ev(13, "TaskSucceeded", 50),
        ev(14, "TaskStateExited", 51, stateExitedEventDetails={"name": "RecordFailure"}),
        ev(15, "FailStateEntered", 52, stateEnteredEventDetails={"name": "Failed"}),
        ev(16, "ExecutionFailed", 53, executionFailedEventDetails={"error": "ImageError", "cause": "ImageError: truncated jpeg"}),
    ]
    states = views.states(events)
    assert [(s["name"], s["status"], s["retries"]) for s in states] == [
        ("DetectLabels", "succeeded", 1), ("Thumbnail", "failed", 0), ("RecordFailure", "succeeded", 0),
        ("Failed", "failed", 0)]
    assert states[0]["duration_ms"] == 30 and states[0]["error"].startswith("recovered after 1 retry")
    assert states[1]["error"] == "ImageError: truncated jpeg"

    describe = {"executionArn": "arn:x:execution:sm:n", "status": "FAILED", "startDate": T0,
                "stopDate": T0 + timedelta(milliseconds=53), "error": "ImageError", "cause": "ImageError: truncated jpeg",
                "input": json.dumps({"detail": {"object": {"key": "originals/a.jpg"}}})}
    row = views.summary({"describe": describe, "events": events})
    assert row == {"execution": "arn:x:execution:sm:n", "key": "originals/a.jpg", "status": "FAILED",
                   "start": T0.isoformat(), "stop": (T0 + timedelta(milliseconds=53)).isoformat(), "duration_ms": 53,
                   "failed_state": "Thumbnail", "error": "ImageError: truncated jpeg"}


def test_console_url_of_an_execution_in_each_partition():
    arn = "arn:aws:states:eu-west-1:123456789012:execution:shoebox-ProcessPhoto:2020-01-02-a-jpg-0123456789abcdef"
    assert views.console_url(arn) == ("https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1"
                                      f"#/v2/executions/details/{arn}")
    china = arn.replace("arn:aws:", "arn:aws-cn:").replace("eu-west-1", "cn-north-1")
    assert views.console_url(china).startswith("https://cn-north-1.console.amazonaws.cn/states/home?region=cn-north-1#")


def test_an_express_items_log_records_read_like_a_history():
    """A backfill item (Express child) has no GetExecutionHistory: its CloudWatch Logs records stand in."""
    arn = "arn:aws:states:us-east-1:123456789012:express:shoebox-backfill/Photos:1a2b:3c4d"

    def rec(n, etype, details=None, ms=0):
        return json.dumps({"id": str(n), "type": etype, "details": details or {}, "previous_event_id": str(n - 1),
                           "event_timestamp": str(1764700000000 + ms), "execution_arn": arn})

    records = [rec(4, "TaskStateEntered", {"name": "Thumbnail", "input": "{}"}, 100),  # any order
               rec(1, "ExecutionStarted", {"input": "{}"}),
               rec(2, "TaskStateEntered", {"name": "CheckDone", "input": "{}"}, 10),
               rec(3, "TaskStateExited", {"name": "CheckDone", "output": "{}"}, 90),
               rec(5, "TaskFailed", {"error": "ImageError", "cause": json.dumps({"errorMessage": "truncated"})}, 300),
               rec(6, "ExecutionFailed", {"error": "ImageError", "cause": "truncated"}, 400)]
    events = views.logged_events(records)
    assert [e["id"] for e in events] == [1, 2, 3, 4, 5, 6]
    assert events[1]["stateEnteredEventDetails"]["name"] == "CheckDone"
    assert events[4]["taskFailedEventDetails"]["error"] == "ImageError"
    walked = views.states(events)
    assert [(s["name"], s["status"]) for s in walked] == [("CheckDone", "succeeded"), ("Thumbnail", "failed")]
    assert walked[1]["error"] == "ImageError: truncated"
